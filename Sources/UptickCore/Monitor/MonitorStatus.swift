/// The confirmed state of a monitor, stored in `monitors.status`.
public enum MonitorStatus: String, Sendable, Codable, CaseIterable {
    /// Never checked since it was created or re-enabled.
    case pending
    case up
    case degraded
    case down
}
