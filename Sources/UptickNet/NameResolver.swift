package import NIOCore
package import UptickCore

/// Which address families a lookup wants.
package enum AddressFamilies: Sendable, Hashable {
    case ipv4, ipv6, both

    /// Whether `address` is of these families.
    package func includes(_ address: IPAddress) -> Bool {
        switch (self, address) {
        case (.both, _), (.ipv4, .v4), (.ipv6, .v6): true
        default: false
        }
    }
}

/// Turns a host name into addresses. ``DNSResolver`` in production; tests also answer from a table.
package protocol NameResolver: Sendable {
    /// The addresses of `name` in `families`, IPv4 first; empty when the name does not exist or has no such
    /// addresses. Throws when the lookup fails (no answer, a server failure) or `deadline` passes first.
    func lookup(_ name: String, families: AddressFamilies, deadline: NIODeadline) async throws(CheckFailure) -> [IPAddress]
}
