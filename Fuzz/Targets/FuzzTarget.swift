import Foundation
import UptickApp
import UptickCore
import UptickLibSQL
import UptickNet

/// The parsers that read bytes someone else chose, each as a function of arbitrary bytes that must neither crash,
/// hang nor break the property stated beside it. `uptick-fuzz` drives them under libFuzzer (docs/fuzzing.md);
/// the test suite replays the committed corpus (`Fuzz/corpus/<target>/`) through the same functions.
package enum FuzzTarget: String, CaseIterable, Sendable {
    /// A stored monitor (`monitors.type`, `.target`, `.settings`) validated into a check: URL and host
    /// parsing and the settings JSON. A valid check can only put clean bytes on the wire.
    case monitor
    /// `host:port` and `[ipv6]:port`: a parsed endpoint prints back to itself.
    case endpoint
    /// A monitors YAML file, as `uptick import` reads it.
    case monitorFile = "monitor-file"
    /// The runner's YAML config file.
    case config
    /// An HTTP/1.x response from a monitored server: the same bytes in any split give the same result.
    case httpResponse = "http-response"
    /// A libSQL server's answer to a pipeline (Hrana over HTTP): rows for every statement, or an error.
    case hrana
    /// A DNS response from a name server.
    case dns

    /// Runs one input; the properties it broke (empty when none).
    package func run(_ bytes: [UInt8]) -> [String] {
        switch self {
        case .monitor: return Self.monitor(bytes)
        case .endpoint: return Self.endpoint(String(decoding: bytes, as: UTF8.self))
        case .monitorFile:
            _ = try? MonitorFile.parse(String(decoding: bytes, as: UTF8.self))
            return []
        case .config:
            _ = try? Settings.parse(String(decoding: bytes, as: UTF8.self), path: "fuzz.yaml")
            return []
        case .httpResponse: return Self.httpResponse(bytes)
        case .hrana: return Self.hrana(bytes)
        case .dns:
            _ = DNSMessage(parsing: bytes)
            return []
        }
    }

    /// The first byte picks the type; the rest is the target, a newline, and the settings JSON.
    private static func monitor(_ bytes: [UInt8]) -> [String] {
        guard let first = bytes.first else { return [] }
        let types = ["http", "port", "ping", "dns"]
        let text = String(decoding: bytes.dropFirst(), as: UTF8.self)
        let parts = text.split(separator: "\n", maxSplits: 1, omittingEmptySubsequences: false)
        let monitor = Monitor(
            id: 1, name: "fuzz", type: types[Int(first) % types.count], target: String(parts[0]), intervalSeconds: 60,
            timeoutMilliseconds: 5_000, settings: parts.count > 1 ? String(parts[1]) : "{}"
        )
        guard let spec = try? CheckSpec(monitor: monitor) else { return [] }
        var broken: [String] = []
        switch spec.kind {
        case .http(let check):
            if !["http", "https"].contains(check.scheme) { broken.append("scheme \(check.scheme)") }
            broken += hostProblems(check.host, port: check.port)
            if !check.path.hasPrefix("/") || !clean(check.path, allowSpace: false) { broken.append("path \(check.path.debugDescription)") }
            if check.method.isEmpty || !check.method.utf8.allSatisfy(isToken) { broken.append("method \(check.method.debugDescription)") }
            for header in check.headers {
                if header.name.isEmpty || !header.name.utf8.allSatisfy(isToken) { broken.append("header name \(header.name.debugDescription)") }
                if !clean(header.value, allowSpace: true) { broken.append("header value \(header.value.debugDescription)") }
            }
        case .port(let endpoint, _): broken += hostProblems(endpoint.host, port: endpoint.port)
        case .ping(let host, _): broken += hostProblems(host, port: 1)
        case .dns(let check): broken += hostProblems(check.host, port: 53)
        }
        return broken
    }

    private static func endpoint(_ text: String) -> [String] {
        guard let endpoint = try? Endpoint(parsing: text) else { return [] }
        var broken = hostProblems(endpoint.host, port: endpoint.port)
        if (try? Endpoint(parsing: endpoint.description)) != endpoint { broken.append("\(endpoint) does not parse back to itself") }
        return broken
    }

    /// A host a check may connect to: a lower-case name or address of at most 253 bytes, without a byte that could
    /// end a line or a header; an address literal is judged by the policy and prints as an address that parses back.
    private static func hostProblems(_ host: String, port: Int) -> [String] {
        var broken: [String] = []
        if host.isEmpty || host.utf8.count > 253 || host != host.lowercased() || !clean(host, allowSpace: false) {
            broken.append("host \(host.debugDescription)")
        }
        if !(1...65_535).contains(port) { broken.append("port \(port)") }
        if let address = IPAddress(numericHost: host) {
            _ = AddressPolicy.publicOnly.verdict(address, port: port)
            if IPAddress(numericHost: address.description) != address { broken.append("address \(address) does not parse back") }
        }
        return broken
    }

    /// No control byte (and no space unless allowed): nothing that could split a request line or a header.
    private static func clean(_ text: String, allowSpace: Bool) -> Bool {
        text.utf8.allSatisfy { $0 > 0x20 && $0 != 0x7F || (allowSpace && ($0 == 0x20 || $0 == 0x09)) }
    }

    /// RFC 9110 §5.6.2 token characters.
    private static func isToken(_ byte: UInt8) -> Bool {
        switch byte {
        case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "0")...UInt8(ascii: "9"): true
        default: Array("!#$%&'*+-.^_`|~".utf8).contains(byte)
        }
    }

    /// The first byte: a HEAD request (bit 0) and the size of the pieces the rest arrives in (bits 1–3, 1–8 bytes);
    /// the second, the body limit (0–255 bytes, so that limits are reached). Fed whole and fed in pieces, the parser
    /// must agree on everything, and never keep more body than its limit.
    private static func httpResponse(_ bytes: [UInt8]) -> [String] {
        guard bytes.count >= 2 else { return [] }
        let head = bytes[0] & 1 == 1
        let piece = Int(bytes[0] >> 1 & 7) + 1
        let limit = Int(bytes[1])
        let input = Array(bytes.dropFirst(2))

        func outcome(_ pieces: [ArraySlice<UInt8>]) -> String {
            var parser = HTTPResponseParser(bodyLimit: limit, headRequest: head)
            do {
                for part in pieces where !parser.isFinished { try parser.feed(part) }
            } catch {
                return "failed: \(error)"
            }
            let complete = parser.closed()
            return "status \(parser.status.map(String.init) ?? "-") location \(parser.location ?? "-") body \(parser.body) "
                + "finished \(parser.isFinished) complete \(complete) within \(parser.body.count <= limit)"
        }
        let whole = outcome([input[...]])
        let split = outcome(stride(from: 0, to: input.count, by: piece).map { input[$0..<min($0 + piece, input.count)] })
        var broken: [String] = []
        if whole != split { broken.append("whole: \(whole); in pieces of \(piece): \(split)") }
        if whole.hasSuffix("within false") { broken.append("kept more body than \(limit) bytes") }
        return broken
    }

    /// The first byte: how many statements were sent (bits 0–2) and whether in a transaction (bit 3).
    private static func hrana(_ bytes: [UInt8]) -> [String] {
        guard let first = bytes.first else { return [] }
        let statements = Int(first & 7) + 1
        guard let rows = try? LibSQLDatabase.rows(answer: Data(bytes.dropFirst()), statements: statements, transaction: first & 8 != 0) else { return [] }
        return rows.count == statements ? [] : ["\(rows.count) row sets for \(statements) statements"]
    }
}
