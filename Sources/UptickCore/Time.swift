import Foundation

/// Wall-clock time as stored everywhere in uptick: milliseconds since 1970-01-01T00:00:00Z.
///
/// One representation for every timestamp keeps slot arithmetic in SQL and in Swift identical.
public typealias EpochMilliseconds = Int64

/// The source of time for everything that schedules. Injected so schedule logic is tested without sleeping.
package protocol WallClock: Sendable {
    /// The current wall-clock time.
    func now() -> EpochMilliseconds
    /// Suspends until `deadline` (wall time) or until the task is cancelled.
    func sleep(until deadline: EpochMilliseconds) async throws
}

/// The real clock: `Date()` for the time, `Task.sleep` for waiting.
package struct SystemClock: WallClock {
    package init() {}

    package func now() -> EpochMilliseconds {
        EpochMilliseconds((Date().timeIntervalSince1970 * 1000).rounded(.down))
    }

    package func sleep(until deadline: EpochMilliseconds) async throws {
        let delay = deadline - now()
        if delay > 0 { try await Task.sleep(for: .milliseconds(delay)) }
    }
}

extension Duration {
    /// Whole milliseconds, rounded down.
    package var wholeMilliseconds: Int64 {
        components.seconds * 1000 + components.attoseconds / 1_000_000_000_000_000
    }

    /// Whole microseconds, rounded down.
    package var wholeMicroseconds: Int64 {
        components.seconds * 1_000_000 + components.attoseconds / 1_000_000_000_000
    }
}
