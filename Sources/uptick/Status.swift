import ArgumentParser
import Foundation
import UptickApp
import UptickCore
import UptickStore

struct Status: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Every monitor: status, last check, latency, uptime over 24 h.")

    @OptionGroup var options: GlobalOptions

    func run() async throws {
        let store = try await Database.open(options.location, token: options.token)
        let now = SystemClock().now()
        // The 24 hours the bars show: the current one and the 23 before it.
        let since = Rollup.Resolution.hourly.periodStart(now) - 23 * Rollup.Resolution.hourly.milliseconds
        let summaries = try await storeCall { () throws(StoreError) in try await store.summaries(since: since) }
        if options.json { return emit(Output.json(summaries)) }
        let color = isatty(STDOUT_FILENO) == 1 && (ProcessInfo.processInfo.environment["NO_COLOR"] ?? "").isEmpty
        emit(Output.table(["ID", "NAME", "TYPE", "TARGET", "STATUS", "LAST CHECK", "LATENCY", "UPTIME 24H", "LAST 24 HOURS"], summaries.map {
            [String($0.monitor.id), $0.monitor.name, $0.monitor.type, $0.monitor.target,
             $0.monitor.enabled ? $0.monitor.status.rawValue : "disabled", Output.time($0.monitor.lastCheckedAt),
             Output.latency($0.lastDurationMicroseconds), $0.uptime.map { String(format: "%.2f%%", $0 * 100) } ?? "-",
             Output.hourBars($0.hours, now: now, color: color)]
        }))
    }
}
