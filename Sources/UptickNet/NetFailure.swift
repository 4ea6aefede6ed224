public import UptickCore

/// A failed network operation: why, and the phase timings measured up to the failure.
public struct NetFailure: Error, Sendable {
    public var failure: CheckFailure
    public var timings: PhaseTimings

    public init(_ failure: CheckFailure, timings: PhaseTimings = PhaseTimings()) {
        self.failure = failure
        self.timings = timings
    }

    /// A `down` result carrying the failure and the timings.
    public var result: CheckResult {
        CheckResult(status: .down, errorClass: failure.errorClass, message: failure.message, timings: timings, durationMicroseconds: 0)
    }
}
