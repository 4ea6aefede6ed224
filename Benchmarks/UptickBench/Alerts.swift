import ServiceLifecycle
import ArgumentParser
import Foundation
import Logging
import UptickAlerts
import UptickApp
import UptickCore
import UptickEngine
import UptickNet
import UptickProbes
import UptickStore
import UptickTargets

/// Alert delivery: events per second to a local webhook receiver, and the time from the confirming
/// check's start to the receiver having the event, with the daemon's engine and deliverer running.
struct AlertsBench: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "alerts", abstract: "Alert delivery throughput and end-to-end latency.")

    @Option(help: "Events in the outbox, one per monitor, for the throughput run.") var events = 5_000
    @Option(help: "Requests in flight per channel.") var perChannel = 4
    @Option(help: "Monitors that go down together, for the latency run.") var latencyMonitors = 50
    @Flag(help: "JSON output.") var json = false

    func run() async throws {
        var logger = Logger(label: "bench")
        logger.logLevel = .critical
        let network = Network(policy: AddressPolicy(allow: [AddressPolicy.Rule(CIDR("127.0.0.1/32")!)]))
        let hook = try await Receiver.start()

        // 1. Throughput: a full outbox, one signed webhook channel.
        let scratch = try Scratch()
        defer { scratch.remove() }
        let now = SystemClock().now()
        try await seed(scratch, count: events, dueAt: now + 3_600_000)
        _ = try await scratch.store.addChannel(name: "hook", type: "webhook", config: #"{"url":"\#(hook.url())","secret":"bench"}"#,
                                               isDefault: true, now: now)
        let payload = AlertPayload(
            id: "evt", kind: .down, timestamp: now, monitor: .init(id: 1, key: nil, name: "bench", type: "http", target: "https://example.com/"),
            status: .init(previous: .up, current: .down, since: now), check: .init(scheduledAt: now, startedAt: now, result: .down(.timeout, "bench"))
        ).json
        _ = try await scratch.database.execute([SQLStatement("""
            INSERT INTO outbox (event_id, monitor_id, kind, payload, channel_id, created_at, next_attempt_at)
            SELECT 'evt_' || id, id, 'down', ?, 1, ?, ? FROM monitors
            """, [.text(payload), .integer(now), .integer(now)])], transaction: true)
        var configuration = DeliveryConfiguration()
        configuration.perChannelConcurrency = perChannel
        let deliverer = scratch.assembly(network: network, delivery: configuration).deliverer()
        let before = Measurement.usage()
        let start = ContinuousClock.now
        let report = await deliverer.deliverDue(budget: .seconds(600))
        let elapsed = seconds(ContinuousClock.now - start)
        let after = Measurement.usage()
        precondition(report.delivered == events, "delivered \(report.delivered) of \(events): \(report)")

        // 2. Latency: the daemon's engine and deliverer; every monitor is confirmed down at its first check.
        let target = try await Receiver.start()
        target.respond(with: 503)
        let latencyScratch = try Scratch()
        defer { latencyScratch.remove() }
        try await latencyScratch.store.migrate(now: now)
        let watcher = try await Receiver.start()
        _ = try await latencyScratch.store.addChannel(name: "hook", type: "webhook", config: #"{"url":"\#(watcher.url())","secret":"bench"}"#,
                                                      isDefault: true, now: now)
        for index in 0..<latencyMonitors {
            _ = try await latencyScratch.store.addMonitor(MonitorDraft(
                key: "m\(index)", name: "m\(index)", type: "http", target: target.url("/\(index)"), intervalSeconds: 5, timeoutMilliseconds: 2000,
                settings: #"{"failure_threshold":1}"#), now: now)
        }
        _ = try await Daemon(assembly: latencyScratch.assembly(network: network), signals: []).run { group in
            _ = await watcher.requests(count: latencyMonitors, within: .seconds(600))
            await group.triggerGracefulShutdown()
        }
        let received = watcher.requests
        let latencies = received.compactMap { request -> Double? in
            guard let started = (request.json?["check"] as? [String: Any])?["started_at"] as? Int64 else { return nil }
            return request.receivedAt.timeIntervalSince1970 * 1000 - Double(started)
        }.sorted()
        try await hook.stop()
        try await target.stop()
        try await watcher.stop()

        let rate = Double(events) / elapsed
        let cpuPerEvent = Double(after.cpuMicroseconds - before.cpuMicroseconds) / Double(events)
        let p50 = latencies[latencies.count / 2], maximum = latencies.last ?? 0
        if json {
            let object: [String: Double] = ["events_per_s": rate, "cpu_us_per_event": cpuPerEvent, "latency_p50_ms": p50, "latency_max_ms": maximum]
            print(String(decoding: try JSONSerialization.data(withJSONObject: object, options: [.sortedKeys]), as: UTF8.self))
        } else {
            print("alerts: \(events) signed webhook events to a local receiver, \(perChannel) in flight per channel")
            print(String(format: "  %.0f ms = %.0f events/s, %.0f µs CPU per event (receiver in the same process)", elapsed * 1000, rate, cpuPerEvent))
            print("end to end: \(latencyMonitors) monitors confirmed down at their first check, daemon engine and deliverer")
            print(String(format: "  check start → receiver has the event: p50 %.1f ms, max %.1f ms", p50, maximum))
        }
    }
}
