import Foundation
import Logging
import Testing
@testable import UptickAlerts
import UptickApp
import UptickCore
import UptickEngine
import UptickNet
import UptickProbes
import UptickStore
import UptickTargets
import UptickTestSupport

/// A database, a manual clock, an engine and a deliverer, all on loopback.
struct AlertWorld {
    static let t0: EpochMilliseconds = 1_800_000_000_000
    let db: TemporaryDatabase
    let clock = ManualClock(now: t0)
    var network = Network.testLoopback

    static func make() async throws -> AlertWorld {
        AlertWorld(db: try await TemporaryDatabase.make())
    }

    /// The engine as ``Assembly`` wires it for production, on the manual clock.
    var engine: Engine {
        Assembly(configuration: RunnerConfiguration(), store: db.store, network: network, spool: Spool(path: db.path + ".spool"),
                 logger: Logger(label: "test")).engine(for: .daemon, configuration: EngineConfiguration(runnerID: "test"), clock: clock)
    }

    func deliverer(store: (any OutboxStore)? = nil, configuration: DeliveryConfiguration = DeliveryConfiguration(),
                   onRecorded: @escaping @Sendable ([DeliveryOutcome]) -> Void = { _ in }) -> Deliverer {
        Deliverer(store: store ?? db.store, notifier: Notifier(network: network, clock: clock, timeout: .seconds(5)), clock: clock,
                  configuration: configuration, logger: Logger(label: "test"), jitter: { 1 }, onRecorded: onRecorded)
    }

    /// Adds a monitor due now.
    func monitor(_ draft: MonitorDraft) async throws -> Int64 {
        let monitor = try await db.store.addMonitor(draft, now: clock.now())
        try await db.database.run("UPDATE monitors SET next_check_at = ? WHERE id = ?", [.integer(clock.now()), .integer(monitor.id)])
        return monitor.id
    }

    /// A port monitor on a closed port, ticked twice: its `down` is confirmed (default thresholds) and committed.
    /// With `tick: false` it is only added, due, for the caller to tick with others.
    func confirmedDown(tick ticking: Bool = true) async throws {
        _ = try await monitor(.port("127.0.0.1:1", timeoutMilliseconds: 1000))
        guard ticking else { return }
        await tick(after: 0)
        await tick()
    }

    /// Moves the clock on one interval (30 s) and runs a tick.
    @discardableResult
    func tick(after milliseconds: EpochMilliseconds = 30_000) async -> EngineReport {
        clock.advance(by: milliseconds)
        return await engine.tick()
    }

    func webhook(_ name: String, url: String, secret: String? = "whsec_test", isDefault: Bool = true) async throws -> ChannelRecord {
        let config = secret.map { #"{"url":"\#(url)","secret":"\#($0)"}"# } ?? #"{"url":"\#(url)"}"#
        return try await db.store.addChannel(name: name, type: "webhook", config: config, isDefault: isDefault, now: clock.now())
    }
}

/// Checks a request's signature the way docs/alerting.md tells receivers to.
func verifySignature(_ request: Receiver.Request, secret: String) -> Bool {
    guard let header = request.headers["uptick-signature"] else { return false }
    var parts: [String: String] = [:]
    for item in header.split(separator: ",") {
        let pair = item.split(separator: "=", maxSplits: 1).map(String.init)
        if pair.count == 2 { parts[pair[0]] = pair[1] }
    }
    guard let t = parts["t"], let timestamp = Int64(t), let v1 = parts["v1"] else { return false }
    return Messages.signature(secret: secret, timestamp: timestamp, body: request.body) == v1
}

@Suite("Alert delivery", .timeLimit(.minutes(1)))
struct DeliveryTests {
    @Test("a target that goes down and comes back gives exactly one signed down and one up, about one incident")
    func downAndUp() async throws {
        let world = try await AlertWorld.make()
        defer { world.db.remove() }
        let target = try await Receiver.start(), hook = try await Receiver.start()
        _ = try await world.webhook("hook", url: hook.url("/uptick"))
        let id = try await world.monitor(.http(target.url("/health")))  // default policy: 2 failures to go down

        await world.tick(after: 0)  // up: a new monitor coming up is not news
        target.respond(with: 500)
        await world.tick()  // one failure: not confirmed
        await world.tick()  // two: down
        var report = await world.deliverer().deliverDue(budget: .seconds(10))
        #expect(report.delivered == 1)
        target.respond(with: 200)
        await world.tick()
        await world.tick()  // still up: nothing more
        report = await world.deliverer().deliverDue(budget: .seconds(10))
        #expect(report.delivered == 1)

        let requests = hook.requests
        #expect(requests.map { $0.json?["type"] as? String } == ["monitor.down", "monitor.up"])
        #expect(requests.allSatisfy { $0.method == "POST" && $0.uri == "/uptick" && verifySignature($0, secret: "whsec_test") })
        #expect(requests.allSatisfy { $0.headers["content-type"] == "application/json" })
        let down = try #require(requests.first?.json), up = try #require(requests.last?.json)
        #expect(down["id"] as? String == requests.first?.headers["uptick-event-id"])
        let downIncident = down["incident"] as? [String: Any], upIncident = up["incident"] as? [String: Any]
        #expect(downIncident?["id"] as? String != nil && downIncident?["id"] as? String == upIncident?["id"] as? String)
        #expect(upIncident?["resolved_at"] as? Int64 != nil)
        #expect((down["check"] as? [String: Any])?["error_class"] as? String == "http_status")
        #expect((down["status"] as? [String: Any])?["previous"] as? String == "up")
        let incidents = try await world.db.store.incidents(openOnly: false, limit: 10)
        #expect(incidents.count == 1 && incidents.first?.monitorID == id && incidents.first?.resolvedAt != nil)
        #expect(incidents.first?.causeClass == "http_status")
        try await target.stop()
        try await hook.stop()
    }

