public import UptickCore

/// One stored `checks` row.
public struct CheckRecord: Sendable, Hashable, Codable {
    public var id: Int64
    public var monitorID: Int64
    public var scheduledAt: EpochMilliseconds
    public var startedAt: EpochMilliseconds
    public var result: CheckResult
    public var runner: String
}
