import NIOCore
import UptickCore
import UptickNet

extension AddressPolicy {
    /// Public-only, plus 127.0.0.1 (where the tests' allowed servers listen). The rest of loopback,
    /// 127.0.0.2 and up, stays denied: that is where the tests put the servers nothing may reach.
    public static let testLoopback = AddressPolicy(allow: [Rule(CIDR("127.0.0.1/32")!)])
}

/// The tests' resolver: names from a table (`localhost` is 127.0.0.1 and ::1), numbers through the real
/// `getaddrinfo` with `AI_NUMERICHOST` (so every legacy numeric spelling parses as it would in production),
/// and never a DNS query: a test cannot send a packet off loopback through name resolution.
public struct HermeticResolver: Resolver {
    let names: [String: [String]]
    let numeric = SystemResolver(numericHostsOnly: true)

    public init(_ names: [String: [String]] = [:]) {
        self.names = names.merging(["localhost": ["127.0.0.1", "::1"]]) { mine, _ in mine }
    }

    public func resolve(host: String, port: Int) async throws(CheckFailure) -> [SocketAddress] {
        if let answers = names[host.lowercased()] {
            return answers.compactMap { try? SocketAddress(ipAddress: $0, port: port) }
        }
        return try await numeric.resolve(host: host, port: port)
    }
}

extension Network {
    /// A network under ``AddressPolicy/testLoopback`` that never queries DNS.
    public static let testLoopback = Network(policy: .testLoopback, resolver: HermeticResolver())

    /// A network under `policy` that never queries DNS.
    public static func hermetic(_ policy: AddressPolicy) -> Network {
        Network(policy: policy, resolver: HermeticResolver())
    }
}
