/// A finished check ready to be persisted: the result, when it ran, and the monitor state it leads to.
public struct CheckOutcome: Sendable, Hashable, Codable {
    public var monitorID: Int64
    /// The monitor's name when it was claimed, for display (not stored with the check).
    public var monitorName: String
    /// The slot this check ran for.
    public var scheduledAt: EpochMilliseconds
    public var startedAt: EpochMilliseconds
    public var result: CheckResult
    /// The runner that produced it (see `checks.runner`).
    public var runner: String
    /// The monitor's state after this result.
    public var state: MonitorState
    /// Set when this result changed the monitor's status.
    public var transition: StatusTransition?
    /// The incident it opened or resolved and the events it announces; `nil` when none.
    public var alerts: AlertEffects?

    public init(
        monitorID: Int64, monitorName: String, scheduledAt: EpochMilliseconds, startedAt: EpochMilliseconds, result: CheckResult,
        runner: String, state: MonitorState, transition: StatusTransition?, alerts: AlertEffects? = nil
    ) {
        self.monitorID = monitorID
        self.monitorName = monitorName
        self.scheduledAt = scheduledAt
        self.startedAt = startedAt
        self.result = result
        self.runner = runner
        self.state = state
        self.transition = transition
        self.alerts = alerts
    }
}
