import ArgumentParser
import UptickApp
import UptickCore
import UptickEngine

struct Tick: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Run every monitor that is due now, commit the results, and exit (for cron or a scheduler)."
    )

    @OptionGroup var options: GlobalOptions
    @OptionGroup var engineOptions: EngineOptions
    @OptionGroup var policyOptions: PolicyOptions

    func run() async throws {
        let configuration = try engineOptions.configuration()
        let store = try await Database.open(options.location)
        let spool = Database.spool(for: options.location)
        let clock = SystemClock()
        let started = clock.now()
        let report = await makeEngine(store: store, configuration: configuration, policy: try policyOptions.policy()).tick(carriedOver: try spool.load())
        let elapsed = clock.now() - started
        if options.json {
            emit(Output.json(TickSummary(report: report, elapsedMilliseconds: elapsed)))
        } else {
            emit(Output.summary(report, elapsedMilliseconds: elapsed))
        }
        try spoolLeftovers(report, location: options.location)
        if let error = report.errors.last { throw CLIFailure(error, exitCode: CLIFailure.runtime) }
    }
}

/// `uptick tick --json`.
struct TickSummary: Encodable {
    var claimed, up, degraded, down, statusChanges, spooled: Int
    var durationMs: Int64
    var errors: [String]

    init(report: EngineReport, elapsedMilliseconds: Int64) {
        claimed = report.claimed
        up = report.up
        degraded = report.degraded
        down = report.down
        statusChanges = report.transitions
        spooled = report.unpersisted.count
        durationMs = elapsedMilliseconds
        errors = report.errors
    }
}
