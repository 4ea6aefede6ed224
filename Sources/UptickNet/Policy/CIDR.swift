/// An address range: an address and a prefix length, like `10.0.0.0/8` or `fc00::/7`.
package struct CIDR: Sendable, Hashable, CustomStringConvertible {
    package let address: IPAddress
    package let prefixLength: Int

    /// `address/prefix`, where host bits beyond the prefix must be zero. A bare address is a /32 or /128.
    package init?(_ text: String) {
        let parts = text.split(separator: "/", omittingEmptySubsequences: false)
        guard (1...2).contains(parts.count), let address = IPAddress(String(parts[0])) else { return nil }
        let width = if case .v4 = address { 32 } else { 128 }
        guard let prefix = parts.count == 2 ? Int(parts[1]) : width, (0...width).contains(prefix) else { return nil }
        self.address = address
        self.prefixLength = prefix
        guard contains(address), Self.masked(address, prefix) == address else { return nil }
    }

    /// `address/prefixLength`; the prefix is clamped to the address family's width.
    package init(_ address: IPAddress, _ prefixLength: Int) {
        self.address = address
        self.prefixLength = prefixLength
    }

    /// Whether `other` is in this range (an IPv4 range never contains an IPv6 address, and back).
    package func contains(_ other: IPAddress) -> Bool {
        switch (address, other) {
        case (.v4, .v4), (.v6, .v6): Self.masked(other, prefixLength) == address
        default: false
        }
    }

    private static func masked(_ address: IPAddress, _ prefix: Int) -> IPAddress {
        switch address {
        case .v4(let value):
            return .v4(prefix == 0 ? 0 : value & ~UInt32(0) << UInt32(32 - prefix))
        case .v6(let high, let low):
            let highMask: UInt64 = prefix >= 64 ? ~0 : (prefix == 0 ? 0 : ~UInt64(0) << UInt64(64 - prefix))
            let lowMask: UInt64 = prefix <= 64 ? 0 : (prefix == 128 ? ~0 : ~UInt64(0) << UInt64(128 - prefix))
            return .v6(high & highMask, low & lowMask)
        }
    }

    package var description: String { "\(address)/\(prefixLength)" }
}
