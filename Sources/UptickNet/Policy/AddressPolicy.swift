/// Which addresses uptick may connect to. The default, ``publicOnly``, allows global unicast only.
///
/// A verdict is taken on the address actually connected to, after resolution, so no spelling of a URL
/// changes it. Order: the operator's deny rules win; then every special-purpose range is denied unless an
/// allow rule covers it; then the runner's own interface addresses are denied (a public address on eth0
/// reaches services listening on 0.0.0.0) unless an allow rule names that very address. An IPv6 address that
/// carries an IPv4 address (mapped, compatible, NAT64 with the well-known or a configured prefix, 6to4) is
/// judged as both: each must pass, so an allow rule on the outer form cannot let in an internal IPv4.
package struct AddressPolicy: Sendable, Hashable {
    /// An operator rule: a range, optionally restricted to one port.
    package struct Rule: Sendable, Hashable, CustomStringConvertible {
        package let range: CIDR
        package let port: Int?

        package init(_ range: CIDR, port: Int? = nil) {
            self.range = range
            self.port = port
        }

        /// `CIDR` or `CIDR:PORT`, e.g. `10.0.0.0/8`, `192.168.1.10/32:8080`, `fd00::/8`.
        package init?(_ text: String) {
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

        /// A rule for one address (a /32 or /128), the only kind that opens the runner's own addresses.
        var isSingleAddress: Bool {
            if case .v4 = range.address { range.prefixLength == 32 } else { range.prefixLength == 128 }
        }

        package var description: String { port.map { "\(range):\($0)" } ?? range.description }
    }

    /// The result of judging one address.
    package enum Verdict: Sendable, Hashable {
        case allowed
        /// Denied, with the kind of range that denied it (`loopback (127.0.0.0/8)`). Operator rules are not
        /// named: the text reaches the customer.
        case denied(String)
    }

    /// Exceptions: addresses allowed although special-purpose (a self-hoster's LAN).
    package var allow: [Rule]
    /// Extra ranges to deny; they win over `allow`.
    package var deny: [Rule]
    /// NAT64 prefixes of the network uptick runs in (RFC 6052: /32, /40, /48, /56, /64 or /96), besides the
    /// well-known 64:ff9b::/96: an address under one is judged by the IPv4 address it embeds too.
    package var nat64Prefixes: [CIDR]

    package init(allow: [Rule] = [], deny: [Rule] = [], nat64Prefixes: [CIDR] = []) {
        self.allow = allow
        self.deny = deny
        self.nat64Prefixes = nat64Prefixes
    }

    /// Public unicast only.
    package static let publicOnly = AddressPolicy()

    /// The prefix lengths RFC 6052 §2.2 defines.
    package static let nat64PrefixLengths: Set<Int> = [32, 40, 48, 56, 64, 96]

    /// The verdict on connecting to `address` at `port`; `local` holds the runner's own interface addresses.
    package func verdict(_ address: IPAddress, port: Int, local: Set<IPAddress> = []) -> Verdict {
        // The address itself and, for IPv6 forms that carry one, its IPv4 address (no array: this runs per check).
        let embedded = embeddedIPv4(address).map(IPAddress.v4)
        func denied(_ candidate: IPAddress) -> Bool { deny.contains { $0.matches(candidate, port: port) } }
        func allowed(_ candidate: IPAddress) -> Bool { allow.contains { $0.matches(candidate, port: port) } }
        func own(_ candidate: IPAddress) -> Bool {
            local.contains(candidate) && !allow.contains { $0.isSingleAddress && $0.matches(candidate, port: port) }
        }
        func special(_ candidate: IPAddress) -> String? {
            guard let reason = specialPurpose(candidate), !allowed(candidate) else { return nil }
            return reason
        }
        if denied(address) || embedded.map(denied) == true { return .denied("denied by an operator rule") }
        if let reason = special(address) ?? embedded.flatMap(special) { return .denied(reason) }
        if own(address) || embedded.map(own) == true { return .denied("an address of the runner itself") }
        return .allowed
    }

    /// The IPv4 address an IPv6 address carries and that a packet to it would effectively reach: IPv4-mapped
    /// `::ffff:a.b.c.d`, IPv4-compatible `::a.b.c.d`, NAT64 under 64:ff9b::/96 or a configured prefix, and
    /// 6to4 `2002:aabb:ccdd::`. `nil` for IPv4 addresses and other IPv6 addresses.
    package func embeddedIPv4(_ address: IPAddress) -> UInt32? {
        if let embedded = address.embeddedIPv4 { return embedded }
        guard case .v6(let high, let low) = address else { return nil }
        for prefix in nat64Prefixes where prefix.contains(address) {
            // RFC 6052 §2.2: the IPv4 address follows the prefix, skipping bits 64-71 (the "u" octet).
            let bits = (high, low)
            switch prefix.prefixLength {
            case 32: return UInt32(truncatingIfNeeded: bits.0)
            case 40: return UInt32(truncatingIfNeeded: bits.0 & 0xFF_FFFF) << 8 | UInt32(truncatingIfNeeded: bits.1 >> 48 & 0xFF)
            case 48: return UInt32(truncatingIfNeeded: bits.0 & 0xFFFF) << 16 | UInt32(truncatingIfNeeded: bits.1 >> 40 & 0xFFFF)
            case 56: return UInt32(truncatingIfNeeded: bits.0 & 0xFF) << 24 | UInt32(truncatingIfNeeded: bits.1 >> 32 & 0xFF_FFFF)
            case 64: return UInt32(truncatingIfNeeded: bits.1 >> 24)
            case 96: return UInt32(truncatingIfNeeded: bits.1)
            default: continue
            }
        }
        return nil
    }

    /// The name of the special-purpose or non-global range holding `address`, or `nil` if it is public unicast.
    func specialPurpose(_ address: IPAddress) -> String? {
        switch address {
        case .v4:
            return Self.specialIPv4.first { $0.range.contains(address) }.map { "\($0.name) (\($0.range))" }
        case .v6(let high, let low):
            // IPv4-compatible addresses are deprecated (RFC 4291 §2.5.5.1): no host should be reached by one.
            if high == 0, low >> 32 == 0, address.embeddedIPv4 != nil { return "IPv4-compatible (::/96, deprecated)" }
            if embeddedIPv4(address) != nil, high >> 48 != 0x2002 { return nil }  // judged by its IPv4 address
            if let named = Self.specialIPv6.first(where: { $0.range.contains(address) }) { return "\(named.name) (\(named.range))" }
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
