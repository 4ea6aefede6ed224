package import UptickCore

/// What a tick, or a daemon run, did.
package struct EngineReport: Sendable {
    /// Monitors claimed.
    package var claimed = 0
    /// Results committed, by verdict.
    package var up = 0
    package var degraded = 0
    package var down = 0
    /// Status changes committed.
    package var transitions = 0
    /// Results that could not be committed; the caller keeps them (see `Spool`) for the next run.
    package var unpersisted: [CheckOutcome] = []
    /// The runner's own faults (database errors), in order.
    package var errors: [String] = []
    /// Schedule lateness (start − slot) of the checks run, milliseconds.
    package var lateness = LatenessStats()
    /// Time spent in successful commits (for rows/s).
    package var commitTime: Duration = .zero

    /// Results committed.
    package var persisted: Int { up + degraded + down }

    package init() {}
}

/// Count, max and a coarse histogram of schedule lateness, enough for p50/p99 without storing samples.
package struct LatenessStats: Sendable {
    /// Upper bounds (ms) of the histogram buckets; the last bucket holds everything above.
    package static let bounds: [Int64] = [1, 2, 5, 10, 25, 50, 100, 250, 500, 1000, 2500, 5000, 10000]
    package private(set) var buckets = [Int](repeating: 0, count: bounds.count + 1)
    package private(set) var count = 0
    package private(set) var max: Int64 = 0

    mutating func record(_ milliseconds: Int64) {
        let value = Swift.max(0, milliseconds)
        buckets[Self.bounds.firstIndex { value <= $0 } ?? Self.bounds.count] += 1
        count += 1
        max = Swift.max(max, value)
    }

    /// The bucket bound under which `quantile` (0...1) of the samples fall; `nil` without samples.
    package func percentile(_ quantile: Double) -> Int64? {
        guard count > 0 else { return nil }
        let rank = Int((Double(count) * quantile).rounded(.up))
        var seen = 0
        for (index, bucket) in buckets.enumerated() {
            seen += bucket
            if seen >= rank { return index < Self.bounds.count ? Swift.min(Self.bounds[index], max) : max }
        }
        return max
    }
}
