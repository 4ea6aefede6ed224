package import UptickCore

/// A monitor claimed for one slot: the row as it was, and the slot this run is for.
package struct ClaimedMonitor: Sendable, Hashable, Codable {
    package var monitor: Monitor
    /// The slot being run (the latest slot at or before the claim time).
    package var slot: EpochMilliseconds
    /// The lease the claim set; a release clears it only if it is still this one.
    package var leaseUntil: EpochMilliseconds?

    package init(monitor: Monitor, slot: EpochMilliseconds, leaseUntil: EpochMilliseconds? = nil) {
        self.monitor = monitor
        self.slot = slot
        self.leaseUntil = leaseUntil
    }

    /// Whether a check started at `now` ends inside the lease (its timeout, bounded as the claim bounds it, fits before
    /// `leaseUntil`). A check is started only then, so no check outlives its lease and another runner may take the
    /// monitor the moment the lease ends (a claim that answered late, or a long tick, would break that).
    package func leaseCovers(checkStartingAt now: EpochMilliseconds) -> Bool {
        guard let leaseUntil else { return true }
        return now + checkTimeout <= leaseUntil
    }

    /// The monitor's timeout, bounded as the claim bounds it.
    package var checkTimeout: EpochMilliseconds { min(max(monitor.timeoutMilliseconds, 0), Limits.maxTimeoutMilliseconds) }
}
