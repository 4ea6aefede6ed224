import Synchronization
package import UptickCore

/// Wakes a waiting deliverer: rung after a commit that put events in the outbox, so delivery does
/// not wait for the next poll. A ring with nobody waiting is kept for the next wait.
package final class Doorbell: Sendable {
    private struct State {
        var rung = false
        var waiter: CheckedContinuation<Void, Never>?
    }

    private let state = Mutex(State())

    package init() {}

    package func ring() {
        let waiter = state.withLock { state in
            defer { state.waiter = nil }
            if state.waiter == nil { state.rung = true }
            return state.waiter
        }
        waiter?.resume()
    }

    /// Returns at the next ring (at once if one is pending), or when the task is cancelled. One waiter at a time.
    func wait() async {
        await withTaskCancellationHandler {
            await withCheckedContinuation { continuation in
                let resumeNow = state.withLock { state in
                    if state.rung || Task.isCancelled {
                        state.rung = false
                        return true
                    }
                    state.waiter = continuation
                    return false
                }
                if resumeNow { continuation.resume() }
            }
        } onCancel: {
            state.withLock { state in
                defer { state.waiter = nil }
                return state.waiter
            }?.resume()
        }
    }
}

/// Passes committed outcomes on to another sink and rings the doorbell when any announced something.
package struct DeliveryTrigger: TransitionSink {
    let next: any TransitionSink
    let doorbell: Doorbell

    package init(next: any TransitionSink, doorbell: Doorbell) {
        self.next = next
        self.doorbell = doorbell
    }

    package func statusChanged(_ outcomes: [CheckOutcome]) async {
        if outcomes.contains(where: { !($0.alerts?.events.isEmpty ?? true) }) { doorbell.ring() }
        await next.statusChanged(outcomes)
    }
}
