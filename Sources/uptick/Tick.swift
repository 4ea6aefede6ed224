import UptickAlerts
import ArgumentParser
import UptickApp

struct Tick: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Run every monitor that is due now, commit the results, and exit (for cron or a scheduler)."
    )

    @OptionGroup var options: GlobalOptions
    @OptionGroup var engineOptions: EngineOptions
    @OptionGroup var policyOptions: PolicyOptions
    @OptionGroup var deliveryOptions: DeliveryOptions
    @Option(help: "After the checks, deliver due alerts for at most this long ('0' skips delivery; default 10s).") var deliverFor: String?

    func run() async throws {
        let configuration = try options.configuration(
            engineOptions.flags, policyOptions.flags, deliveryOptions.flags, ["deliver-for": deliverFor.map { [$0] } ?? []].filter { !$0.value.isEmpty }
        )
        try announce(configuration)
        let run = try await Assembly.open(configuration, role: .tick).tick()
        if options.json {
            emit(Output.json(TickSummary(run)))
        } else {
            emit(Output.summary(run.report, elapsedMilliseconds: run.elapsedMilliseconds))
            let delivery = run.delivery
            if delivery.attempts > 0 {
                emit("alerts: \(delivery.delivered) delivered, \(delivery.skipped) skipped, \(delivery.retrying) to retry, \(delivery.dead) dead")
            }
        }
        if let failure = run.failure { throw failure }
    }
}
