/// Which addresses uptick may connect to. The default, ``publicOnly``, allows global unicast only.
///
/// A verdict is taken on the address actually connected to, after resolution, so no spelling of a URL
/// changes it. Order: an IPv6 address that carries an IPv4 address is judged by that IPv4 address too;
/// the operator's deny rules win; then the operator's allow rules (exceptions, optionally for one
/// port); then the special-purpose ranges (docs/security.md cites the IANA registries).
public struct AddressPolicy: Sendable, Hashable {
    /// An operator rule: a range, optionally restricted to one port.
    public struct Rule: Sendable, Hashable, CustomStringConvertible {
        public let range: CIDR
        public let port: Int?

        public init(_ range: CIDR, port: Int? = nil) {
            self.range = range
            self.port = port
        }

        /// `CIDR` or `CIDR:PORT`, e.g. `10.0.0.0/8`, `192.168.1.10/32:8080`, `fd00::/8`.
        public init?(_ text: String) {
            var rangeText = Substring(text)
            var port: Int?
            if let slash = text.firstIndex(of: "/"), let colon = text[slash...].firstIndex(of: ":") {
                guard let value = Int(text[text.index(after: colon)...]), (1...65535).contains(value) else { return nil }
                port = value
                rangeText = text[..<colon]
            }
            guard let range = CIDR(String(rangeText)) else { return nil }
            self.init(range, port: port)
        }

        func matches(_ address: IPAddress, port: Int) -> Bool {
            range.contains(address) && (self.port == nil || self.port == port)
        }

        public var description: String { port.map { "\(range):\($0)" } ?? range.description }
    }

    /// The result of judging one address.
    public enum Verdict: Sendable, Hashable {
        case allowed
        /// Denied, with the range or rule that denied it (`loopback (127.0.0.0/8)`).
        case denied(String)
    }

    /// Exceptions: addresses allowed although special-purpose (a self-hoster's LAN).
    public var allow: [Rule]
    /// Extra ranges to deny; they win over `allow`.
    public var deny: [Rule]

    public init(allow: [Rule] = [], deny: [Rule] = []) {
        self.allow = allow
        self.deny = deny
    }

    /// Public unicast only.
    public static let publicOnly = AddressPolicy()

    /// The verdict on connecting to `address` at `port`.
    public func verdict(_ address: IPAddress, port: Int) -> Verdict {
        // The address itself and, for IPv6 forms that carry one, its IPv4 address (no array: this runs per check).
        let embedded = address.embeddedIPv4.map(IPAddress.v4)
        func denyRule(_ candidate: IPAddress) -> Rule? { deny.first { $0.matches(candidate, port: port) } }
        func allowed(_ candidate: IPAddress) -> Bool { allow.contains { $0.matches(candidate, port: port) } }
        if let rule = denyRule(address) ?? embedded.flatMap(denyRule) { return .denied("operator rule \(rule)") }
        if allowed(address) || embedded.map(allowed) == true { return .allowed }
        if let reason = Self.specialPurpose(address) ?? embedded.flatMap(Self.specialPurpose) { return .denied(reason) }
        return .allowed
    }

    /// The name of the special-purpose or non-global range holding `address`, or `nil` if it is public unicast.
    static func specialPurpose(_ address: IPAddress) -> String? {
        switch address {
        case .v4:
            return specialIPv4.first { $0.range.contains(address) }.map { "\($0.name) (\($0.range))" }
        case .v6(let high, _):
            if address.embeddedIPv4 != nil, high >> 48 != 0x2002 { return nil }  // judged by its IPv4 address
            if let named = specialIPv6.first(where: { $0.range.contains(address) }) { return "\(named.name) (\(named.range))" }
            return high >> 61 == 0b001 ? nil : "not global unicast (outside 2000::/3)"
        }
    }

    private static func range(_ text: String, _ name: String) -> (range: CIDR, name: String) {
        (CIDR(text)!, name)
    }

    /// IANA IPv4 Special-Purpose Address Registry entries that are not globally reachable, plus multicast.
    static let specialIPv4 = [
        range("0.0.0.0/8", "this network"),
        range("10.0.0.0/8", "private"),
        range("100.64.0.0/10", "shared address space (CGNAT)"),
        range("127.0.0.0/8", "loopback"),
        range("169.254.0.0/16", "link-local (cloud metadata)"),
        range("172.16.0.0/12", "private"),
        range("192.0.0.0/24", "IETF protocol assignments"),
        range("192.0.2.0/24", "documentation (TEST-NET-1)"),
        range("192.88.99.0/24", "deprecated 6to4 relay anycast"),
        range("192.168.0.0/16", "private"),
        range("198.18.0.0/15", "benchmarking"),
        range("198.51.100.0/24", "documentation (TEST-NET-2)"),
        range("203.0.113.0/24", "documentation (TEST-NET-3)"),
        range("224.0.0.0/4", "multicast"),
        range("240.0.0.0/4", "reserved"),
        range("255.255.255.255/32", "limited broadcast"),
    ]

    /// IANA IPv6 Special-Purpose Address Registry entries inside 2000::/3 that are not globally reachable,
    /// plus the blocks outside 2000::/3 worth naming. Everything else outside 2000::/3 is denied too.
    static let specialIPv6 = [
        range("::1/128", "loopback"),
        range("::/128", "unspecified"),
        range("64:ff9b:1::/48", "local-use NAT64"),
        range("100::/64", "discard-only"),
        range("2001::/32", "Teredo"),
        range("2001::/23", "IETF protocol assignments"),
        range("2001:db8::/32", "documentation"),
        range("3fff::/20", "documentation"),
        range("5f00::/16", "segment routing (SRv6) SIDs"),
        range("fc00::/7", "unique-local (includes fd00:ec2::254, cloud metadata)"),
        range("fe80::/10", "link-local"),
        range("fec0::/10", "site-local (deprecated)"),
        range("ff00::/8", "multicast"),
    ]
}
