import ArgumentParser
import UptickApp
import UptickCore
import UptickEngine
import UptickStore

struct Prune: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Delete checks (and delivered or dead alert events) older than a duration, in short batches.")

    @OptionGroup var options: GlobalOptions
    @Option(help: "Age, e.g. 30d.") var olderThan: String

    func run() async throws {
        guard let age = DurationParser.milliseconds(olderThan) else { throw UptickError("--older-than '\(olderThan)' is not a duration (e.g. 30d)") }
        let store = try await Database.open(options.location, token: options.token)
        let cutoff = SystemClock().now() - age
        let deleted = try await storeCall { () throws(StoreError) in try await Retention(store: store).prune(startedBefore: cutoff) }
        emit(options.json ? Output.json(["deleted": deleted.checks, "deleted_events": deleted.events])
             : "deleted \(deleted.checks) checks and \(deleted.events) finished alert events from before \(Output.time(cutoff))")
    }
}
