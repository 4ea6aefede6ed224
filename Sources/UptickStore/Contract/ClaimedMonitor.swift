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
}
