package import UptickCore

/// What one delivery attempt came to.
package struct DeliveryOutcome: Sendable, Hashable {
    package enum Verdict: Sendable, Hashable {
        case delivered
        /// Try again at the given time.
        case retry(at: EpochMilliseconds)
        /// Give up: the error is permanent or the event is too old.
        case dead
        /// Not sent after all (the run ended while it was in flight): due again now, the attempt not counted.
        case released
    }

    package var outboxID: Int64
    package var verdict: Verdict
    package var at: EpochMilliseconds
    /// Why it failed; for a delivered event, a note such as "skipped" (or `nil`).
    package var error: String?

    package init(outboxID: Int64, verdict: Verdict, at: EpochMilliseconds, error: String?) {
        self.outboxID = outboxID
        self.verdict = verdict
        self.at = at
        self.error = error
    }
}

/// What the deliverer needs from a database.
package protocol OutboxStore: Sendable {
    /// Claims up to `limit` due outbox rows of enabled channels, only the oldest undelivered row of each
    /// (channel, monitor) pair so events arrive in order per monitor, at most `perChannel` rows of each
    /// channel (its oldest), none of the channels in `excluding` (their lanes are full); leases them for
    /// `lease` (another deliverer skips them meanwhile; a crashed one's rows come back when it ends). Counts
    /// the attempt. Also returns the channels they go to.
    func claimDeliveries(now: EpochMilliseconds, limit: Int, perChannel: Int, excluding: Set<Int64>,
                         lease: Duration) async throws(StoreError) -> DeliveryClaim

    /// Records attempts' outcomes in one transaction.
    func record(_ outcomes: [DeliveryOutcome]) async throws(StoreError)

    /// Records outcomes and, in the same transaction (one round trip), claims as ``claimDeliveries(now:limit:perChannel:excluding:lease:)``.
    func record(_ outcomes: [DeliveryOutcome], thenClaiming request: DeliveryRequest) async throws(StoreError) -> DeliveryClaim
}

/// The arguments of a delivery claim (see ``OutboxStore/claimDeliveries(now:limit:perChannel:excluding:lease:)``).
package struct DeliveryRequest: Sendable, Hashable {
    package var now: EpochMilliseconds
    package var limit: Int
    package var perChannel: Int
    package var excluding: Set<Int64>
    package var lease: Duration

    package init(now: EpochMilliseconds, limit: Int, perChannel: Int, excluding: Set<Int64>, lease: Duration) {
        self.now = now
        self.limit = limit
        self.perChannel = perChannel
        self.excluding = excluding
        self.lease = lease
    }
}

/// The answer to ``OutboxStore/claimDeliveries(now:limit:perChannel:excluding:lease:)``.
package struct DeliveryClaim: Sendable {
    package var rows: [OutboxRecord]
    package var channels: [Int64: ChannelRecord]
}
