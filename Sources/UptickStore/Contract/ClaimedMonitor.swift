public import UptickCore

/// A monitor claimed for one slot: the row as it was, and the slot this run is for.
public struct ClaimedMonitor: Sendable, Hashable {
    public var monitor: Monitor
    /// The slot being run (the latest slot at or before the claim time).
    public var slot: EpochMilliseconds

    public init(monitor: Monitor, slot: EpochMilliseconds) {
        self.monitor = monitor
        self.slot = slot
    }
}
