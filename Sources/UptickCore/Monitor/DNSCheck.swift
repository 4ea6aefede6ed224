import Foundation

/// A validated DNS check: which name, which records, and what the answers must include.
public struct DNSCheck: Sendable, Hashable {
    /// Which address records count.
    public enum Record: String, Sendable, Hashable, CaseIterable {
        case a = "A"
        case aaaa = "AAAA"
        case any = "ANY"
    }

    /// The name asked for.
    public var host: String
    /// Which records are asked for.
    public var record: Record
    /// Addresses (as written, canonical) that must all be among the answers; empty: any answer will do.
    public var expect: [String]

    /// The DNS check of `host` under `settings`; bad settings are an invalid monitor.
    public init(host: String, settings: MonitorSettings) throws(CheckFailure) {
        self.host = try Endpoint.validHost(host)
        guard let record = Record(rawValue: (settings.dnsRecord ?? "ANY").uppercased()) else {
            throw CheckFailure(.invalidMonitor, "dns_record must be A, AAAA or ANY, got '\(settings.dnsRecord ?? "")'")
        }
        self.record = record
        self.expect = try (settings.dnsExpect ?? []).map { text throws(CheckFailure) in
            guard let canonical = Self.canonical(text) else {
                throw CheckFailure(.invalidMonitor, "dns_expect entry '\(text)' is not an IPv4 or IPv6 address")
            }
            return canonical
        }
    }

    /// The canonical text of an IP address (`inet_pton` then `inet_ntop`), or `nil`.
    public static func canonical(_ text: String) -> String? {
        var buffer = [CChar](repeating: 0, count: Int(INET6_ADDRSTRLEN))
        var v4 = in_addr()
        var v6 = in6_addr()
        if inet_pton(AF_INET, text, &v4) == 1 {
            inet_ntop(AF_INET, &v4, &buffer, socklen_t(buffer.count))
        } else if inet_pton(AF_INET6, text, &v6) == 1 {
            inet_ntop(AF_INET6, &v6, &buffer, socklen_t(buffer.count))
        } else {
            return nil
        }
        return String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }
}
