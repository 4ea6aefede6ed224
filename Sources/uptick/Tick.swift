import ArgumentParser
import UptickAlerts
import UptickLibSQL
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
    @OptionGroup var deliveryOptions: DeliveryOptions
    @Option(help: "After the checks, deliver due alerts for at most this long ('0' skips delivery).") var deliverFor = "10s"

    func run() async throws {
        let configuration = try engineOptions.configuration(remote: LibSQLDatabase.handles(options.location), tick: true)
        guard let budget = DurationParser.milliseconds(deliverFor) else { throw CLIFailure("--deliver-for '\(deliverFor)' is not a duration") }
        let network = try policyOptions.network()
        let deliveryConfiguration = try deliveryOptions.configuration()
        let store = try await Database.open(options.location, token: options.token)
        let spool = Database.spool(for: options.location)
        let clock = SystemClock()
        let started = clock.now()
        let report = await makeEngine(store: store, configuration: configuration, network: network).tick(carriedOver: try spool.load())
        let delivery = budget > 0 ? await makeDeliverer(store: store, network: network, configuration: deliveryConfiguration).deliverDue(budget: .milliseconds(budget)) : DeliveryReport()
        let elapsed = clock.now() - started
        if options.json {
            emit(Output.json(TickSummary(report: report, delivery: delivery, elapsedMilliseconds: elapsed)))
        } else {
            emit(Output.summary(report, elapsedMilliseconds: elapsed))
            if delivery.attempts > 0 {
                emit("alerts: \(delivery.delivered) delivered, \(delivery.skipped) skipped, \(delivery.retrying) to retry, \(delivery.dead) dead")
            }
        }
        try spoolLeftovers(report, location: options.location)
        if let error = report.errors.last { throw CLIFailure(error, exitCode: CLIFailure.runtime) }
    }
}

/// `uptick tick --json`.
struct TickSummary: Encodable {
    var claimed, up, degraded, down, statusChanges, spooled: Int
    var alertsDelivered, alertsSkipped, alertsRetrying, alertsDead: Int
    var durationMs: Int64
    var errors: [String]

    init(report: EngineReport, delivery: DeliveryReport, elapsedMilliseconds: Int64) {
        alertsDelivered = delivery.delivered
        alertsSkipped = delivery.skipped
        alertsRetrying = delivery.retrying
        alertsDead = delivery.dead
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
