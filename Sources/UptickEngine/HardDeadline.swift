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
///
/// Checks are spread over the event loops here: the task is started from the loop that holds its timer.
/// With NIO's loops as Swift's global executor (as `uptick` runs), a task stays on the loop it was started
/// from, and the probe opens its connection on the current loop (`EventLoopGroup.any()`), so a check's
/// task, timer and channel share one thread and wake each other without a cross-thread hand-off.
func withHardDeadline<T: Sendable>(
    _ limit: Duration, operation: @escaping @Sendable () async -> T, fallback: @escaping @Sendable () -> T
) async -> T {
    let race = Race<T>()
    return await withCheckedContinuation { continuation in
        race.install(continuation)
        let loop = MultiThreadedEventLoopGroup.singleton.next()
        loop.execute {
            let timer = loop.scheduleTask(in: .nanoseconds(Int64(limit.wholeNanoseconds))) {
                if race.offer(fallback()) { race.cancelWork() }
            }
            race.setWork(Task {
                let value = await operation()
                if race.offer(value) { timer.cancel() }
            })
        }
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
