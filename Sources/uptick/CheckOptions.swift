import ArgumentParser
import UptickApp
import UptickCore

/// How one check is made and judged: shared by `monitor add` and `check`.
struct CheckOptions: ParsableArguments {
    @Option(help: "Deadline of one check, at most 10s.") var timeout = "10s"
    @Option(help: "Acceptable HTTP status codes, e.g. 200-299,301.") var expectStatus: String?
    @Option(help: "Text that must appear in the first 10 KB of the body.") var keyword: String?
    @Option(help: "Text that must not appear in the first 10 KB of the body.") var keywordAbsent: String?
    @Option(help: "Slower than this is degraded, e.g. 2s.") var degradedAfter: String?
    @Option(help: "HTTP method (default GET).") var method: String?
    @Option(help: "Request header 'Name: value' (repeatable).") var header: [String] = []
    @Option(help: "Request body.") var body: String?
    @Option(help: "Echo requests per ping check, 1-10 (default 3).") var pingCount: Int?
    @Option(help: "Validate the TLS certificate chain and host name (default true).") var tlsVerify: Bool?
    @Option(help: "Days before certificate expiry that count as expiring (default 14; 0 never).") var tlsExpiryDays: Int?
    @Option(help: "degraded (default) or down, for an expiring certificate.") var tlsExpiryStatus: String?
    @Flag(help: "Port checks: also make a TLS handshake.") var tls = false
    @Option(help: "DNS check: A, AAAA or ANY (default).") var dnsRecord: String?
    @Option(help: "DNS check: an address the answers must include (repeatable).") var dnsExpect: [String] = []

    func definition(type: String, target: String) -> MonitorDefinition {
        var definition = MonitorDefinition(type: type, target: target)
        definition.timeout = timeout
        definition.expectStatus = expectStatus
        definition.degradedAfter = degradedAfter
        definition.headers = header
        definition.settings = MonitorSettings(
            method: method, body: body, keyword: keyword, keywordAbsent: keywordAbsent, pingCount: pingCount,
            dnsRecord: dnsRecord, dnsExpect: dnsExpect.isEmpty ? nil : dnsExpect, tls: tls ? true : nil,
            tlsVerify: tlsVerify, tlsExpiryDays: tlsExpiryDays, tlsExpiryStatus: tlsExpiryStatus
        )
        return definition
    }
}
