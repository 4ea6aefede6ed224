public import UptickCore

/// One monitor's checks over one hour or one UTC day, as kept in `rollups_hourly` and `rollups_daily`.
public struct Rollup: Sendable, Hashable, Codable {
    /// The two resolutions, rows of one table, each with its own retention (`period_ms`).
    public enum Resolution: String, Sendable, Hashable, Codable, CaseIterable {
        case hourly, daily

        /// The period's length.
        public var milliseconds: Int64 { self == .hourly ? 3_600_000 : 86_400_000 }
        /// The start of the period that holds `time` (UTC).
        public func periodStart(_ time: EpochMilliseconds) -> EpochMilliseconds {
            let remainder = time % milliseconds
            return time - (remainder < 0 ? remainder + milliseconds : remainder)
        }
    }

    /// The monitor.
    public var monitorID: Int64
    /// The period's first millisecond (UTC); the period holds the checks whose slot is in it.
    public var periodStart: EpochMilliseconds
    /// Checks in the period, by verdict.
    public var up: Int64
    public var degraded: Int64
    public var down: Int64
    /// Their total duration, microseconds.
    public var durationSumMicroseconds: Int64
    /// Their durations.
    public var latency: LatencyHistogram

    /// A rollup as stored.
    public init(monitorID: Int64, periodStart: EpochMilliseconds, up: Int64, degraded: Int64, down: Int64,
                durationSumMicroseconds: Int64, latency: LatencyHistogram) {
        self.monitorID = monitorID
        self.periodStart = periodStart
        self.up = up
        self.degraded = degraded
        self.down = down
        self.durationSumMicroseconds = durationSumMicroseconds
        self.latency = latency
    }

    /// Checks in the period.
    public var checks: Int64 { up + degraded + down }
    /// Share of checks that were not `down` (the uptime definition everywhere in uptick); `nil` without checks.
    public var uptime: Double? { checks > 0 ? Double(up + degraded) / Double(checks) : nil }
    /// Median and 95th percentile duration, microseconds (see ``LatencyHistogram`` for their precision).
    public var p50Microseconds: Int64? { latency.quantile(0.5) }
    public var p95Microseconds: Int64? { latency.quantile(0.95) }
}
