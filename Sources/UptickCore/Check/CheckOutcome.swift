/// A finished check ready to be persisted: the result, when it ran, and the monitor state it leads to.
package struct CheckOutcome: Sendable, Hashable, Codable {
    package var monitorID: Int64
    /// The monitor's name when it was claimed, for display (not stored with the check).
    package var monitorName: String
    /// The slot this check ran for.
    package var scheduledAt: EpochMilliseconds
    package var startedAt: EpochMilliseconds
    package var result: CheckResult
    /// The runner that produced it (see `checks.runner`).
    package var runner: String
    /// The monitor's state after this result.
    package var state: MonitorState
    /// Set when this result changed the monitor's status.
    package var transition: StatusTransition?
    /// The incident it opened or resolved and the events it announces; `nil` when none.
    package var alerts: AlertEffects?

    package init(
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
