import Foundation
package import UptickCore

/// A monitor as written by a person, on the command line or in a YAML file: durations as text,
/// status codes as `200-299,301`. ``draft()`` validates it into what the store keeps.
package struct MonitorDefinition: Sendable {
    package var key: String?
    package var name: String?
    package var type: String
    package var target: String
    package var interval = "30s"
    package var timeout = "10s"
    /// Text to parse: status codes like `200-299,301`, a duration like `2s`, `Name: value` lines.
    package var expectStatus: String?
    package var degradedAfter: String?
    package var headers: [String] = []
    package var enabled = true
    /// Everything else, stored as given (method, body, keywords, ping, dns and TLS options).
    package var settings = MonitorSettings()

    package init(type: String, target: String) {
        self.type = type
        self.target = target
    }

    /// The validated draft, or a one-line reason.
    package func draft() throws(UptickError) -> MonitorDraft {
        guard MonitorType(rawValue: type) != nil else {
            throw UptickError("unknown monitor type '\(type)' (expected http, port, ping or dns)")
        }
        guard let intervalMilliseconds = DurationParser.milliseconds(interval) else {
            throw UptickError("interval '\(interval)' is not a duration (e.g. 30s, 5m)")
        }
        guard intervalMilliseconds >= Limits.minIntervalSeconds * 1000, intervalMilliseconds % 1000 == 0 else {
            throw UptickError("interval must be whole seconds, at least \(Limits.minIntervalSeconds)s (got \(interval))")
        }
        guard let timeoutMilliseconds = DurationParser.milliseconds(timeout), timeoutMilliseconds >= 1 else {
            throw UptickError("timeout '\(timeout)' is not a duration (e.g. 5s, 500ms)")
        }
        guard timeoutMilliseconds <= Limits.maxTimeoutMilliseconds else {
            throw UptickError("timeout must be at most \(Limits.maxTimeoutMilliseconds / 1000)s (got \(timeout))")
        }
        var settings = self.settings
        if let expectStatus {
            guard let codes = StatusCodeSet(parsing: expectStatus) else {
                throw UptickError("expected status '\(expectStatus)' is not a list of codes and ranges like 200-299,301")
            }
            settings.expectedStatus = codes
        }
        if let degradedAfter {
            guard let milliseconds = DurationParser.milliseconds(degradedAfter), milliseconds > 0 else {
                throw UptickError("degraded-after '\(degradedAfter)' is not a positive duration (e.g. 2s)")
            }
            settings.degradedAfterMilliseconds = milliseconds
        }
        if !headers.isEmpty {
            settings.headers = try headers.map { line throws(UptickError) in
                guard let colon = line.firstIndex(of: ":") else { throw UptickError("header '\(line)' is not 'Name: value'") }
                return MonitorSettings.Header(
                    name: line[..<colon].trimmingCharacters(in: .whitespaces),
                    value: line[line.index(after: colon)...].trimmingCharacters(in: .whitespaces)
                )
            }
        }
        let draft = MonitorDraft(
            key: key, name: name ?? target, type: type, target: target, intervalSeconds: intervalMilliseconds / 1000,
            timeoutMilliseconds: timeoutMilliseconds, settings: Self.json(settings), enabled: enabled
        )
        do {
            _ = try draft.validated()
        } catch {
            throw UptickError(error.message)
        }
        return draft
    }

    /// Settings as compact JSON with sorted keys, so the same definition always gives the same text
    /// (which is what makes `import` idempotent).
    static func json(_ settings: MonitorSettings) -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return String(decoding: (try? encoder.encode(settings)) ?? Data("{}".utf8), as: UTF8.self)
    }
}
