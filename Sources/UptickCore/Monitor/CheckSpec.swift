import Foundation

/// A monitor decoded into the check to run: typed, validated and bounded.
///
/// Built once per claim from the stored row; a row that cannot be decoded becomes a `CheckFailure`,
/// which the engine records as a check result instead of crashing.
public struct CheckSpec: Sendable, Hashable {
    /// The monitor this check is for.
    public var monitorID: Int64
    /// The hard deadline of the check, at most ``Limits/maxTimeoutMilliseconds``.
    public var timeoutMilliseconds: Int64
    /// Slower than this is `degraded`.
    public var degradedAfterMilliseconds: Int64?
    /// What to check, by type.
    public var kind: Kind
    /// When results become a confirmed status and what is announced.
    public var alerts: AlertPolicy

    /// The check itself.
    public enum Kind: Sendable, Hashable {
        case http(HTTPCheck)
        /// A TCP connect, and a TLS handshake when `tls` is set.
        case port(Endpoint, tls: TLSCheck?)
        case ping(host: String, count: Int)
        case dns(DNSCheck)
    }

    /// A check built from its parts (``init(monitor:)`` validates a monitor into one).
    public init(monitorID: Int64, timeoutMilliseconds: Int64, degradedAfterMilliseconds: Int64? = nil, kind: Kind, alerts: AlertPolicy = AlertPolicy()) {
        self.monitorID = monitorID
        self.timeoutMilliseconds = timeoutMilliseconds
        self.degradedAfterMilliseconds = degradedAfterMilliseconds
        self.kind = kind
        self.alerts = alerts
    }

    /// Decodes and validates a stored monitor.
    public init(monitor: Monitor) throws(CheckFailure) {
        guard let type = MonitorType(rawValue: monitor.type) else {
            throw CheckFailure(.invalidMonitor, "unknown monitor type '\(monitor.type)' (expected http, port, ping or dns)")
        }
        guard monitor.intervalSeconds >= Limits.minIntervalSeconds else {
            throw CheckFailure(.invalidMonitor, "interval_seconds must be at least \(Limits.minIntervalSeconds), got \(monitor.intervalSeconds)")
        }
        guard (1...Limits.maxTimeoutMilliseconds).contains(monitor.timeoutMilliseconds) else {
            throw CheckFailure(.invalidMonitor, "timeout_ms must be between 1 and \(Limits.maxTimeoutMilliseconds), got \(monitor.timeoutMilliseconds)")
        }
        let settings: MonitorSettings
        do {
            settings = try JSONDecoder().decode(MonitorSettings.self, from: Data(monitor.settings.utf8))
        } catch {
            throw CheckFailure(.invalidMonitor, "settings is not a valid settings object: \(Self.describe(error))")
        }
        if let degraded = settings.degradedAfterMilliseconds, degraded <= 0 {
            throw CheckFailure(.invalidMonitor, "degraded_after_ms must be positive, got \(degraded)")
        }
        let kind: Kind
        switch type {
        case .http: kind = .http(try HTTPCheck(url: monitor.target, settings: settings))
        case .port: kind = .port(try Endpoint(parsing: monitor.target), tls: settings.tls == true ? try TLSCheck(settings: settings) : nil)
        case .ping:
            let count = settings.pingCount ?? Limits.defaultPingCount
            guard (1...Limits.maxPingCount).contains(count) else {
                throw CheckFailure(.invalidMonitor, "ping_count must be between 1 and \(Limits.maxPingCount), got \(count)")
            }
            kind = .ping(host: try Endpoint.validHost(monitor.target), count: count)
        case .dns:
            kind = .dns(try DNSCheck(host: monitor.target, settings: settings))
        }
        self.init(
            monitorID: monitor.id, timeoutMilliseconds: monitor.timeoutMilliseconds,
            degradedAfterMilliseconds: settings.degradedAfterMilliseconds, kind: kind, alerts: try AlertPolicy(settings: settings)
        )
    }

    private static func describe(_ error: any Error) -> String {
        switch error as? DecodingError {
        case .dataCorrupted(let context), .typeMismatch(_, let context), .valueNotFound(_, let context):
            let path = context.codingPath.map(\.stringValue).joined(separator: ".")
            return path.isEmpty ? context.debugDescription : "\(path): \(context.debugDescription)"
        default:
            return "not JSON"
        }
    }
}
