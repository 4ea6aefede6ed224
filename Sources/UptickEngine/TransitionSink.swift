import Logging
import UptickCore

/// Receives the status changes of outcomes that were just committed. The seam for alerting.
public protocol TransitionSink: Sendable {
    /// Called after the commit, with the committed outcomes that changed a monitor's status.
    func statusChanged(_ outcomes: [CheckOutcome]) async
}

/// Logs each status change. The stand-in until alert delivery exists.
public struct LoggingTransitionSink: TransitionSink {
    let logger: Logger

    public init(logger: Logger) {
        self.logger = logger
    }

    public func statusChanged(_ outcomes: [CheckOutcome]) async {
        for outcome in outcomes {
            guard let transition = outcome.transition else { continue }
            logger.notice("monitor \(outcome.monitorID) is \(transition.to.rawValue) (was \(transition.from.rawValue)): \(outcome.result.message ?? "")")
        }
    }
}
