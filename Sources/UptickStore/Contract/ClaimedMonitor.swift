package import UptickCore

/// A monitor claimed for one slot: the row as it was, and the slot this run is for.
package struct ClaimedMonitor: Sendable, Hashable {
    package var monitor: Monitor
    /// The slot being run (the latest slot at or before the claim time).
    package var slot: EpochMilliseconds

    package init(monitor: Monitor, slot: EpochMilliseconds) {
        self.monitor = monitor
        self.slot = slot
    }
}
