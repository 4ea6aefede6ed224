/// The part of a monitor that its check results change. Pure: ``applying(_:at:)`` is the status logic.
public struct MonitorState: Sendable, Hashable, Codable {
    public var status: MonitorStatus
    public var consecutiveFailures: Int64
    public var consecutiveSuccesses: Int64
    public var statusChangedAt: EpochMilliseconds?

    public init(status: MonitorStatus = .pending, consecutiveFailures: Int64 = 0, consecutiveSuccesses: Int64 = 0, statusChangedAt: EpochMilliseconds? = nil) {
        self.status = status
        self.consecutiveFailures = consecutiveFailures
        self.consecutiveSuccesses = consecutiveSuccesses
        self.statusChangedAt = statusChangedAt
    }

    /// The state after a check with verdict `verdict` finished at `time`, and the status change it made, if any.
    ///
    /// Every verdict is taken as confirmed (the original "alert on every status change"); confirmation
    /// thresholds, flapping and maintenance belong to the alerting issue and extend this function.
    public func applying(_ verdict: CheckStatus, at time: EpochMilliseconds) -> (state: MonitorState, transition: StatusTransition?) {
        var next = self
        if verdict == .down {
            next.consecutiveFailures += 1
            next.consecutiveSuccesses = 0
        } else {
            next.consecutiveSuccesses += 1
            next.consecutiveFailures = 0
        }
        let newStatus = MonitorStatus(verdict)
        guard newStatus != status else { return (next, nil) }
        next.status = newStatus
        next.statusChangedAt = time
        return (next, StatusTransition(from: status, to: newStatus, at: time))
    }
}

/// A change of a monitor's confirmed status.
public struct StatusTransition: Sendable, Hashable, Codable {
    public var from: MonitorStatus
    public var to: MonitorStatus
    public var at: EpochMilliseconds

    public init(from: MonitorStatus, to: MonitorStatus, at: EpochMilliseconds) {
        self.from = from
        self.to = to
        self.at = at
    }
}

extension MonitorStatus {
    /// The status a single verdict stands for.
    public init(_ verdict: CheckStatus) {
        switch verdict {
        case .up: self = .up
        case .degraded: self = .degraded
        case .down: self = .down
        }
    }
}
