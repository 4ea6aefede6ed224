import Foundation
package import NIOCore

/// Where and how uptick's resolver asks: the nameservers, and how long it waits for each and how often it
/// tries, as `/etc/resolv.conf` says (resolv.conf(5)), plus the names of `/etc/hosts`. Search domains and
/// `ndots` are read past on purpose: a customer's name is always queried as written, fully qualified, so
/// `db` never becomes `db.our-internal-domain`.
package struct ResolverConfiguration: Sendable {
    /// The nameservers, tried in order (at most ``maxNameservers``, as glibc).
    package var nameservers: [SocketAddress]
    /// How long one query waits for an answer from one server (resolv.conf's `timeout`, glibc's default 5 s).
    package var timeout: Duration
    /// Rounds over all nameservers (resolv.conf's `attempts`, default 2).
    package var attempts: Int
    /// Names from the hosts file, lower case, without a final dot.
    package var hosts: [String: [IPAddress]]
    /// Lookups of names under one zone (see ``DNSResolver/zone(of:)``) that may wait on the network at once;
    /// more wait for a turn within their own check's deadline.
    package var lookupsPerZone: Int
    /// Answers kept in the cache; the oldest entries go first when it is full.
    package var cacheEntries: Int

    package static let maxNameservers = 3
    package static let defaultLookupsPerZone = 32
    package static let defaultCacheEntries = 100_000

    package init(nameservers: [SocketAddress], timeout: Duration = .seconds(5), attempts: Int = 2, hosts: [String: [IPAddress]] = [:],
                lookupsPerZone: Int = defaultLookupsPerZone, cacheEntries: Int = defaultCacheEntries) {
        self.nameservers = Array(nameservers.prefix(Self.maxNameservers))
        self.timeout = timeout
        self.attempts = max(1, attempts)
        self.hosts = hosts
        self.lookupsPerZone = max(1, lookupsPerZone)
        self.cacheEntries = max(1, cacheEntries)
    }

    /// The system's configuration: `/etc/resolv.conf` and `/etc/hosts`. With no nameserver line, glibc's
    /// default (the local host, port 53) applies.
    package static func system(resolvConf: String = "/etc/resolv.conf", hostsFile: String = "/etc/hosts") -> ResolverConfiguration {
        let conf = (try? String(contentsOfFile: resolvConf, encoding: .utf8)) ?? ""
        let hosts = (try? String(contentsOfFile: hostsFile, encoding: .utf8)) ?? ""
        var configuration = parse(resolvConf: conf)
        configuration.hosts = parse(hosts: hosts)
        return configuration
    }

    /// Reads the lines of resolv.conf(5) that matter here: `nameserver ADDRESS` and `options timeout:N attempts:N`.
    static func parse(resolvConf text: String) -> ResolverConfiguration {
        var servers: [SocketAddress] = []
        var timeout = 5, attempts = 2
        for line in text.split(whereSeparator: \.isNewline) {
            let words = line.split(whereSeparator: { $0 == " " || $0 == "\t" })
            guard let keyword = words.first, !keyword.hasPrefix("#"), !keyword.hasPrefix(";") else { continue }
            switch keyword {
            case "nameserver" where words.count >= 2:
                if let address = try? SocketAddress(ipAddress: String(words[1]), port: 53) { servers.append(address) }
            case "options":
                for option in words.dropFirst() {
                    let parts = option.split(separator: ":", maxSplits: 1)
                    guard parts.count == 2, let value = Int(parts[1]) else { continue }
                    if parts[0] == "timeout" { timeout = min(max(value, 1), 30) }
                    if parts[0] == "attempts" { attempts = min(max(value, 1), 5) }
                }
            default:
                continue
            }
        }
        if servers.isEmpty { servers = [try! SocketAddress(ipAddress: "127.0.0.1", port: 53)] }
        return ResolverConfiguration(nameservers: servers, timeout: .seconds(timeout), attempts: attempts)
    }

    /// hosts(5): an address, then names; `#` starts a comment. A name listed twice keeps every address, in order.
    static func parse(hosts text: String) -> [String: [IPAddress]] {
        var hosts: [String: [IPAddress]] = [:]
        for line in text.split(whereSeparator: \.isNewline) {
            let content = line.split(separator: "#", maxSplits: 1, omittingEmptySubsequences: false).first ?? ""
            let words = content.split(whereSeparator: { $0 == " " || $0 == "\t" })
            // Zone ids (fe80::1%eth0) are dropped with the address: such an address is denied anyway.
            guard words.count >= 2, let address = IPAddress(String(words[0])) else { continue }
            for name in words.dropFirst() {
                var key = name.lowercased()
                if key.hasSuffix(".") { key.removeLast() }
                if hosts[key]?.contains(address) != true { hosts[key, default: []].append(address) }
            }
        }
        return hosts
    }
}
