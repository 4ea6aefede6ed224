import NIOCore
package import UptickNet

/// Builds the guarded network from the operator's options and the environment: the address policy
/// (`--allow-cidr`, `--deny-cidr`, `--nat64-prefix`) and the resolver (`--nameserver`, `--dns-lookups-per-zone`).
package enum Policy {
    /// Public-only plus the operator's rules: `allow` and `deny` entries, each `CIDR` or `CIDR:PORT`, and NAT64
    /// prefixes besides the well-known one.
    package static func make(allow: [String], deny: [String], nat64: [String] = []) throws(UptickError) -> AddressPolicy {
        func rules(_ values: [String], _ flag: String) throws(UptickError) -> [AddressPolicy.Rule] {
            try values.map { text throws(UptickError) in
                guard let rule = AddressPolicy.Rule(text) else {
                    throw UptickError("\(flag) '\(text)' is not an address range like 10.0.0.0/8 or 192.168.1.5/32:8080")
                }
                return rule
            }
        }
        let prefixes = try nat64.map { text throws(UptickError) in
            guard let prefix = CIDR(text), case .v6 = prefix.address, AddressPolicy.nat64PrefixLengths.contains(prefix.prefixLength) else {
                throw UptickError("--nat64-prefix '\(text)' is not an IPv6 prefix of length 32, 40, 48, 56, 64 or 96")
            }
            return prefix
        }
        return AddressPolicy(allow: try rules(allow, "--allow-cidr"), deny: try rules(deny, "--deny-cidr"), nat64Prefixes: prefixes)
    }

    /// The resolver configuration: the system's (`/etc/resolv.conf`, `/etc/hosts`), with `nameservers`
    /// (`IP`, `IP:PORT` or `[IPv6]:PORT`) in place of resolv.conf's.
    package static func resolver(nameservers: [String], lookupsPerZone: Int?) throws(UptickError) -> ResolverConfiguration {
        var configuration = ResolverConfiguration.system()
        let servers = try nameservers.map { text throws(UptickError) in
            guard let address = nameserver(text) else {
                throw UptickError("--nameserver '\(text)' is not an address like 10.0.0.2, 127.0.0.1:5353 or [::1]:53")
            }
            return address
        }
        if !servers.isEmpty { configuration.nameservers = Array(servers.prefix(ResolverConfiguration.maxNameservers)) }
        if let lookupsPerZone {
            guard (1...10_000).contains(lookupsPerZone) else { throw UptickError("--dns-lookups-per-zone must be between 1 and 10000") }
            configuration.lookupsPerZone = lookupsPerZone
        }
        return configuration
    }

    static func nameserver(_ text: String) -> SocketAddress? {
        var host = Substring(text), port = 53
        if text.hasPrefix("["), let close = text.firstIndex(of: "]") {
            host = text[text.index(after: text.startIndex)..<close]
            let rest = text[text.index(after: close)...]
            if !rest.isEmpty {
                guard rest.hasPrefix(":"), let value = Int(rest.dropFirst()) else { return nil }
                port = value
            }
        } else if text.filter({ $0 == ":" }).count == 1, let colon = text.firstIndex(of: ":") {
            guard let value = Int(text[text.index(after: colon)...]) else { return nil }
            host = text[..<colon]
            port = value
        }
        guard (1...65535).contains(port), IPAddress(String(host)) != nil else { return nil }
        return try? SocketAddress(ipAddress: String(host), port: port)
    }

    /// One line for the start-up log, so an allowed internal range is never a surprise.
    package static func describe(_ policy: AddressPolicy) -> String? {
        guard !policy.allow.isEmpty || !policy.deny.isEmpty || !policy.nat64Prefixes.isEmpty else { return nil }
        var parts = ["address policy: public unicast only"]
        if !policy.allow.isEmpty { parts.append("ALSO ALLOWING \(policy.allow.map(\.description).joined(separator: ", "))") }
        if !policy.deny.isEmpty { parts.append("also denying \(policy.deny.map(\.description).joined(separator: ", "))") }
        if !policy.nat64Prefixes.isEmpty { parts.append("NAT64 prefixes \(policy.nat64Prefixes.map(\.description).joined(separator: ", "))") }
        return parts.joined(separator: "; ")
    }
}
