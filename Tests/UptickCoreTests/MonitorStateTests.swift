import Testing
import UptickCore

@Suite("Status logic")
struct MonitorStateTests {
    @Test("every status change is a transition, with the time it happened", arguments: [
        (MonitorStatus.pending, CheckStatus.up, MonitorStatus.up),
        (.pending, .down, .down),
        (.up, .down, .down),
        (.down, .up, .up),
        (.up, .degraded, .degraded),
        (.degraded, .up, .up),
    ])
    func transitions(from: MonitorStatus, verdict: CheckStatus, to: MonitorStatus) {
        let (state, transition) = MonitorState(status: from).applying(verdict, at: 1234)
        #expect(state.status == to)
        #expect(transition == StatusTransition(from: from, to: to, at: 1234))
        #expect(state.statusChangedAt == 1234)
    }

    @Test("the same status again is no transition and keeps the time of the last change")
    func noChange() {
        let (state, transition) = MonitorState(status: .up, statusChangedAt: 10).applying(.up, at: 99)
        #expect(transition == nil)
        #expect(state.statusChangedAt == 10)
    }

    @Test("counters count consecutive failures and successes")
    func counters() {
        var state = MonitorState()
        for verdict in [CheckStatus.down, .down, .down] { state = state.applying(verdict, at: 0).state }
        #expect(state.consecutiveFailures == 3 && state.consecutiveSuccesses == 0)
        state = state.applying(.degraded, at: 0).state
        state = state.applying(.up, at: 0).state
        #expect(state.consecutiveFailures == 0 && state.consecutiveSuccesses == 2)
    }
}
