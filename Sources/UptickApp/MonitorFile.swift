import Foundation
package import UptickCore
import Yams

/// A YAML file of monitors for `uptick import`: a top-level `monitors:` list (see examples/monitors.yaml).
package enum MonitorFile {
    static let fields: Set<String> = [
        "key", "name", "type", "target", "interval", "timeout", "expect_status", "keyword", "keyword_absent",
        "degraded_after", "method", "headers", "body", "enabled", "ping_count", "dns_record", "dns_expect", "tls", "tls_verify", "tls_expiry_days", "tls_expiry_status",
        "failure_threshold", "recovery_threshold", "notify_degraded", "flap_threshold", "flap_window", "reminder", "maintenance", "notify",
        "public",
    ]
    static let maintenanceFields: Set<String> = ["from", "until", "at", "duration", "days", "time_zone"]

    /// One monitor of the file, and the channels it names (`nil`: leave its channels as they are).
    package struct Entry: Sendable {
        package var draft: MonitorDraft
        package var notify: [String]?
    }

    /// Parses and validates the whole file; the first problem is reported with its line. `progress` is told every
    /// thousand entries how many of how many are validated.
    package static func parse(_ text: String, progress: (_ done: Int, _ total: Int) -> Void = { _, _ in }) throws(UptickError) -> [Entry] {
        let root: Node?
        do {
            root = try Yams.compose(yaml: text)
        } catch let error as YamlError {
            throw UptickError("YAML error: \(describe(error))")
        } catch {
            throw UptickError("YAML error: \(error)")
        }
        guard let list = root?.mapping?["monitors"], let entries = list.sequence else {
            throw UptickError("YAML error: expected a top-level 'monitors:' list")
        }
        var drafts: [Entry] = []
        var lines: [String: Int] = [:]
        for (index, entry) in entries.enumerated() {
            if index % 1000 == 0 { progress(index, entries.count) }
            let line = (entry.mark?.line ?? 0)
            guard let mapping = entry.mapping else { throw UptickError("line \(line): each monitor must be a mapping") }
            func text(_ field: String) throws(UptickError) -> String? {
                guard let node = mapping[field] else { return nil }
                guard let scalar = node.scalar?.string else { throw UptickError("line \(node.mark?.line ?? line): '\(field)' must be a single value") }
                return scalar
            }
            for case let (name, _) in mapping {
                guard let field = name.scalar?.string, fields.contains(field) else {
                    throw UptickError("line \(name.mark?.line ?? line): unknown field '\(name.scalar?.string ?? "?")'")
                }
            }
            func flag(_ field: String) throws(UptickError) -> Bool? {
                guard let value = try text(field) else { return nil }
                guard let flag = Bool(value) else { throw UptickError("line \(line): '\(field)' must be true or false") }
                return flag
            }
            guard let key = try text("key") else { throw UptickError("line \(line): every monitor needs a 'key' (the import upserts by it)") }
            if let first = lines[key] { throw UptickError("line \(line): key '\(key)' is already used on line \(first)") }
            lines[key] = line
            guard let type = try text("type"), let target = try text("target") else {
                throw UptickError("line \(line): monitor '\(key)' needs a 'type' and a 'target'")
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
                guard let value = Int(days) else { throw UptickError("line \(line): 'tls_expiry_days' must be a whole number") }
                definition.settings.tlsExpiryDays = value
            }
            if let expect = mapping["dns_expect"] {
                let values = expect.sequence?.compactMap(\.string) ?? expect.string?.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }
                guard let values else { throw UptickError("line \(expect.mark?.line ?? line): 'dns_expect' must be a list of addresses") }
                definition.settings.dnsExpect = values
            }
            if let count = try text("ping_count") {
                guard let value = Int(count) else { throw UptickError("line \(line): 'ping_count' must be a whole number") }
                definition.settings.pingCount = value
            }
            func whole(_ field: String) throws(UptickError) -> Int? {
                guard let value = try text(field) else { return nil }
                guard let number = Int(value) else { throw UptickError("line \(line): '\(field)' must be a whole number") }
                return number
            }
            func minutes(_ field: String, in map: Node.Mapping) throws(UptickError) -> Int? {
                guard let value = map[field]?.string else { return nil }
                guard let milliseconds = DurationParser.milliseconds(value), milliseconds >= 60_000, milliseconds % 60_000 == 0 else {
                    throw UptickError("line \(line): '\(field)' must be whole minutes, e.g. 30m or 2h")
                }
                return Int(milliseconds / 60_000)
            }
            definition.settings.failureThreshold = try whole("failure_threshold")
            definition.settings.recoveryThreshold = try whole("recovery_threshold")
            definition.settings.flapThreshold = try whole("flap_threshold")
            definition.settings.notifyDegraded = try flag("notify_degraded")
            definition.settings.isPublic = try flag("public")
            definition.settings.flapWindowMinutes = try minutes("flap_window", in: mapping)
            definition.settings.reminderMinutes = try minutes("reminder", in: mapping)
            if let windows = mapping["maintenance"] {
                guard let list = windows.sequence else { throw UptickError("line \(windows.mark?.line ?? line): 'maintenance' must be a list") }
                definition.settings.maintenance = try list.map { node throws(UptickError) in
                    guard let window = node.mapping else { throw UptickError("line \(node.mark?.line ?? line): a maintenance window must be a mapping") }
                    for case let (name, _) in window where !maintenanceFields.contains(name.string ?? "") {
                        throw UptickError("line \(name.mark?.line ?? line): unknown maintenance field '\(name.string ?? "?")'")
                    }
                    let days = window["days"].map { $0.sequence?.compactMap(\.string) ?? $0.string?.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) } ?? [] }
                    return MaintenanceWindow(from: window["from"]?.string, until: window["until"]?.string, at: window["at"]?.string,
                                             durationMinutes: try minutes("duration", in: window), days: days, timeZone: window["time_zone"]?.string)
                }
            }
            var notify: [String]?
            if let channels = mapping["notify"] {
                let names = channels.sequence?.compactMap(\.string) ?? channels.string.map { [$0] }
                guard let names else { throw UptickError("line \(channels.mark?.line ?? line): 'notify' must be a list of channel names") }
                notify = names
            }
            definition.enabled = try flag("enabled") ?? true
            if let headers = mapping["headers"] {
                guard let pairs = headers.mapping else { throw UptickError("line \(headers.mark?.line ?? line): 'headers' must be a mapping") }
                definition.headers = pairs.map { "\($0.key.string ?? ""): \($0.value.string ?? "")" }
            }
            do throws(UptickError) {
                drafts.append(Entry(draft: try definition.draft(), notify: notify))
            } catch {
                throw UptickError("line \(line): monitor '\(key)': \(error.message)")
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
