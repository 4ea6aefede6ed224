/// The latency histogram a rollup keeps: 24 buckets on a ×1.5 scale from 1 ms, enough for p50 and p95 of an
/// hour or a day without storing samples. Bucket `k < 23` counts durations in `(bound(k − 1), bound(k)]`
/// (bucket 0 from 0), bucket 23 everything above 7.48 s. A quantile is interpolated linearly inside its
/// bucket, so it is within one bucket's width of the true value: at most 50 % off, usually far less.
public struct LatencyHistogram: Sendable, Hashable, Codable {
    /// Buckets in a histogram.
    public static let bucketCount = 24

    /// Upper bounds in microseconds of buckets 0…22: ⌊1000 × 1.5^k⌋.
    public static let bounds: [Int64] = (0..<(bucketCount - 1)).map { k in
        var value = 1000.0
        for _ in 0..<k { value *= 1.5 }
        return Int64(value)
    }

    /// The bucket that counts a duration of `microseconds`.
    public static func bucket(_ microseconds: Int64) -> Int {
        var low = 0, high = bounds.count
        while low < high {
            let middle = (low + high) / 2
            if microseconds <= bounds[middle] { high = middle } else { low = middle + 1 }
        }
        return low
    }

    /// Counts per bucket, `bucketCount` of them.
    public var counts: [Int64]
    /// The largest duration counted, microseconds (bounds the last bucket).
    public var maximum: Int64

    /// An empty histogram.
    public init() {
        self.init(counts: Array(repeating: 0, count: Self.bucketCount), maximum: 0)
    }

    /// A histogram with these counts; missing buckets are empty.
    public init(counts: [Int64], maximum: Int64) {
        self.counts = Array((counts + Array(repeating: 0, count: Self.bucketCount)).prefix(Self.bucketCount))
        self.maximum = maximum
    }

    /// Durations counted.
    public var total: Int64 { counts.reduce(0, +) }

    /// Counts one duration.
    public mutating func record(_ microseconds: Int64) {
        let value = max(0, microseconds)
        counts[Self.bucket(value)] += 1
        maximum = max(maximum, value)
    }

    /// Adds another histogram's counts.
    public mutating func merge(_ other: LatencyHistogram) {
        for index in counts.indices { counts[index] += other.counts[index] }
        maximum = max(maximum, other.maximum)
    }

    /// The duration under which `quantile` (0…1) of the counted durations fall, microseconds; `nil` when empty.
    public func quantile(_ quantile: Double) -> Int64? {
        let total = self.total
        guard total > 0 else { return nil }
        let rank = min(max(quantile, 0), 1) * Double(total)
        var below: Int64 = 0
        for (index, count) in counts.enumerated() where count > 0 {
            if Double(below + count) >= rank {
                let lower = index == 0 ? 0 : Self.bounds[index - 1]
                let upper = min(index < Self.bounds.count ? Self.bounds[index] : maximum, maximum)
                let within = (rank - Double(below)) / Double(count)
                return lower + Int64((Double(max(upper - lower, 0)) * within).rounded())
            }
            below += count
        }
        return maximum
    }
}
