package import UptickCore
package import UptickStore

/// What the engine tells whoever watches it (metrics, readiness). Each call is cheap and must not block: they are
/// made on the engine's loop and, for ``checked(_:_:)``, on the check's event-loop thread.
package protocol EngineObserver: Sendable {
    /// A claim answered with `count` monitors (a failed claim: `nil`) after `took`.
    func claimed(_ count: Int?, took: Duration, at: EpochMilliseconds)
    /// A check of `claimed` ended with `outcome`.
    func checked(_ claimed: ClaimedMonitor, _ outcome: CheckOutcome)
    /// A commit of `count` results answered (`failed`: it did not land) after `took`.
    func committed(_ count: Int, failed: Bool, took: Duration, at: EpochMilliseconds)
    /// After every event: checks in flight and results waiting to be committed.
    func load(inFlight: Int, pending: Int)
}

/// Nobody watching.
package struct NoObserver: EngineObserver {
    package init() {}
    package func claimed(_ count: Int?, took: Duration, at: EpochMilliseconds) {}
    package func checked(_ claimed: ClaimedMonitor, _ outcome: CheckOutcome) {}
    package func committed(_ count: Int, failed: Bool, took: Duration, at: EpochMilliseconds) {}
    package func load(inFlight: Int, pending: Int) {}
}
