import Synchronization
package import UptickCore

/// A wall clock that moves only when told to. Sleepers wake when it is advanced past their deadline. It also keeps a
/// monotonic reading (``elapsed``) that only ``advance(to:)`` moves, so that ``step(by:)`` can step the wall clock
/// as an administrator or NTP does, under sleeps that last what they were asked (as `Task.sleep` does).
package final class ManualClock: WallClock {
    private struct Sleeper {
        var deadline: EpochMilliseconds
        var continuation: CheckedContinuation<Void, any Error>
    }

    private struct State {
        var now: EpochMilliseconds
        var elapsed: Int64 = 0
        var sleepers: [Int: Sleeper] = [:]
        var nextID = 0
        /// Sleeps begun so far, and who waits for a count of them.
        var sleepsBegun = 0
        var sleepWaiters: [(count: Int, continuation: CheckedContinuation<Void, Never>)] = []
    }

    private let state: Mutex<State>

    package init(now: EpochMilliseconds) {
        state = Mutex(State(now: now))
    }

    package func now() -> EpochMilliseconds { state.withLock { $0.now } }

    /// Moves the clock to `time` and wakes the sleepers whose deadline has come.
    package func advance(to time: EpochMilliseconds) {
        let woken = state.withLock { state in
            state.elapsed += max(0, time - state.now)
            state.now = max(state.now, time)
            let due = state.sleepers.filter { $0.value.deadline <= state.now }
            for id in due.keys { state.sleepers.removeValue(forKey: id) }
            return due.values.map(\.continuation)
        }
        for continuation in woken { continuation.resume() }
    }

    package func advance(by milliseconds: EpochMilliseconds) { advance(to: now() + milliseconds) }

    /// Milliseconds that passed (advances, not steps).
    package var elapsed: Int64 { state.withLock { $0.elapsed } }

    /// Steps the wall clock by `milliseconds` (negative: back) without time passing: each sleeper keeps the time it
    /// has left to wait.
    package func step(by milliseconds: EpochMilliseconds) {
        state.withLock { state in
            state.now += milliseconds
            for id in state.sleepers.keys { state.sleepers[id]?.deadline += milliseconds }
        }
    }

    /// Returns once `count` sleeps have begun in total: the sleeping code has done its work and waits.
    package func waitForSleep(_ count: Int) async {
        await withCheckedContinuation { continuation in
            let ready = state.withLock { state in
                if state.sleepsBegun >= count { return true }
                state.sleepWaiters.append((count, continuation))
                return false
            }
            if ready { continuation.resume() }
        }
    }

    package func sleep(until deadline: EpochMilliseconds) async throws {
        let (id, ready) = state.withLock { state in
            defer { state.nextID += 1 }
            state.sleepsBegun += 1
            let begun = state.sleepsBegun
            let ready = state.sleepWaiters.filter { $0.count <= begun }.map(\.continuation)
            state.sleepWaiters.removeAll { $0.count <= begun }
            return (state.nextID, ready)
        }
        for waiter in ready { waiter.resume() }
        try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Void, any Error>) in
                let resumeNow = state.withLock { state in
                    if state.now >= deadline || Task.isCancelled { return true }
                    state.sleepers[id] = Sleeper(deadline: deadline, continuation: continuation)
                    return false
                }
                if resumeNow { continuation.resume() }
            }
        } onCancel: {
            state.withLock { $0.sleepers.removeValue(forKey: id) }?.continuation.resume(throwing: CancellationError())
        }
    }
}
