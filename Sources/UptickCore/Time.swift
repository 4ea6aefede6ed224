import Foundation
import Synchronization

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

/// The process's clock: the operating system's wall clock as the schedule needs it, never going back (see
/// ``SteadyClock``). Every `SystemClock` of a process reads the same ``shared`` time line, so the engine, the
/// deliverer, the web server and the housekeeping agree on what time it is even after the wall clock stepped.
package struct SystemClock: WallClock {
    /// The one time line of this process.
    package static let shared = SteadyClock(wall: OperatingSystemClock(), elapsed: { (ContinuousClock.now - origin).wholeMilliseconds })
    private static let origin = ContinuousClock.now

    package init() {}

    package func now() -> EpochMilliseconds { Self.shared.now() }

    package func sleep(until deadline: EpochMilliseconds) async throws { try await Self.shared.sleep(until: deadline) }
}

/// The operating system's wall clock as it is, steps and all: `Date()` for the time, `Task.sleep` (monotonic, so a
/// sleep lasts what it was asked whatever the wall clock does meanwhile) for waiting.
package struct OperatingSystemClock: WallClock {
    package init() {}

    package func now() -> EpochMilliseconds {
        EpochMilliseconds((Date().timeIntervalSince1970 * 1000).rounded(.down))
    }

    package func sleep(until deadline: EpochMilliseconds) async throws {
        let delay = deadline - now()
        if delay > 0 { try await Task.sleep(for: .milliseconds(delay)) }
    }
}

/// A wall clock that never goes back: `wall`'s time, read with a monotonic clock (`elapsed`, milliseconds) beside
/// it, through ``SteadyTime``. `sleep(until:)` waits in this clock's time, so a sleep that started before a step
/// still ends when the schedule expects.
package final class SteadyClock: WallClock {
    private let wall: any WallClock
    private let elapsed: @Sendable () -> Int64
    private let state = Mutex(SteadyTime())
    private let stepHandler = Mutex<(@Sendable (SteadyTime.Step) -> Void)?>(nil)

    package init(wall: any WallClock, elapsed: @escaping @Sendable () -> Int64) {
        self.wall = wall
        self.elapsed = elapsed
    }

    /// `handler` is told of each step of the wall clock (the daemon logs them).
    package func reportSteps(to handler: @escaping @Sendable (SteadyTime.Step) -> Void) {
        stepHandler.withLock { $0 = handler }
    }

    package func now() -> EpochMilliseconds {
        let (wallNow, elapsedNow) = (wall.now(), elapsed())
        let (time, step) = state.withLock { $0.read(wall: wallNow, elapsed: elapsedNow) }
        if let step, let handler = stepHandler.withLock({ $0 }) { handler(step) }
        return time
    }

    package func sleep(until deadline: EpochMilliseconds) async throws {
        while true {
            let now = now()
            guard now < deadline else { return }
            // While catching up, this clock gains 9 ms for each 10 ms of the wall's: wait correspondingly longer.
            let wait = state.withLock { $0.isCatchingUp } ? ((deadline - now) * 10 + 8) / 9 : deadline - now
            try await wall.sleep(until: wall.now() + wait)
        }
    }
}

/// The schedule's time, worked out from readings of the wall clock and of a monotonic clock: the wall clock's
/// time, except that it never goes back.
///
/// Why: slots are wall-clock times shared through the database. A wall clock stepped back by an hour would find
/// every `next_check_at` an hour ahead (the daemon sleeps an hour), its new results would be older than the stored
/// state (which keeps the newer one) and would fall on slot times already used (UNIQUE (monitor_id, scheduled_at)
/// keeps the first). So a step back is absorbed instead: the time goes on from where it was at 90 % of the monotonic
/// clock's speed until the wall clock catches up (an hour's step in ten hours; `chronyd` slews at most 8.3 %), and
/// the schedule goes on at about its interval meanwhile. A step forward is taken at once: the next claim skips the
/// slots missed (one check per monitor, no burst). A jump between readings that differs from the monotonic clock's
/// by more than ``tolerance`` is reported as a step; smaller ones are NTP's ordinary corrections.
package struct SteadyTime: Sendable {
    package enum Step: Sendable, Hashable {
        /// The wall clock went back by this many milliseconds.
        case back(EpochMilliseconds)
        /// The wall clock went forward by this many milliseconds more than time passed.
        case forward(EpochMilliseconds)
    }

    package static let tolerance: EpochMilliseconds = 1_000

    private struct Reading {
        var time: EpochMilliseconds
        var wall: EpochMilliseconds
        var elapsed: Int64
    }

    private var last: Reading?
    /// While the wall clock is behind: where the slow run started.
    private var catchUp: (time: EpochMilliseconds, elapsed: Int64)?

    package init() {}

    /// Whether this time is ahead of the wall clock and running slow until it meets it.
    package var isCatchingUp: Bool { catchUp != nil }

    /// The time for a reading of the wall clock and of the monotonic clock (milliseconds), and the step the wall
    /// clock made since the last reading, if it made one.
    package mutating func read(wall: EpochMilliseconds, elapsed: Int64) -> (time: EpochMilliseconds, step: Step?) {
        guard let last else {
            self.last = Reading(time: wall, wall: wall, elapsed: elapsed)
            return (wall, nil)
        }
        let passed = max(0, elapsed - last.elapsed)
        let drift = wall - (last.wall + passed)
        let step: Step? = drift > Self.tolerance ? .forward(drift) : drift < -Self.tolerance ? .back(-drift) : nil
        if case .back = step, catchUp == nil { catchUp = (last.time, last.elapsed) }
        var time = wall
        if let from = catchUp {
            let slow = from.time + max(0, elapsed - from.elapsed) * 9 / 10
            if slow > wall { time = slow } else { catchUp = nil }
        }
        time = max(time, last.time)
        self.last = Reading(time: time, wall: wall, elapsed: max(elapsed, last.elapsed))
        return (time, step)
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

extension SteadyTime.Step: CustomStringConvertible {
    /// The line the daemon logs.
    package var description: String {
        func seconds(_ milliseconds: EpochMilliseconds) -> String { "\(milliseconds / 1000).\(milliseconds % 1000 / 100) s" }
        switch self {
        case .back(let by):
            return "the wall clock stepped back \(seconds(by)): uptick's clock does not go back; it runs 10 % slow until the wall clock "
                + "catches up (in about \(seconds(by * 10))), so checks go on at about their interval and no slot is used twice"
        case .forward(let by):
            return "the wall clock stepped forward \(seconds(by)): the slots missed are skipped (one check per monitor now, no burst)"
        }
    }
}
