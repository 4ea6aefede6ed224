public import UptickCore

/// One page of monitors with what the status page and the JSON API show of them, read in one round trip.
public struct Board: Sendable, Hashable {
    /// The page's monitors, by id.
    public var monitors: [Monitor]
    /// Monitors in scope (public ones, or all), across pages.
    public var total: Int
    /// Monitors in scope by current status.
    public var byStatus: [MonitorStatus: Int]
    /// The page's daily rollups since the requested day, oldest first, by monitor.
    public var daily: [Int64: [Rollup]]
    /// The page's hourly rollups since the requested hour, oldest first, by monitor.
    public var hourly: [Int64: [Rollup]]
    /// The page's open incidents and those resolved since the requested time, newest first.
    public var incidents: [IncidentRecord]

    public init(monitors: [Monitor], total: Int, byStatus: [MonitorStatus: Int], daily: [Int64: [Rollup]], hourly: [Int64: [Rollup]],
                incidents: [IncidentRecord]) {
        self.monitors = monitors
        self.total = total
        self.byStatus = byStatus
        self.daily = daily
        self.hourly = hourly
        self.incidents = incidents
    }
}

/// Which monitors a read may see.
public enum BoardScope: Sendable, Hashable {
    /// Those whose settings say `"public": true`: the status page, badges, the unauthenticated API.
    case publicOnly
    /// Every monitor: the API with the operator's token.
    case all
}
