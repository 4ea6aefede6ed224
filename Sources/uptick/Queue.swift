import ArgumentParser
import Foundation
import UptickApp
import UptickAWS
import UptickEngine
import UptickQueue

/// The queue options of `dispatch` and `work`.
struct QueueOptions: ParsableArguments {
    @Option(help: "The SQS queue URL (env UPTICK_QUEUE_URL).") var queue: String?
    @Option(help: "Talk to this SQS-compatible server instead of the queue URL's host, e.g. http://127.0.0.1:5000 (env UPTICK_SQS_ENDPOINT).")
    var sqsEndpoint: String?

    var flags: [String: [String]] {
        ["queue": queue.map { [$0] }, "sqs-endpoint": sqsEndpoint.map { [$0] }].compactMapValues { $0 }
    }
}

struct Dispatch: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Claim due monitors and send them to an SQS queue for `uptick work` (docs/scale-out.md); SIGINT/SIGTERM stop it."
    )

    @OptionGroup var options: GlobalOptions
    @OptionGroup var queueOptions: QueueOptions
    @OptionGroup var webOptions: WebOptions
    @Option(help: "Most monitors claimed per claim statement (default 500).") var batch: Int?
    @Option(help: "Delete checks older than this, hourly ('off' keeps them; default 30d).") var retention: String?
    @Option(help: "Claims at least this far apart: longer fills messages (fewer SQS requests), shorter starts checks sooner (default 1s).")
    var window: String?
    @Flag(help: "Dispatch what is due now, once, and exit (for cron or a scheduler).") var once = false

    func run() async throws {
        let own = ["batch": batch.map { [String($0)] }, "retention": retention.map { [$0] }, "dispatch-window": window.map { [$0] }]
            .compactMapValues { $0 }
        let configuration = try options.configuration(queueOptions.flags, webOptions.flags, own)
        try announce(configuration)
        let assembly = try await Assembly.open(configuration, role: once ? .tick : .daemon)
        let queue = try assembly.queueClient()
        let report: DispatchReport
        if once {
            report = await assembly.dispatcher(queue: queue).tick()
        } else {
            LineWriter.standardError.write("uptick: dispatching from \(Database.displayName(configuration.database)) to \(queue.queueURL); Ctrl-C to stop")
            let outcome = try await Daemon(assembly: assembly, shape: .dispatcher(queue), onListening: announceListening(configuration)).run()
            report = outcome.dispatch ?? DispatchReport()
            if outcome.cancelled { throw ExitCode(130) }
        }
        emit(options.json ? Output.json(report) : Output.summary(report))
        // Once: a failed claim, or slots that could not be sent (released, or left to their leases), is a fault for cron
        // to see. A daemon retried them itself.
        if once, let error = report.errors.last {
            throw UptickError(error, kind: .runtime)
        }
    }
}

struct Work: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Run the checks an `uptick dispatch` sends to an SQS queue, as a daemon; SIGINT/SIGTERM stop it gracefully."
    )

    @OptionGroup var options: GlobalOptions
    @OptionGroup var queueOptions: QueueOptions
    @OptionGroup var webOptions: WebOptions
    @OptionGroup var engineOptions: EngineOptions
    @OptionGroup var policyOptions: PolicyOptions
    @OptionGroup var deliveryOptions: DeliveryOptions
    @Option(help: "Long-poll wait of each receive, at most 20s (default 20s).") var queueWait: String?
    @Option(help: "How long a received message stays hidden from other workers; extended while held (default 60s).") var queueVisibility: String?
    @Flag(help: "Do not print each result.") var quiet = false

    func run() async throws {
        let own = ["queue-wait": queueWait.map { [$0] }, "queue-visibility": queueVisibility.map { [$0] }].compactMapValues { $0 }
        let configuration = try options.configuration(queueOptions.flags, engineOptions.flags, policyOptions.flags, deliveryOptions.flags,
                                                      webOptions.flags, own)
        try announce(configuration)
        let assembly = try await Assembly.open(configuration, role: .daemon)
        let queue = try assembly.queueClient()
        let daemon = Daemon(assembly: assembly, shape: .worker(queue), onCommit: printCommitted(json: options.json, quiet: quiet), onListening: announceListening(configuration))
        LineWriter.standardError.write("uptick: working on \(queue.queueURL) into \(Database.displayName(configuration.database)) (concurrency \(configuration.concurrency)); Ctrl-C to stop")
        let outcome = try await daemon.run()
        let work = outcome.work ?? WorkReport()
        LineWriter.standardError.write("uptick: stopped; \(outcome.report.persisted) results committed; messages: \(work.received) received, "
            + "\(work.deleted) deleted, \(work.malformed) malformed, \(work.skipped) stale slots skipped")
        if outcome.cancelled {
            if let failure = outcome.failure { LineWriter.standardError.write("uptick: \(failure.message)") }
            throw ExitCode(130)
        }
        if let failure = outcome.failure { throw failure }
    }
}
