import Synchronization

/// The monitors whose probe is running, counted until the probe returns (not until its result is
/// delivered, which the hard deadline may do first), with when each began.
final class RunningChecks: Sendable {
    private let started = Mutex<[Int64: ContinuousClock.Instant]>([:])

    /// Marks `id` running; false if it already is.
    func begin(_ id: Int64) -> Bool {
        started.withLock { started in
            guard started[id] == nil else { return false }
            started[id] = .now
            return true
        }
    }

    func end(_ id: Int64) {
        _ = started.withLock { $0.removeValue(forKey: id) }
    }

    /// Whether `id`'s probe is running and began less than `span` ago.
    func isRunning(_ id: Int64, startedWithin span: Duration) -> Bool {
        started.withLock { $0[id] }.map { ContinuousClock.now - $0 < span } ?? false
    }
}
