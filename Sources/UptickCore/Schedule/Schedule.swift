/// Fixed-rate slot arithmetic. The SQL in UptickStore computes exactly the same values (tested).
///
/// A monitor's slots are `phase + k × interval`: the phase comes from its id, so monitors created
/// together spread evenly over their interval, and slots never drift because each is computed from
/// the previous slot, not from when a check happened to finish.
public enum Schedule {
    /// Knuth's multiplicative hashing constant (2^32 / φ): consecutive ids land far apart.
    public static let phaseMultiplier: Int64 = 2_654_435_761

    /// Where in its interval monitor `id` runs, in `0..<interval`.
    ///
    /// Computed as `(id mod i) × (K mod i) mod i`, which cannot overflow for intervals below 30 days.
    public static func phase(id: Int64, intervalMilliseconds interval: Int64) -> Int64 {
        precondition(interval > 0)
        return modulo(modulo(id, interval) * modulo(phaseMultiplier, interval), interval)
    }

    /// The first slot at or after `now` for a monitor that has none yet (new or re-enabled).
    public static func firstSlot(id: Int64, intervalMilliseconds interval: Int64, atOrAfter now: EpochMilliseconds) -> EpochMilliseconds {
        now + modulo(phase(id: id, intervalMilliseconds: interval) - now, interval)
    }

    /// The slot that follows `slot` when the monitor is claimed at `now` (`now >= slot`):
    /// the first slot strictly after `now`. Slots missed while the runner was away are skipped, not burst.
    public static func nextSlot(after slot: EpochMilliseconds, intervalMilliseconds interval: Int64, now: EpochMilliseconds) -> EpochMilliseconds {
        slot + interval * (max(0, now - slot) / interval + 1)
    }

    /// `value mod divisor` in `0..<divisor`, also for negative values.
    static func modulo(_ value: Int64, _ divisor: Int64) -> Int64 {
        ((value % divisor) + divisor) % divisor
    }
}
