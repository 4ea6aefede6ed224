import ArgumentParser
import UptickAlerts
import UptickLibSQL
import Foundation
import UptickApp
import UptickCore
import UptickEngine
import Logging

struct Run: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Run as a daemon: each check starts at its slot; SIGINT/SIGTERM stop it gracefully."
    )

    @OptionGroup var options: GlobalOptions
    @OptionGroup var engineOptions: EngineOptions
    @OptionGroup var policyOptions: PolicyOptions
    @OptionGroup var deliveryOptions: DeliveryOptions
    @Option(help: "Claim on a fixed period instead of at each slot (e.g. 30s, as the original design).") var poll: String?
    @Option(help: "Delete checks older than this, hourly ('off' keeps them).") var retention = "30d"
    @Flag(help: "Do not print each result.") var quiet = false

    func run() async throws {
        var configuration = try engineOptions.configuration(remote: LibSQLDatabase.handles(options.location), tick: false)
        if let poll {
            guard let milliseconds = DurationParser.milliseconds(poll), milliseconds >= 1000 else {
                throw CLIFailure("--poll '\(poll)' is not a duration of at least 1s")
            }
            configuration.poll = .milliseconds(milliseconds)
        }
        let retentionMilliseconds: Int64?
        if retention == "off" {
            retentionMilliseconds = nil
        } else {
            guard let milliseconds = DurationParser.milliseconds(retention), milliseconds >= 3_600_000 else {
                throw CLIFailure("--retention '\(retention)' is not 'off' or a duration of at least 1h")
            }
            retentionMilliseconds = milliseconds
        }
        let store = try await Database.open(options.location, token: options.token)
        let spool = Database.spool(for: options.location)
        let carried = try spool.load()
        let stop = StopSignal()
        let trap = SignalTrap(stop: stop)
        let json = options.json
        let network = try policyOptions.network()
        let doorbell = Doorbell()
        let deliverer = makeDeliverer(store: store, network: network, configuration: try deliveryOptions.configuration())
        let engine = makeEngine(store: store, configuration: configuration, network: network, doorbell: doorbell) { batch in
            guard !quiet else { return }
            let text = batch.map { json ? Output.json(OutcomeLine($0)).replacingOccurrences(of: "\n", with: "") : Output.line($0) }
            FileHandle.standardOutput.write(Data((text.joined(separator: "\n") + "\n").utf8))
        }
        FileHandle.standardError.write(Data("uptick: running on \(options.location) (concurrency \(configuration.concurrency)); Ctrl-C to stop\n".utf8))
        let report = await withTaskGroup(of: EngineReport?.self) { group in
            group.addTask { await engine.run(until: stop, carriedOver: carried) }
            group.addTask {
                _ = await deliverer.run(until: stop, doorbell: doorbell)
                return nil
            }
            if let retentionMilliseconds {
                group.addTask {
                    await Retention(store: store).runPeriodically(
                        retention: .milliseconds(retentionMilliseconds), logger: Logger(label: "uptick"), until: stop
                    )
                    return nil
                }
            }
            var report = EngineReport()
            for await case let finished? in group { report = finished }
            return report
        }
        // The last commits may have recorded alerts after the deliverer stopped: give them a moment.
        _ = await deliverer.deliverDue(budget: .seconds(5))
        withExtendedLifetime(trap) {}
        FileHandle.standardError.write(Data("uptick: stopped; \(report.persisted) results committed\n".utf8))
        try spoolLeftovers(report, location: options.location)
    }
}

/// One daemon result as JSON.
struct OutcomeLine: Encodable {
    var monitorId: Int64
    var name: String
    var scheduledAt, startedAt: EpochMilliseconds
    var result: CheckResult
    var transition: StatusTransition?

    init(_ outcome: CheckOutcome) {
        monitorId = outcome.monitorID
        name = outcome.monitorName
        scheduledAt = outcome.scheduledAt
        startedAt = outcome.startedAt
        result = outcome.result
        transition = outcome.transition
    }
}
