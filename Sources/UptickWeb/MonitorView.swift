package import UptickCore
package import UptickStore

/// What the status page, the badges and the API show of one monitor, worked out from its rollups: pure, tested alone.
package struct MonitorView: Sendable, Hashable {
    /// One day's bar.
    package struct Day: Sendable, Hashable {
        package var start: EpochMilliseconds
        package var uptime: Double?
        package var checks: Int64
    }

    package var monitor: Monitor
    /// The last `days` UTC days, oldest first, today included.
    package var days: [Day]
    package var uptime24h: Double?
    package var uptime30d: Double?
    package var uptime90d: Double?
    /// Median duration per hour of the last 24 hours (microseconds), oldest first; `nil` for an hour without checks.
    package var hourlyMedian: [Int64?]

    /// The days shown on the page.
    package static let dayCount = 90

    package init(monitor: Monitor, daily: [Rollup], hourly: [Rollup], now: EpochMilliseconds) {
        self.monitor = monitor
        let today = Rollup.Resolution.daily.periodStart(now)
        let byDay = Dictionary(daily.map { ($0.periodStart, $0) }, uniquingKeysWith: { first, _ in first })
        days = (0..<Self.dayCount).reversed().map { back in
            let start = today - Int64(back) * Rollup.Resolution.daily.milliseconds
            let rollup = byDay[start]
            return Day(start: start, uptime: rollup?.uptime, checks: rollup?.checks ?? 0)
        }
        func uptime(_ rollups: some Sequence<Rollup>) -> Double? {
            var good: Int64 = 0, total: Int64 = 0
            for rollup in rollups {
                good += rollup.up + rollup.degraded
                total += rollup.checks
            }
            return total > 0 ? Double(good) / Double(total) : nil
        }
        uptime30d = uptime(daily.filter { $0.periodStart > today - 30 * Rollup.Resolution.daily.milliseconds })
        uptime90d = uptime(daily.filter { $0.periodStart > today - Int64(Self.dayCount) * Rollup.Resolution.daily.milliseconds })
        let hour = Rollup.Resolution.hourly.periodStart(now)
        let firstHour = hour - 23 * Rollup.Resolution.hourly.milliseconds
        let lastDay = hourly.filter { $0.periodStart >= firstHour }
        uptime24h = uptime(lastDay)
        let byHour = Dictionary(lastDay.map { ($0.periodStart, $0) }, uniquingKeysWith: { first, _ in first })
        hourlyMedian = (0..<24).map { byHour[firstHour + Int64($0) * Rollup.Resolution.hourly.milliseconds]?.p50Microseconds }
    }

    /// The earliest daily and hourly periods a view at `now` reads.
    package static func windows(now: EpochMilliseconds) -> (daily: EpochMilliseconds, hourly: EpochMilliseconds) {
        (Rollup.Resolution.daily.periodStart(now) - Int64(dayCount - 1) * Rollup.Resolution.daily.milliseconds,
         Rollup.Resolution.hourly.periodStart(now) - 23 * Rollup.Resolution.hourly.milliseconds)
    }
}