    @Test("while the receiver fails, events wait and back off; afterwards each arrives, in order per monitor")
    func receiverDownThenUp() async throws {
        let world = try await AlertWorld.make()
        defer { world.db.remove() }
        let flaky = try await Receiver.start(), steady = try await Receiver.start(), hook = try await Receiver.start()
        _ = try await world.webhook("hook", url: hook.url())
        let immediate = #"{"failure_threshold":1,"recovery_threshold":1}"#
        let a = try await world.monitor(.http(flaky.url(), settings: immediate))
        let b = try await world.monitor(.http(steady.url("/gone"), settings: immediate))
        steady.respond(with: 404)
        hook.respond(with: 503)
        let deliverer = world.deliverer()
        // A goes down, up, down, up; B goes down once. Delivery is attempted after every tick.
        for (index, status) in [500, 200, 500, 200].enumerated() {
            flaky.respond(with: status)
            await world.tick(after: index == 0 ? 0 : 30_000)
            _ = await deliverer.deliverDue(budget: .seconds(10))
        }
        // Only the head of each monitor's queue was tried, each time it was due again.
        let failed = hook.requests
        #expect(!failed.isEmpty && failed.allSatisfy { $0.status == 503 })
        #expect(Set(failed.compactMap { $0.json?["id"] as? String }).count == 2)
        let waiting = try await world.db.store.outbox(deadOnly: false, limit: 10)
        #expect(waiting.count == 5 && waiting.allSatisfy { $0.deliveredAt == nil && $0.deadAt == nil })
        #expect(waiting.contains { $0.attempts > 1 && $0.lastError == "HTTP 503" })

        hook.respond(with: 200)
        world.clock.advance(by: 3_600_000)
        let report = await deliverer.deliverDue(budget: .seconds(10))
        #expect(report.delivered == 5 && report.dead == 0)

        let delivered = hook.requests.filter { $0.status == 200 }
        var seen = Set<String>()
        let unique = delivered.filter { seen.insert($0.headers["uptick-event-id"] ?? "").inserted }
        #expect(unique.count == 5 && delivered.count == 5)
        func kinds(_ monitor: Int64) -> [String] {
            unique.compactMap { $0.json }.filter { ($0["monitor"] as? [String: Any])?["id"] as? Int64 == monitor }.compactMap { $0["type"] as? String }
        }
        #expect(kinds(a) == ["monitor.down", "monitor.up", "monitor.down", "monitor.up"])
        #expect(kinds(b) == ["monitor.down"])
        try await flaky.stop()
        try await steady.stop()
        try await hook.stop()
    }

