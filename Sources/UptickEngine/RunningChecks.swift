import Synchronization

/// The monitors whose probe is running, counted until the probe returns (not until its result is
/// delivered, which the hard deadline may do first).
final class RunningChecks: Sendable {
    private let ids = Mutex<Set<Int64>>([])

    /// Marks `id` running; false if it already is.
    func begin(_ id: Int64) -> Bool {
        ids.withLock { $0.insert(id).inserted }
    }

    func end(_ id: Int64) {
        _ = ids.withLock { $0.remove(id) }
    }
}
