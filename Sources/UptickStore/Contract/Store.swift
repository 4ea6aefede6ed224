package import UptickCore

/// What the engine needs from a database. One call is one round trip on a network database.
package protocol Store: Sendable {
    /// Gives new and re-enabled monitors their first slot, then atomically claims up to `limit`
    /// enabled monitors due at `now` (oldest slot first), advances each to its next slot, and leases
    /// it until its timeout plus `leaseGrace` has passed so no other runner checks it meanwhile.
    /// The same round trip reports when the next unleased monitor is due.
    ///
    /// `leaseIntervals` lengthens each lease by that many of the monitor's intervals: a dispatcher's claim also
    /// covers the time its slots wait in a queue (docs/scale-out.md).
    func claimDue(now: EpochMilliseconds, limit: Int, leaseGrace: Duration, leaseIntervals: Int) async throws(StoreError) -> Claim

    /// Gives back claimed slots that will not be run by whoever claimed them: each lease is cleared if it is still
    /// the one claimed (``ClaimedMonitor/leaseUntil``). `rescheduling`: the slot is due again at once (a dispatcher
    /// that could not send it); otherwise the monitor is simply due at its next slot (a slot too old to run).
    func release(_ claims: [ClaimedMonitor], rescheduling: Bool) async throws(StoreError)

    /// Writes `outcomes` in one transaction: their `checks` rows and the monitors' new state, releasing their leases.
    func persist(_ outcomes: [CheckOutcome]) async throws(StoreError)

    /// Deletes up to `limit` `checks` rows that started before `cutoff`; returns how many it deleted.
    func pruneChecks(startedBefore cutoff: EpochMilliseconds, limit: Int) async throws(StoreError) -> Int

    /// Deletes up to `limit` finished (delivered or dead) `outbox` rows created before `cutoff`; returns how many.
    /// Pending rows are never deleted, however old.
    func pruneOutbox(createdBefore cutoff: EpochMilliseconds, limit: Int) async throws(StoreError) -> Int

    /// Deletes up to `limit` rollups at `resolution` whose period started before `cutoff`; returns how many.
    func pruneRollups(_ resolution: Rollup.Resolution, before cutoff: EpochMilliseconds, limit: Int) async throws(StoreError) -> Int
}

extension Store {
    /// A claim whose leases cover one check (the engine's).
    package func claimDue(now: EpochMilliseconds, limit: Int, leaseGrace: Duration) async throws(StoreError) -> Claim {
        try await claimDue(now: now, limit: limit, leaseGrace: leaseGrace, leaseIntervals: 0)
    }
}

/// The answer to a claim.
package struct Claim: Sendable, Hashable {
    /// The monitors claimed, each for one slot.
    package var monitors: [ClaimedMonitor]
    /// When the next unleased enabled monitor is due after this claim; `nil` when none is enabled.
    package var nextDue: EpochMilliseconds?

    package init(monitors: [ClaimedMonitor], nextDue: EpochMilliseconds?) {
        self.monitors = monitors
        self.nextDue = nextDue
    }
}
