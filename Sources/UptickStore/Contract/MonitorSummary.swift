public import UptickCore

/// A monitor with its latest latency and its uptime over a window, for `uptick status`.
public struct MonitorSummary: Sendable, Hashable, Codable {
    /// The monitor.
    public var monitor: Monitor
    /// Duration of the latest check, microseconds.
    public var lastDurationMicroseconds: Int64?
    /// Share of checks in the window that were not `down`, 0...1; `nil` without checks.
    public var uptime: Double?
    /// Checks in the window.
    public var checksInWindow: Int64
    /// The window's hourly rollups, oldest first (hours without checks have none).
    public var hours: [Rollup]
}
