import Testing
import UptickCore

@Suite("Latency histogram")
struct LatencyHistogramTests {
    @Test("bounds grow by half from 1 ms; a duration lands in the first bucket whose bound it does not exceed")
    func buckets() {
        #expect(LatencyHistogram.bounds.prefix(4) == [1_000, 1_500, 2_250, 3_375])
        #expect(LatencyHistogram.bounds.count == LatencyHistogram.bucketCount - 1 && LatencyHistogram.bounds.last == 7_481_827)
        #expect(LatencyHistogram.bucket(0) == 0 && LatencyHistogram.bucket(1_000) == 0 && LatencyHistogram.bucket(1_001) == 1)
        #expect(LatencyHistogram.bucket(7_481_827) == 22 && LatencyHistogram.bucket(10_000_000) == 23)
    }

    @Test("a quantile is interpolated within its bucket and never exceeds the largest duration")
    func quantiles() {
        var histogram = LatencyHistogram()
        #expect(histogram.quantile(0.5) == nil)
        for _ in 0..<90 { histogram.record(20_000) }  // bucket (17 085, 25 628]
        for _ in 0..<10 { histogram.record(400_000) }
        let median = try! #require(histogram.quantile(0.5))
        #expect(median > 17_085 && median <= 25_628)  // within its bucket: uniform inside it is assumed
        let p95 = try! #require(histogram.quantile(0.95))
        #expect(p95 > 291_929 && p95 <= 400_000)
        #expect(histogram.quantile(1) == 400_000)
        var other = LatencyHistogram()
        other.record(-5)  // clamped to 0
        histogram.merge(other)
        #expect(histogram.total == 101 && histogram.counts[0] == 1)
    }
}
