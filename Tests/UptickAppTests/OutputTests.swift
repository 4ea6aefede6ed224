import Testing
import UptickApp
import UptickCore
import UptickStore

@Suite("Terminal output")
struct OutputTests {
    @Test("the 24-hour bars: one character an hour, oldest first, by the share of checks not down; color only when asked")
    func hourBars() {
        let hour: EpochMilliseconds = 3_600_000
        let now: EpochMilliseconds = 1_764_460_800_000 + 10 * hour + 1_234
        func rollup(_ back: Int64, up: Int64, down: Int64) -> Rollup {
            Rollup(monitorID: 1, periodStart: Rollup.Resolution.hourly.periodStart(now) - back * hour, up: up, degraded: 0, down: down,
                   durationSumMicroseconds: 0, latency: LatencyHistogram())
        }
        let hours = [rollup(23, up: 5, down: 0), rollup(2, up: 3, down: 1), rollup(1, up: 1, down: 3), rollup(0, up: 2, down: 0), rollup(30, up: 0, down: 1)]
        let plain = Output.hourBars(hours, now: now, color: false)
        #expect(plain == "█" + String(repeating: "·", count: 20) + "▅▁█")
        let colored = Output.hourBars(hours, now: now, color: true)
        #expect(colored.hasPrefix("\u{1B}[32m█\u{1B}[0m·") && colored.contains("\u{1B}[33m▅") && colored.contains("\u{1B}[31m▁"))
    }

    @Test("a progress line: done of total with its share, or a bare count")
    func progressLine() {
        #expect(Progress.line("daemon run", done: 12, total: 30, unit: "s") == "daemon run: 12/30 s (40%)")
        #expect(Progress.line("import", done: 7, total: nil, unit: "rows") == "import: 7 rows")
    }
}
