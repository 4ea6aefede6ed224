import NIOCore
import NIOPosix
import Synchronization

/// Starts `operation` and calls `deliver` exactly once: with its value, or with `fallback()` once `limit`
/// has passed, even if `operation` ignores cancellation. The engine's backstop for "every probe ends".
///
/// The operation runs in an unstructured task so nobody is held by it; on timeout that task is cancelled
/// and left to unwind on its own, and its late value is dropped. The timer is an event-loop timer (cheap to
/// arm and cancel); a well-behaved probe ends at its own deadline first and cancels it.
///
/// Checks are spread over the event loops here: the task is started from the loop that holds its timer.
/// With NIO's loops as Swift's global executor (as `uptick` runs), a task stays on the loop it was started
/// from, and the probe opens its connection on the current loop (`EventLoopGroup.any()`), so a check's
/// task, timer and channel share one thread and wake each other without a cross-thread hand-off.
/// `deliver` is called on that thread: it must be quick.
///
/// `ended` is called once the operation itself has returned, which for an operation that overran its
/// deadline is after `deliver`.
func startWithHardDeadline<T: Sendable>(
    _ limit: Duration, operation: @escaping @Sendable () async -> T, fallback: @escaping @Sendable () -> T,
    ended: @escaping @Sendable () -> Void = {}, deliver: @escaping @Sendable (T) -> Void
) {
    let race = Race<T>(deliver)
    let loop = MultiThreadedEventLoopGroup.singleton.next()
    loop.execute {
        let timer = loop.scheduleTask(in: .nanoseconds(Int64(limit.wholeNanoseconds))) {
            if race.offer(fallback()) { race.cancelWork() }
        }
        race.setWork(Task {
            let value = await operation()
            if race.offer(value) { timer.cancel() }
            ended()
        })
    }
}

extension Duration {
    var wholeNanoseconds: Int64 {
        components.seconds * 1_000_000_000 + components.attoseconds / 1_000_000_000
    }
}

/// Delivers the first value offered; later offers are dropped.
private final class Race<T: Sendable>: Sendable {
    private struct State {
        var done = false
        var work: Task<Void, Never>?
    }

    private let deliver: @Sendable (T) -> Void
    private let state = Mutex(State())

    init(_ deliver: @escaping @Sendable (T) -> Void) {
        self.deliver = deliver
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

    /// Returns whether `value` was the first (and so was delivered).
    func offer(_ value: T) -> Bool {
        let first = state.withLock { state in
            defer { state.done = true }
            return !state.done
        }
        if first { deliver(value) }
        return first
    }
}
