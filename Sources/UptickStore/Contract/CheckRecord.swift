public import UptickCore

/// One stored `checks` row.
public struct CheckRecord: Sendable, Hashable, Codable {
    /// The `checks` row id.
    public var id: Int64
    /// The monitor checked.
    public var monitorID: Int64
    /// The slot the check was for.
    public var scheduledAt: EpochMilliseconds
    /// When it started.
    public var startedAt: EpochMilliseconds
    /// What it found.
    public var result: CheckResult
    /// Which runner made it (`checks.runner`).
    public var runner: String
}
