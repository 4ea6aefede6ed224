import Synchronization
import UptickCore

/// A wall clock that moves only when told to. Sleepers wake when it is advanced past their deadline.
public final class ManualClock: WallClock {
    private struct Sleeper {
        var deadline: EpochMilliseconds
        var continuation: CheckedContinuation<Void, any Error>
    }

    private struct State {
        var now: EpochMilliseconds
        var sleepers: [Int: Sleeper] = [:]
        var nextID = 0
    }

    private let state: Mutex<State>

    public init(now: EpochMilliseconds) {
        state = Mutex(State(now: now))
    }

    public func now() -> EpochMilliseconds { state.withLock { $0.now } }

    /// Moves the clock to `time` and wakes the sleepers whose deadline has come.
    public func advance(to time: EpochMilliseconds) {
        let woken = state.withLock { state in
            state.now = max(state.now, time)
            let due = state.sleepers.filter { $0.value.deadline <= state.now }
            for id in due.keys { state.sleepers.removeValue(forKey: id) }
            return due.values.map(\.continuation)
        }
        for continuation in woken { continuation.resume() }
    }

    public func advance(by milliseconds: EpochMilliseconds) { advance(to: now() + milliseconds) }

    public func sleep(until deadline: EpochMilliseconds) async throws {
        let id = state.withLock { state in
            defer { state.nextID += 1 }
            return state.nextID
        }
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
