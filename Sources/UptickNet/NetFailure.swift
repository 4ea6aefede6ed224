package import UptickCore

/// A failed network operation: why, and the phase timings measured up to the failure.
package struct NetFailure: Error, Sendable {
    package var failure: CheckFailure
    package var timings: PhaseTimings

    package init(_ failure: CheckFailure, timings: PhaseTimings = PhaseTimings()) {
        self.failure = failure
        self.timings = timings
    }

    /// A `down` result carrying the failure and the timings.
    package var result: CheckResult {
        CheckResult(status: .down, errorClass: failure.errorClass, message: failure.message, timings: timings, durationMicroseconds: 0)
    }
}
