import NIOCore
import NIOPosix
import Synchronization

/// Runs `operation` but returns `fallback()` once `limit` has passed, even if `operation` ignores
/// cancellation. The engine's backstop for "every probe ends".
///
/// The operation runs in an unstructured task so the caller is not held by it; on timeout that task is
/// cancelled and left to unwind on its own. The timer is an event-loop timer (cheap to arm and cancel),
/// not a second task sleeping on a Dispatch timer; a well-behaved probe ends at its own deadline first
/// and cancels it.
func withHardDeadline<T: Sendable>(
    _ limit: Duration, operation: @escaping @Sendable () async -> T, fallback: @escaping @Sendable () -> T
) async -> T {
    let race = Race<T>()
    return await withCheckedContinuation { continuation in
        race.install(continuation)
        let timer = MultiThreadedEventLoopGroup.singleton.next().scheduleTask(in: .nanoseconds(Int64(limit.wholeNanoseconds))) {
            if race.offer(fallback()) { race.cancelWork() }
        }
        race.setWork(Task {
            let value = await operation()
            if race.offer(value) { timer.cancel() }
        })
    }
}

extension Duration {
    var wholeNanoseconds: Int64 {
        components.seconds * 1_000_000_000 + components.attoseconds / 1_000_000_000
    }
}

/// Resumes a continuation with the first value offered; later offers are dropped.
private final class Race<T: Sendable>: Sendable {
    private struct State {
        var continuation: CheckedContinuation<T, Never>?
        var done = false
        var work: Task<Void, Never>?
    }

    private let state = Mutex(State())

    func install(_ continuation: CheckedContinuation<T, Never>) {
        state.withLock { $0.continuation = continuation }
    }

    func setWork(_ work: Task<Void, Never>) {
        let finished = state.withLock { state in
            state.work = work
            return state.done
        }
        if finished { work.cancel() }
    }

    func cancelWork() {
        state.withLock { $0.work }?.cancel()
    }

    /// Returns whether `value` was the first.
    func offer(_ value: T) -> Bool {
        let continuation: CheckedContinuation<T, Never>? = state.withLock { state in
            guard !state.done else { return nil }
            state.done = true
            defer { state.continuation = nil }
            return state.continuation
        }
        continuation?.resume(returning: value)
        return continuation != nil
    }
}
