package import Logging
package import UptickCore

/// Logs each status change.
package struct LoggingTransitionSink: TransitionSink {
    let logger: Logger

    package init(logger: Logger) {
        self.logger = logger
    }

    package func statusChanged(_ outcomes: [CheckOutcome]) async {
        for outcome in outcomes {
            guard let transition = outcome.transition else { continue }
            // A new monitor coming up is not news (nor is it announced): only visible at info level.
            let level: Logger.Level = transition.from == .pending && transition.to == .up ? .info : .notice
            logger.log(level: level, "monitor \(outcome.monitorID) is \(transition.to.rawValue) (was \(transition.from.rawValue)): \(outcome.result.message ?? "")")
        }
    }
}