    @Test("events committed by a runner that dies before delivering are delivered by the next one")
    func deliveredAfterRestart() async throws {
        let world = try await AlertWorld.make()
        defer { world.db.remove() }
        let hook = try await Receiver.start()
        _ = try await world.webhook("hook", url: hook.url())
        try await world.confirmedDown()  // committed; this runner never delivers
        #expect(hook.requests.isEmpty)
        // A new process: its own connection to the file, nothing shared in memory.
        let report = await world.deliverer(store: try await world.db.secondConnection()).deliverDue(budget: .seconds(10))
        #expect(report.delivered == 1)
        #expect(hook.requests.first?.json?["type"] as? String == "monitor.down")
        try await hook.stop()
    }

    @Test("a webhook at a denied address is refused without a connection, and the event goes dead with the reason")
    func deniedAddress() async throws {
        let world = try await AlertWorld.make()
        defer { world.db.remove() }
        let forbidden = try await Receiver.start(host: "127.0.0.2")  // loopback, denied by the test policy
        _ = try await world.webhook("internal", url: forbidden.url())
        _ = try await world.webhook("metadata", url: "http://169.254.169.254/latest/meta-data/")
        try await world.confirmedDown()
        let report = await world.deliverer().deliverDue(budget: .seconds(10))
        #expect(report.dead == 2 && report.delivered == 0)
        let dead = try await world.db.store.outbox(deadOnly: true, limit: 10)
        #expect(dead.count == 2 && dead.allSatisfy { $0.lastError?.hasPrefix("blocked: ") == true })
        #expect(dead.contains { $0.lastError?.contains("169.254.169.254") == true })
        #expect(try await forbidden.server.settledConnections() == 0)
        try await forbidden.stop()
    }

    @Test("a 4xx answer is permanent; a failure past the give-up time goes dead; retry makes it due again")
    func deadEvents() async throws {
        let world = try await AlertWorld.make()
        defer { world.db.remove() }
        let hook = try await Receiver.start()
        _ = try await world.webhook("hook", url: hook.url())
        try await world.confirmedDown()
        hook.respond(with: 410)
        var report = await world.deliverer().deliverDue(budget: .seconds(10))
        #expect(report.dead == 1)
        var row = try #require(try await world.db.store.outbox(deadOnly: true, limit: 1).first)
        #expect(row.lastError?.hasPrefix("HTTP 410") == true)

        // Retried by hand, then failing for longer than the give-up time.
        try await world.db.store.retryOutbox(id: row.id, now: world.clock.now())
        hook.respond(with: 500)
        var configuration = DeliveryConfiguration()
        configuration.giveUpAfter = .seconds(60)
        let deliverer = world.deliverer(configuration: configuration)
        report = await deliverer.deliverDue(budget: .seconds(10))
        #expect(report.retrying == 1)
        world.clock.advance(by: 40_000)
        report = await deliverer.deliverDue(budget: .seconds(10))
        #expect(report.dead == 1)
        row = try #require(try await world.db.store.outbox(deadOnly: true, limit: 1).first)
        #expect(row.lastError?.hasPrefix("gave up after 3 attempts") == true, "\(row)")
        try await hook.stop()
    }

    @Test("no more than the per-channel limit of requests is in flight to one channel")
    func perChannelConcurrency() async throws {
        let world = try await AlertWorld.make()
        defer { world.db.remove() }
        let hook = try await Receiver.start()
        _ = try await world.webhook("hook", url: hook.url())
        for _ in 0..<10 { try await world.confirmedDown(tick: false) }
        await world.tick(after: 0)
        await world.tick()
        #expect(try await world.db.database.scalar("SELECT count(*) FROM outbox") == 10)
        hook.hold()
        var configuration = DeliveryConfiguration()
        configuration.perChannelConcurrency = 3
        let deliverer = world.deliverer(configuration: configuration)
        async let delivering = deliverer.deliverDue(budget: .seconds(30))
        // Three requests arrive and are held open; the deliverer must not start a fourth meanwhile.
        _ = await hook.requests(count: 3)
        // The lane holds at most laneDepth rows (what it can send within the lease), and sends only three.
        #expect(deliverer.laneDepth == 3 * 5)  // 60 s lease, 5 s timeout: five rounds of three
        #expect(try await world.db.database.scalar("SELECT count(*) FROM outbox WHERE attempts > 0") == 10)
        // Every connection the deliverer opened before this barrier has been accepted by now: only three.
        #expect(try await hook.server.settledConnections() == 3)
        #expect(hook.requests.count == 3)
        hook.release()
        let report = await delivering
        #expect(report.delivered == 10 && hook.requests.count == 10)
        try await hook.stop()
    }

