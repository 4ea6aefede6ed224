import Foundation
import UptickCore
import Yams

/// A YAML file of monitors for `uptick import`: a top-level `monitors:` list (see examples/monitors.yaml).
public enum MonitorFile {
    static let fields: Set<String> = [
        "key", "name", "type", "target", "interval", "timeout", "expect_status", "keyword", "keyword_absent",
        "degraded_after", "method", "headers", "body", "enabled", "ping_count", "dns_record", "dns_expect", "tls", "tls_verify", "tls_expiry_days", "tls_expiry_status",
    ]

    /// Parses and validates the whole file; the first problem is reported with its line.
    public static func parse(_ text: String) throws(CLIFailure) -> [MonitorDraft] {
        let root: Node?
        do {
            root = try Yams.compose(yaml: text)
        } catch let error as YamlError {
            throw CLIFailure("YAML error: \(describe(error))")
        } catch {
            throw CLIFailure("YAML error: \(error)")
        }
        guard let list = root?.mapping?["monitors"], let entries = list.sequence else {
            throw CLIFailure("YAML error: expected a top-level 'monitors:' list")
        }
        var drafts: [MonitorDraft] = []
        var lines: [String: Int] = [:]
        for entry in entries {
            let line = (entry.mark?.line ?? 0)
            guard let mapping = entry.mapping else { throw CLIFailure("line \(line): each monitor must be a mapping") }
            func text(_ field: String) throws(CLIFailure) -> String? {
                guard let node = mapping[field] else { return nil }
                guard let scalar = node.scalar?.string else { throw CLIFailure("line \(node.mark?.line ?? line): '\(field)' must be a single value") }
                return scalar
            }
            for case let (name, _) in mapping {
                guard let field = name.scalar?.string, fields.contains(field) else {
                    throw CLIFailure("line \(name.mark?.line ?? line): unknown field '\(name.scalar?.string ?? "?")'")
                }
            }
            func flag(_ field: String) throws(CLIFailure) -> Bool? {
                guard let value = try text(field) else { return nil }
                guard let flag = Bool(value) else { throw CLIFailure("line \(line): '\(field)' must be true or false") }
                return flag
            }
            guard let key = try text("key") else { throw CLIFailure("line \(line): every monitor needs a 'key' (the import upserts by it)") }
            if let first = lines[key] { throw CLIFailure("line \(line): key '\(key)' is already used on line \(first)") }
            lines[key] = line
            guard let type = try text("type"), let target = try text("target") else {
                throw CLIFailure("line \(line): monitor '\(key)' needs a 'type' and a 'target'")
            }
            var definition = MonitorDefinition(type: type, target: target)
            definition.key = key
            definition.name = try text("name")
            definition.interval = try text("interval") ?? definition.interval
            definition.timeout = try text("timeout") ?? definition.timeout
            definition.expectStatus = try text("expect_status")
            definition.settings.keyword = try text("keyword")
            definition.settings.keywordAbsent = try text("keyword_absent")
            definition.degradedAfter = try text("degraded_after")
            definition.settings.method = try text("method")
            definition.settings.body = try text("body")
            definition.settings.dnsRecord = try text("dns_record")
            definition.settings.tlsExpiryStatus = try text("tls_expiry_status")
            definition.settings.tls = try flag("tls")
            definition.settings.tlsVerify = try flag("tls_verify")
            if let days = try text("tls_expiry_days") {
                guard let value = Int(days) else { throw CLIFailure("line \(line): 'tls_expiry_days' must be a whole number") }
                definition.settings.tlsExpiryDays = value
            }
            if let expect = mapping["dns_expect"] {
                let values = expect.sequence?.compactMap(\.string) ?? expect.string?.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }
                guard let values else { throw CLIFailure("line \(expect.mark?.line ?? line): 'dns_expect' must be a list of addresses") }
                definition.settings.dnsExpect = values
            }
            if let count = try text("ping_count") {
                guard let value = Int(count) else { throw CLIFailure("line \(line): 'ping_count' must be a whole number") }
                definition.settings.pingCount = value
            }
            definition.enabled = try flag("enabled") ?? true
            if let headers = mapping["headers"] {
                guard let pairs = headers.mapping else { throw CLIFailure("line \(headers.mark?.line ?? line): 'headers' must be a mapping") }
                definition.headers = pairs.map { "\($0.key.string ?? ""): \($0.value.string ?? "")" }
            }
            do throws(CLIFailure) {
                drafts.append(try definition.draft())
            } catch {
                throw CLIFailure("line \(line): monitor '\(key)': \(error.message)")
            }
        }
        return drafts
    }

    private static func describe(_ error: YamlError) -> String {
        switch error {
        case .scanner(let context, let problem, let mark, _), .parser(let context, let problem, let mark, _):
            let started = context.map { " (\($0.text) started on line \($0.mark.line))" } ?? ""
            return "line \(mark.line): \(problem)\(started)"
        default:
            return "\(error)"
        }
    }
}
