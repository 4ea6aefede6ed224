import ArgumentParser
import Foundation
import Logging
import NIOCore
import ServiceLifecycle
import UptickAlerts
import UptickApp
import UptickCore
import UptickEngine
import UptickStore
import UptickTargets

/// One receiver that answers after 9.9 s with a queue of events, beside healthy channels whose events are
/// committed while it holds its lane: the healthy events' time from commit to delivery, and duplicates.
struct NoisyAlertsBench: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "noisy-alerts", abstract: "A slow webhook receiver beside healthy ones: commit-to-delivery time of the healthy events.")

    @Option(help: "Events queued for the slow channel at the start.") var slowEvents = 200
    @Option(help: "Milliseconds the slow receiver takes to answer.") var slowMs: Int64 = 9_900
    @Option(help: "Healthy channels.") var channels = 20
    @Option(help: "Events committed per healthy channel, one every 100 ms.") var eventsPerChannel = 50
    @Option(help: "Requests in flight per channel.") var perChannel = 4
    @Flag(help: "JSON output.") var json = false

    func run() async throws {
        var logger = Logger(label: "bench")
        logger.logLevel = .critical
        let slow = try await Receiver.start()
        slow.delay(.milliseconds(slowMs))
        var healthy: [Receiver] = []
        for _ in 0..<channels { healthy.append(try await Receiver.start()) }
        let scratch = try Scratch()
        defer { scratch.remove() }
        let now = SystemClock().now()
        // Monitors for the events to come from (an event's order is kept per channel and monitor).
        try await seed(scratch, count: max(slowEvents, eventsPerChannel), dueAt: now + 3_600_000)
        let slowChannel = try await scratch.store.addChannel(name: "slow", type: "webhook", config: #"{"url":"\#(slow.url())"}"#, isDefault: false, now: now)
        var healthyIDs: [Int64] = []
        for (index, receiver) in healthy.enumerated() {
            healthyIDs.append(try await scratch.store.addChannel(name: "h\(index)", type: "webhook", config: #"{"url":"\#(receiver.url())"}"#,
                                                                 isDefault: false, now: now).id)
        }
        // Each row's payload gets its own event id (the webhook's Uptick-Event-Id), in the INSERT below.
        let payload = AlertPayload(
            id: "evt", kind: .down, timestamp: now, monitor: .init(id: 1, key: nil, name: "bench", type: "http", target: "https://example.com/"),
            status: .init(previous: .up, current: .down, since: now), check: .init(scheduledAt: now, startedAt: now, result: .down(.timeout, "bench"))
        ).json
        precondition(payload.contains(#""id":"evt""#), "the payload's id is not where the INSERT replaces it")
        func commit(channel: Int64, monitors: ClosedRange<Int>, tag: String) async throws {
            _ = try await scratch.database.execute([SQLStatement("""
                INSERT INTO outbox (event_id, monitor_id, kind, payload, channel_id, created_at, next_attempt_at)
                SELECT 'evt_' || ?4 || '_' || id, id, 'down', replace(?1, '"id":"evt"', '"id":"evt_' || ?4 || '_' || id || '"'), ?2, ?3, ?3
                FROM monitors WHERE id BETWEEN ?5 AND ?6
                """, [.text(payload), .integer(channel), .integer(SystemClock().now()), .text(tag),
                      .integer(Int64(monitors.lowerBound)), .integer(Int64(monitors.upperBound))])], transaction: true)
        }
        try await commit(channel: slowChannel.id, monitors: 1...slowEvents, tag: "slow")

        var configuration = DeliveryConfiguration()
        configuration.perChannelConcurrency = perChannel
        let deliverer = scratch.assembly(delivery: configuration).deliverer()
        let doorbell = Doorbell()
        let group = ServiceGroup(services: [DeliveryService(deliverer: deliverer, doorbell: doorbell)], logger: logger)
        async let running: Void = group.run()
        // Let the slow lane fill first, then commit the healthy events while it holds.
        _ = await slow.requests(count: perChannel, within: .seconds(600))
        for round in 1...eventsPerChannel {
            for (index, channel) in healthyIDs.enumerated() {
                try await commit(channel: channel, monitors: round...round, tag: "h\(index)")
            }
            doorbell.ring()
            try await Task.sleep(for: .milliseconds(100))
        }
        var received: [Receiver.Request] = []
        for receiver in healthy { received += await receiver.requests(count: eventsPerChannel, within: .seconds(600)) }
        await group.triggerGracefulShutdown()
        try await running
        let delivered = try await scratch.database.execute([SQLStatement("SELECT count(*) FROM outbox WHERE delivered_at IS NOT NULL")],
                                                           transaction: false)[0].rows.first?.first?.integer ?? 0
        let all = received + slow.requests
        let ids = all.compactMap { $0.headers["uptick-event-id"] }
        let duplicates = ids.count - Set(ids).count
        // Commit time is the event's created_at; the receiver notes when the request arrived.
        let created = try await scratch.database.execute([SQLStatement("SELECT event_id, created_at FROM outbox")], transaction: false)[0].rows
        let createdAt = Dictionary(uniqueKeysWithValues: created.compactMap { row -> (String, Int64)? in
            guard let id = row[0].text, let at = row[1].integer else { return nil }
            return (id, at)
        })
        let latencies = received.compactMap { request -> Double? in
            guard let id = request.headers["uptick-event-id"], let at = createdAt[id] else { return nil }
            return request.receivedAt.timeIntervalSince1970 * 1000 - Double(at)
        }.sorted()
        let p50 = latencies.isEmpty ? 0 : latencies[latencies.count / 2]
        let p99 = latencies.isEmpty ? 0 : latencies[min(latencies.count - 1, latencies.count * 99 / 100)]
        let result: [String: Double] = [
            "healthy_events": Double(latencies.count), "healthy_p50_ms": p50, "healthy_p99_ms": p99, "healthy_max_ms": latencies.last ?? 0,
            "slow_requests": Double(slow.requests.count), "duplicates": Double(duplicates), "delivered": Double(delivered),
        ]
        try await slow.stop()
        for receiver in healthy { try await receiver.stop() }
        if json {
            print(String(decoding: try JSONSerialization.data(withJSONObject: result, options: [.sortedKeys]), as: UTF8.self))
        } else {
            print("noisy-alerts: \(slowEvents) events queued for a receiver that answers after \(slowMs) ms, beside \(channels) healthy channels "
                  + "getting \(eventsPerChannel) events each (one every 100 ms), \(perChannel) requests per channel")
            print(String(format: "  healthy events: %.0f, commit → receiver p50 %.1f ms, p99 %.1f ms, max %.1f ms; slow receiver got %.0f requests; "
                         + "duplicates %.0f", result["healthy_events"]!, p50, p99, result["healthy_max_ms"]!, result["slow_requests"]!, Double(duplicates)))
        }
    }
}
