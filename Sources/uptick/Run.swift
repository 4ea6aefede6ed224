import UptickEngine
import ArgumentParser
import Foundation
import UptickApp
import UptickCore

struct Run: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Run as a daemon: each check starts at its slot; SIGINT/SIGTERM stop it gracefully."
    )

    @OptionGroup var options: GlobalOptions
    @OptionGroup var engineOptions: EngineOptions
    @OptionGroup var policyOptions: PolicyOptions
    @OptionGroup var deliveryOptions: DeliveryOptions
    @OptionGroup var webOptions: WebOptions
    @Option(help: "Claim on a fixed period instead of at each slot (e.g. 30s, as the original design).") var poll: String?
    @Option(help: "Delete checks older than this, hourly ('off' keeps them; default 30d).") var retention: String?
    @Option(help: "Delete hourly rollups older than this ('off' keeps them; default 7d).") var hourlyRetention: String?
    @Option(help: "Delete daily rollups older than this ('off' keeps them; default 400d).") var dailyRetention: String?
    @Flag(help: "Do not print each result.") var quiet = false

    func run() async throws {
        let own = ["poll": poll.map { [$0] }, "retention": retention.map { [$0] }, "hourly-retention": hourlyRetention.map { [$0] },
                   "daily-retention": dailyRetention.map { [$0] }].compactMapValues { $0 }
        let configuration = try options.configuration(engineOptions.flags, policyOptions.flags, deliveryOptions.flags, webOptions.flags, own)
        try announce(configuration)
        let assembly = try await Assembly.open(configuration, role: .daemon)
        let daemon = Daemon(assembly: assembly, onCommit: printCommitted(json: options.json, quiet: quiet), onListening: announceListening(configuration))
        LineWriter.standardError.write("uptick: running on \(Database.displayName(configuration.database)) (concurrency \(configuration.concurrency)); Ctrl-C to stop")
        let outcome = try await daemon.run()
        LineWriter.standardError.write("uptick: stopped; \(outcome.report.persisted) results committed")
        if outcome.cancelled {
            // Interrupted on purpose: what could not be committed is in the spool, which the message names.
            if let failure = outcome.failure { LineWriter.standardError.write("uptick: \(failure.message)") }
            throw ExitCode(130)
        }
        if let failure = outcome.failure { throw failure }
    }
}

/// Prints each committed result of a daemon (`run`, `work`) on stdout, a line of text or of JSON.
func printCommitted(json: Bool, quiet: Bool) -> @Sendable ([CheckOutcome]) -> Void {
    { batch in
        guard !quiet else { return }
        let text = batch.map { json ? Output.json(OutcomeLine($0)).replacingOccurrences(of: "\n", with: "") : Output.line($0) }
        LineWriter.standardOutput.write(text.joined(separator: "\n"))
    }
}
