package import UptickCore

extension MonitorDraft {
    /// A port monitor on `target` with a short timeout, for tests.
    package static func port(_ target: String, key: String? = nil, interval: Int64 = 30, timeoutMilliseconds: Int64 = 5000) -> MonitorDraft {
        MonitorDraft(key: key, name: "port \(target)", type: "port", target: target, intervalSeconds: interval, timeoutMilliseconds: timeoutMilliseconds)
    }

    /// An HTTP monitor on `url` with a short timeout, for tests.
    package static func http(_ url: String, key: String? = nil, interval: Int64 = 30, timeoutMilliseconds: Int64 = 5000, settings: String = "{}") -> MonitorDraft {
        MonitorDraft(key: key, name: "http \(url)", type: "http", target: url, intervalSeconds: interval, timeoutMilliseconds: timeoutMilliseconds, settings: settings)
    }
}