    @Test("a request body over the limit is a permanent failure, and nothing is sent")
    func bodyLimit() async throws {
        let hook = try await Receiver.start()
        let channel = ChannelRecord(id: 1, name: "hook", type: "webhook", config: #"{"url":"\#(hook.url())"}"#, isDefault: true, enabled: true)
        let small = Notifier(network: .testLoopback, maxBodyBytes: 100)
        guard case .failed(let failure) = await small.send(sampleDown().json, to: channel) else {
            Issue.record("an oversized body was sent")
            return
        }
        #expect(failure.permanent && failure.message.contains("over the 100-byte limit"))
        #expect(try await hook.server.settledConnections() == 0)
        #expect(await Notifier(network: .testLoopback).send(sampleDown().json, to: channel) == .delivered(note: nil))
        try await hook.stop()
    }

    @Test("retry delays double from the first, are capped, and take the jitter")
    func backoff() async throws {
        let world = try await AlertWorld.make()
        defer { world.db.remove() }
        let delays = (1...10).map { world.deliverer().retryDelay(afterAttempt: Int64($0)) }
        #expect(delays.prefix(5) == [5_000, 10_000, 20_000, 40_000, 80_000])
        #expect(delays.last == 600_000)
        let halved = Deliverer(store: world.db.store, notifier: Notifier(network: world.network), logger: Logger(label: "t"), jitter: { 0.5 })
        #expect(halved.retryDelay(afterAttempt: 1) == 2_500)
    }

    @Test("Slack, Discord and PagerDuty each get their own format on the wire")
    func chatFormats() async throws {
        let world = try await AlertWorld.make()
        defer { world.db.remove() }
        let hook = try await Receiver.start()
        for (name, type, config) in [
            ("slack", "slack", #"{"url":"\#(hook.url("/slack"))"}"#),
            ("discord", "discord", #"{"url":"\#(hook.url("/discord"))"}"#),
            ("pager", "pagerduty", #"{"routing_key":"R0UT1NG","url":"\#(hook.url("/pagerduty"))"}"#),
        ] {
            _ = try await world.db.store.addChannel(name: name, type: type, config: config, isDefault: true, now: world.clock.now())
        }
        let target = try await Receiver.start()
        _ = try await world.monitor(.http(target.url(), settings: #"{"failure_threshold":1}"#))
        target.respond(with: 500)
        await world.tick(after: 0)
        _ = await world.deliverer().deliverDue(budget: .seconds(10))
        let requests = await hook.requests(count: 3)
        let byPath = Dictionary(uniqueKeysWithValues: requests.map { ($0.uri, $0) })
        #expect((byPath["/slack"]?.json?["text"] as? String)?.contains("is DOWN") == true)
        #expect((byPath["/discord"]?.json?["embeds"] as? [[String: Any]])?.first?["color"] as? Int == 0xD93025)
        #expect(byPath["/pagerduty"]?.json?["event_action"] as? String == "trigger")
        #expect(byPath["/pagerduty"]?.json?["routing_key"] as? String == "R0UT1NG")
        try await target.stop()
        try await hook.stop()
    }

    @Test("a lane holds only what it can send within the lease: with a 10 s timeout, two rounds of four")
    func laneDepth() async throws {
        let world = try await AlertWorld.make()
        defer { world.db.remove() }
        let deliverer = Deliverer(store: world.db.store, notifier: Notifier(network: .testLoopback, timeout: .seconds(10)), logger: Logger(label: "test"))
        #expect(deliverer.laneDepth == 8 && deliverer.configuration.lease == .seconds(60))
        var short = DeliveryConfiguration()
        short.lease = .seconds(10)
        let raised = Deliverer(store: world.db.store, notifier: Notifier(network: .testLoopback, timeout: .seconds(10)),
                               configuration: short, logger: Logger(label: "test"))
        #expect(raised.configuration.lease == .seconds(50) && raised.laneDepth == 4)
    }

    @Test("a channel whose receiver holds its answers delays only its own events: the others are sent and recorded meanwhile")
    func lanes() async throws {
        let world = try await AlertWorld.make()
        defer { world.db.remove() }
        let slow = try await Receiver.start(), healthy = try await Receiver.start()
        let slowChannel = try await world.webhook("slow", url: slow.url())
        _ = try await world.webhook("healthy", url: healthy.url())
        for _ in 0..<6 { try await world.confirmedDown(tick: false) }
        await world.tick(after: 0)
        await world.tick()
        slow.hold()
        let (recorded, record) = AsyncStream<[DeliveryOutcome]>.makeStream()
        let deliverer = world.deliverer(onRecorded: { record.yield($0) })
        async let delivering = deliverer.deliverDue(budget: .seconds(30))
        // All six healthy events are written as delivered while the slow receiver still holds its four.
        var delivered = 0
        for await batch in recorded {
            delivered += batch.filter { $0.verdict == .delivered }.count
            if delivered == 6 { break }
        }
        #expect(slow.requests.count <= 4)
        #expect(try await world.db.database.scalar("SELECT count(*) FROM outbox WHERE delivered_at IS NOT NULL AND channel_id <> ?",
                                                   [.integer(slowChannel.id)]) == 6)
        #expect(try await world.db.database.scalar("SELECT count(*) FROM outbox WHERE delivered_at IS NOT NULL AND channel_id = ?",
                                                   [.integer(slowChannel.id)]) == 0)
        slow.release()
        let report = await delivering
        #expect(report.delivered == 12 && slow.requests.count == 6 && healthy.requests.count == 6)
        try await slow.stop()
        try await healthy.stop()
    }

    @Test("at the end of a budget, sends in flight are cancelled and their rows left due, their attempt uncounted")
    func budgetReleases() async throws {
        let world = try await AlertWorld.make()
        defer { world.db.remove() }
        let hook = try await Receiver.start()
        _ = try await world.webhook("hook", url: hook.url())
        for _ in 0..<2 { try await world.confirmedDown(tick: false) }
        await world.tick(after: 0)
        await world.tick()
        hook.hold()
        let start = ContinuousClock.now
        let report = await world.deliverer().deliverDue(budget: .milliseconds(500))
        // Within the budget and a write, not after the notifier's 5 s timeout.
        #expect(ContinuousClock.now - start < .seconds(3))
        #expect(report.released == 2 && report.delivered == 0)
        #expect(try await world.db.database.scalar("SELECT count(*) FROM outbox WHERE attempts = 0 AND next_attempt_at <= ? AND delivered_at IS NULL",
                                                   [.integer(world.clock.now())]) == 2)
        hook.release()
        let next = await world.deliverer().deliverDue(budget: .seconds(10))
        #expect(next.delivered == 2)
        try await hook.stop()
    }

    @Test("a cancelled daemon deliverer returns at once and claims nothing: the due event stays for the next one")
    func cancelledDeliverer() async throws {
        let world = try await AlertWorld.make()
        defer { world.db.remove() }
        let hook = try await Receiver.start()
        let channel = try await world.db.store.addChannel(name: "hook", type: "webhook", config: #"{"url":"\#(hook.url())"}"#,
                                                          isDefault: true, now: world.clock.now())
        try await world.db.database.run("""
            INSERT INTO outbox (event_id, kind, payload, channel_id, created_at, next_attempt_at) VALUES ('evt_1', 'test', '{}', ?1, ?2, ?2)
            """, [.integer(channel.id), .integer(world.clock.now())])
        let deliverer = world.deliverer()
        let running = Task {
            withUnsafeCurrentTask { $0?.cancel() }  // cancelled before the deliverer's first claim
            return await deliverer.run(doorbell: Doorbell())
        }
        let report = await running.value
        #expect(report.attempts == 0 && report.storeErrors == 0)
        #expect(try await world.db.database.scalar("SELECT attempts FROM outbox") == 0)
        #expect(hook.requests.isEmpty)
        try await hook.stop()
    }
}
