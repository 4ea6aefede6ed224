/// Receives the outcomes that were just committed and changed a status or announced something. The
/// alerts themselves are already in the outbox by then (same transaction); a sink only reacts, for
/// example by waking the deliverer.
package protocol TransitionSink: Sendable {
    /// Called after the commit, with the committed outcomes that have a transition or alert effects.
    func statusChanged(_ outcomes: [CheckOutcome]) async
}
