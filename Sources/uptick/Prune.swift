import ArgumentParser
import UptickApp
import UptickCore
import UptickEngine
import UptickStore

struct Prune: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Delete checks (and delivered or dead alert events) older than a duration, and optionally rollups, in short batches.")

    @OptionGroup var options: GlobalOptions
    @Option(help: "Age of the checks to delete, e.g. 30d.") var olderThan: String
    @Option(help: "Also delete hourly rollups older than this.") var hourlyOlderThan: String?
    @Option(help: "Also delete daily rollups older than this.") var dailyOlderThan: String?

    func run() async throws {
        func age(_ text: String?, _ flag: String) throws -> Duration? {
            guard let text else { return nil }
            guard let milliseconds = DurationParser.milliseconds(text) else { throw UptickError("--\(flag) '\(text)' is not a duration (e.g. 30d)") }
            return .milliseconds(milliseconds)
        }
        let keep = Retention.Keep(checks: try age(olderThan, "older-than"), hourly: try age(hourlyOlderThan, "hourly-older-than"),
                                  daily: try age(dailyOlderThan, "daily-older-than"))
        let store = try await Database.open(options.location, token: options.token)
        let now = SystemClock().now()
        let deleted = try await storeCall { () throws(StoreError) in try await Retention(store: store).prune(keep, now: now) }
        emit(options.json ? Output.json(["deleted": deleted.checks, "deleted_events": deleted.events, "deleted_rollups": deleted.rollups])
             : "deleted \(deleted.checks) checks and \(deleted.events) finished alert events from before \(Output.time(now - (keep.checks ?? .zero).wholeMilliseconds)), and \(deleted.rollups) rollups")
    }
}
