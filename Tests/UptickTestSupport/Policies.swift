package import NIOCore
package import UptickCore
package import UptickNet

extension AddressPolicy {
    /// Public-only, plus 127.0.0.1 (where the tests' allowed servers listen). The rest of loopback,
    /// 127.0.0.2 and up, stays denied: that is where the tests put the servers nothing may reach.
    package static let testLoopback = AddressPolicy(allow: [Rule(CIDR(.v4(0x7F00_0001), 32))])
}

/// The tests' resolver: names from a table (`localhost` is 127.0.0.1 and ::1), every other name unknown, and
/// never a DNS query: a test cannot send a packet off loopback through name resolution. (Numeric hosts never
/// reach a resolver: ``Network`` parses them itself.)
package struct HermeticResolver: NameResolver {
    let names: [String: [IPAddress]]

    package init(_ names: [String: [String]] = [:]) {
        self.names = names.merging(["localhost": ["127.0.0.1", "::1"]]) { mine, _ in mine }.mapValues { $0.compactMap { IPAddress($0) } }
    }

    package func lookup(_ name: String, families: AddressFamilies, deadline: NIODeadline) async throws(CheckFailure) -> [IPAddress] {
        (names[name.lowercased()] ?? []).filter(families.includes)
    }
}

extension Network {
    /// A network under ``AddressPolicy/testLoopback`` that never queries DNS.
    package static let testLoopback = Network(policy: .testLoopback, resolver: HermeticResolver())

    /// A network under `policy` that never queries DNS.
    package static func hermetic(_ policy: AddressPolicy) -> Network {
        Network(policy: policy, resolver: HermeticResolver())
    }
}
