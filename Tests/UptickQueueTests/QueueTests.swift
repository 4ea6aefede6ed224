import Foundation
import Logging
import NIOCore
import ServiceLifecycle
import Testing
import UptickApp
import UptickAWS
import UptickCore
import UptickEngine
@testable import UptickQueue
import UptickStore
import UptickTargets
import UptickTestSupport

/// A database, moto with one queue, and the composition root wired to both, for in-process queue tests.
struct QueueWorld {
    let db: TemporaryDatabase
    let moto: Moto
    let queue: SQSClient
    let assembly: Assembly

    static func make(queueAttributes: [String: String] = [:], change: (inout RunnerConfiguration) -> Void = { _ in }) async throws -> QueueWorld {
        let db = try await TemporaryDatabase.make()
        let moto = try await Moto.start()
        let queue = try await moto.queue("checks", attributes: queueAttributes)
        var configuration = RunnerConfiguration()
        configuration.database = db.path
        configuration.queue.work.wait = .seconds(1)
        change(&configuration)
        let assembly = Assembly(configuration: configuration, store: db.store, network: .testLoopback,
                                spool: Spool(path: db.path + ".spool"), logger: Logger(label: "test"))
        return QueueWorld(db: db, moto: moto, queue: queue, assembly: assembly)
    }

    func remove() {
        moto.stop()
        db.remove()
    }

    /// Messages in the queue: visible, and received but not deleted.
    func depth() async throws -> (visible: Int, inFlight: Int) {
        let attributes = try await queue.queueAttributes(["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"])
        return (Int(attributes["ApproximateNumberOfMessages"] ?? "") ?? -1, Int(attributes["ApproximateNumberOfMessagesNotVisible"] ?? "") ?? -1)
    }

    /// Runs a worker daemon until `count` results are committed, then shuts it down gracefully.
    func work(until count: Int) async throws -> Daemon.Outcome {
        let (commits, committed) = AsyncStream.makeStream(of: [CheckOutcome].self)
        let daemon = Daemon(assembly: assembly, shape: .worker(queue), signals: []) { committed.yield($0) }
        return try await daemon.run { group in
            var seen = 0
            for await batch in commits {
                seen += batch.count
                if seen >= count { break }
            }
            await group.triggerGracefulShutdown()
        }
    }
}

@Suite("Dispatcher and worker on moto and a real database", .serialized, .timeLimit(.minutes(2)))
struct QueueTests {
    @Test("every due slot is sent once and committed once by a worker, which then deletes its messages")
    func dispatchAndWork() async throws {
        let world = try await QueueWorld.make()
        defer { world.remove() }
        let tcp = try await LoopbackServer.tcp()
        let now = SystemClock().now()
        let ids = try await world.db.store.addDueMonitors(60, target: tcp.target, dueAt: now)
        let dispatched = await world.assembly.dispatcher(queue: world.queue).tick()
        #expect(dispatched.claimed == 60 && dispatched.sent == 60 && dispatched.messages == 3 && dispatched.sendCalls == 1, "\(dispatched)")
        #expect(try await world.depth().visible == 3)
        // Leased for the queue: the monitors are not claimable again meanwhile.
        #expect(try await world.db.store.claimDue(now: now + 1_000, limit: 100, leaseGrace: .seconds(60)).monitors.isEmpty)

        let outcome = try await world.work(until: 60)
        #expect(outcome.report.persisted == 60 && outcome.report.unpersisted.isEmpty)
        #expect(outcome.work?.received == 3 && outcome.work?.deleted == 3, "\(String(describing: outcome.work))")
        #expect(try await world.db.database.scalar("SELECT count(DISTINCT monitor_id || ':' || scheduled_at) FROM checks") == 60)
        #expect(try await world.db.database.scalar("SELECT count(*) FROM checks WHERE status = 'up'") == 60)
        #expect(Set(try await world.db.store.monitors().filter { $0.lastCheckedAt != nil }.map(\.id)) == Set(ids))
        #expect(try await world.db.database.scalar("SELECT count(*) FROM monitors WHERE lease_until IS NOT NULL") == 0)
        let depth = try await world.depth()
        #expect(depth.visible == 0 && depth.inFlight == 0)
        try await tcp.stop()
    }

    @Test("with the queue unreachable the slots are released, due again at once; when it is back they are sent")
    func queueUnreachable() async throws {
        let db = try await TemporaryDatabase.make()
        defer { db.remove() }
        let now = SystemClock().now()
        let ids = try await db.store.addDueMonitors(30, dueAt: now)
        let port = try LoopbackServer.freePort()
        let url = "http://127.0.0.1:\(port)/123456789012/later"
        let client = try SQSClient(queueURL: url, region: "us-east-1", credentials: Moto.credentials,
                                   retry: RetryPolicy(attempts: 2, base: .milliseconds(1), cap: .milliseconds(5)))
        let dispatcher = Dispatcher(store: db.store, queue: client, configuration: DispatchConfiguration(runnerID: "d"), logger: Logger(label: "test"))
        let failed = await dispatcher.tick()
        #expect(failed.claimed == 30 && failed.sent == 0 && failed.released == 30, "\(failed)")
        #expect(failed.errors.contains { $0.contains("Transport") })
        // Released: unleased, and due at the slot they were claimed for.
        #expect(try await db.database.scalar("SELECT count(*) FROM monitors WHERE lease_until IS NULL AND next_check_at <= ?", [.integer(now)]) == 30)

        let moto = try await Moto.start(port: port)
        defer { moto.stop() }
        #expect(try await moto.queue("later").queueURL == url)
        let resumed = await dispatcher.tick()
        #expect(resumed.claimed == 30 && resumed.sent == 30 && resumed.released == 0, "\(resumed)")
        var slots: [Int64: EpochMilliseconds] = [:]
        while slots.count < 30 {
            let messages = try await client.receiveMessages(max: 10, wait: .seconds(1), visibility: .seconds(30))
            try #require(!messages.isEmpty)
            for message in messages {
                for claimed in try SlotMessage.decode(message.body).slots { slots[claimed.monitor.id] = claimed.slot }
            }
        }
        #expect(Set(slots.keys) == Set(ids))
        #expect(Set(slots.values) == [now], "the released slots themselves were sent, not later ones")
    }

    @Test("entries SQS refuses in a partial batch failure are released, due again at their slot; the rest are sent")
    func partialBatchFailure() async throws {
        let world = try await QueueWorld.make()
        defer { world.remove() }
        // A real partial failure: a proxy makes moto refuse the second message of the call (an invalid delay).
        let proxy = try await HelperProcess.start("sqs_faults.py", [String(world.moto.port), "1"])
        defer { proxy.stop() }
        let faulty = try SQSClient(queueURL: world.queue.queueURL, endpoint: "http://127.0.0.1:\(proxy.port)", region: "us-east-1",
                                   credentials: Moto.credentials)
        let now = SystemClock().now()
        _ = try await world.db.store.addDueMonitors(60, dueAt: now)
        let report = await world.assembly.dispatcher(queue: faulty).tick()
        #expect(report.claimed == 60 && report.messages == 2 && report.sent == 35 && report.released == 25, "\(report)")
        #expect(report.errors.contains { $0.contains("refused 1 of 3") })
        #expect(try await world.db.database.scalar("SELECT count(*) FROM monitors WHERE lease_until IS NULL AND next_check_at = ?", [.integer(now)]) == 25)
        #expect(try await world.depth().visible == 2)
        // The released slots go out with the next claim, through the healthy endpoint.
        let again = await world.assembly.dispatcher(queue: world.queue).tick()
        #expect(again.claimed == 25 && again.sent == 25)
    }

    @Test("after failures the daemon backs off from the failure, doubling; a full claim goes on at once")
    func pacing() {
        var configuration = DispatchConfiguration(runnerID: "d")
        configuration.maxBackoff = .seconds(4)
        configuration.claimWindow = .milliseconds(20)
        let full = Dispatcher.Round(full: true), idle = Dispatcher.Round(nextDue: 10_700)
        #expect(Dispatcher.nextRound(after: full, started: 10_000, ended: 10_050, failures: 0, configuration) == nil)
        #expect(Dispatcher.nextRound(after: idle, started: 10_000, ended: 10_050, failures: 0, configuration) == 10_700)
        #expect(Dispatcher.nextRound(after: Dispatcher.Round(nextDue: 10_001), started: 10_000, ended: 10_001, failures: 0, configuration) == 10_020)
        #expect(Dispatcher.nextRound(after: Dispatcher.Round(), started: 10_000, ended: 10_001, failures: 0, configuration) == 11_000)
        #expect(Dispatcher.nextRound(after: full, started: 10_000, ended: 12_000, failures: 1, configuration) == 12_500)
        #expect(Dispatcher.nextRound(after: full, started: 10_000, ended: 12_000, failures: 2, configuration) == 13_000)
        #expect(Dispatcher.nextRound(after: full, started: 10_000, ended: 12_000, failures: 9, configuration) == 16_000)
    }

    @Test("a dispatcher that dies between claim and send: its monitors come back when the queue-covering lease ends")
    func dispatcherDiesAfterClaim() async throws {
        let world = try await QueueWorld.make()
        defer { world.remove() }
        let now = SystemClock().now()
        _ = try await world.db.store.addDueMonitors(5, dueAt: now, interval: 30)
        // The claim a dispatcher makes, and then nothing: it died.
        let lost = try await world.db.store.claimDue(now: now, limit: 500, leaseGrace: .seconds(60), leaseIntervals: Int(SlotMessage.staleIntervals))
        let leaseEnd = try #require(lost.monitors.compactMap(\.leaseUntil).max())
        #expect(leaseEnd == now + 5_000 + 60_000 + 60_000)
        let clock = ManualClock(now: leaseEnd - 1)
        #expect(await world.assembly.dispatcher(queue: world.queue, clock: clock).tick().claimed == 0)
        clock.advance(to: leaseEnd)
        let recovered = await world.assembly.dispatcher(queue: world.queue, clock: clock).tick()
        #expect(recovered.claimed == 5 && recovered.sent == 5)
    }

    @Test("a monitor too large for any message is recorded as an invalid_monitor check, through the status logic, not queued")
    func oversized() async throws {
        let world = try await QueueWorld.make()
        defer { world.remove() }
        let now = SystemClock().now()
        let ids = try await world.db.store.addDueMonitors(2, dueAt: now)
        let huge = #"{"headers":{"X-Pad":""# + String(repeating: "p", count: 300_000) + #""}}"#
        try await world.db.database.run("UPDATE monitors SET settings = ? WHERE id = ?", [.text(huge), .integer(ids[0])])
        let report = await world.assembly.dispatcher(queue: world.queue).tick()
        #expect(report.claimed == 2 && report.sent == 1 && report.oversized == 1, "\(report)")
        let record = try #require(try await world.db.store.history(monitorID: ids[0], limit: 1).first)
        #expect(record.result.errorClass == .invalidMonitor)
        #expect(record.result.message?.contains("larger than a queue message") == true)
        #expect(try await world.db.database.scalar("SELECT lease_until IS NULL FROM monitors WHERE id = ?", [.integer(ids[0])]) == 1)
    }

    @Test("a malformed message and a stale slot are removed without running; the good message beside them runs")
    func malformedAndStale() async throws {
        let world = try await QueueWorld.make()
        defer { world.remove() }
        let tcp = try await LoopbackServer.tcp()
        let now = SystemClock().now()
        _ = try await world.db.store.addDueMonitors(3, target: tcp.target, dueAt: now - 10_000, interval: 1)
        // One monitor claimed 10 s ago (10 intervals): its message is stale by the time a worker takes it.
        let old = try await world.db.store.claimDue(now: now - 10_000, limit: 1, leaseGrace: .seconds(60), leaseIntervals: 2).monitors
        let stale = SlotPacking(old, dispatchedAt: now - 10_000).messages[0].body
        #expect(try await world.queue.sendMessageBatch([(id: "junk", body: #"{"not":"ours"}"#), (id: "stale", body: stale)]).isEmpty)
        let good = await world.assembly.dispatcher(queue: world.queue).tick()
        #expect(good.sent == 2)
        let outcome = try await world.work(until: 2)
        let work = try #require(outcome.work)
        #expect(work.received == 3 && work.malformed == 1 && work.skipped == 1 && work.deleted == 3, "\(work)")
        #expect(try await world.db.database.scalar("SELECT count(*) FROM checks WHERE monitor_id = ?", [.integer(old[0].monitor.id)]) == 0)
        #expect(try await world.db.database.scalar("SELECT count(*) FROM checks") == 2)
        // The stale slot's lease is released: the monitor is claimable at its next slot.
        #expect(try await world.db.database.scalar("SELECT count(*) FROM monitors WHERE lease_until IS NOT NULL") == 0)
        let depth = try await world.depth()
        #expect(depth.visible == 0 && depth.inFlight == 0)
        try await tcp.stop()
    }

    @Test("at a graceful shutdown a worker hands the messages it did not finish back to the queue at once")
    func handsBackUnfinished() async throws {
        let world = try await QueueWorld.make { $0.concurrency = 1 }
        defer { world.remove() }
        let slow = try await Receiver.start()
        slow.delay(.milliseconds(300))
        let now = SystemClock().now()
        _ = try await world.db.store.upsert((0..<5).map { MonitorDraft.http(slow.url("/\($0)"), key: "slow-\($0)") }, now: now)
        try await world.db.database.run("UPDATE monitors SET next_check_at = ?", [.integer(now)])
        #expect(await world.assembly.dispatcher(queue: world.queue).tick().messages == 1)
        // One 300 ms check at a time: the first commit comes while most of the message's slots wait in the worker.
        let outcome = try await world.work(until: 1)
        let work = try #require(outcome.work)
        #expect(work.handedBack == 1 && work.deleted == 0, "\(work)")
        // Visible again now, not after the 60 s visibility timeout.
        let again = try await world.queue.receiveMessages(max: 10, wait: .seconds(1), visibility: .seconds(30))
        #expect(again.count == 1 && again.first?.receiveCount == 2)
        try await slow.stop()
    }

    @Test("a dispatcher daemon leaves the spool of this database alone (it commits no results to take it over)")
    func dispatcherKeepsSpool() async throws {
        let world = try await QueueWorld.make()
        defer { world.remove() }
        let now = SystemClock().now()
        let ids = try await world.db.store.addDueMonitors(3, dueAt: now)
        let spooled = [CheckOutcome.sample(monitorID: ids[0], slot: now - 30_000)]
        try world.assembly.spool.save(spooled)
        let outcome = try await Daemon(assembly: world.assembly, shape: .dispatcher(world.queue), signals: []).run { group in
            await group.triggerGracefulShutdown()
        }
        #expect(outcome.failure == nil)
        #expect(try world.assembly.spool.load() == spooled)
    }

    @Test("a worker holding messages longer than half their visibility extends it, so no other worker takes them")
    func visibilityExtended() async throws {
        let world = try await QueueWorld.make { $0.queue.work.visibility = .seconds(2) }
        defer { world.remove() }
        let receiver = try await Receiver.start()
        receiver.hold()
        let now = SystemClock().now()
        _ = try await world.db.store.upsert([MonitorDraft.http(receiver.url("/slow"), key: "slow", timeoutMilliseconds: 9_000)], now: now)
        try await world.db.database.run("UPDATE monitors SET next_check_at = ?", [.integer(now)])
        #expect(await world.assembly.dispatcher(queue: world.queue).tick().sent == 1)
        let clock = ManualClock(now: now)
        let source = world.assembly.workSource(queue: world.queue, clock: clock)
        let claim = try await source.claimDue(now: now, limit: 100, leaseGrace: .seconds(60), leaseIntervals: 0)
        #expect(claim.monitors.count == 1)
        await source.extendOverdue()
        #expect(await source.report.extended == 0, "not yet half the visibility")
        // SQS's own clock must run for its visibility timeout; the worker's decision runs on the manual clock.
        try await Task.sleep(for: .milliseconds(1_500))
        clock.advance(by: 1_500)
        await source.extendOverdue()
        #expect(await source.report.extended == 1)
        // 2.5 s after the receive, past the original 2 s: still invisible, thanks to the extension.
        try await Task.sleep(for: .milliseconds(1_000))
        #expect(try await world.queue.receiveMessages(max: 10, wait: .zero, visibility: .seconds(30)).isEmpty)
        receiver.release()
        try await receiver.stop()
    }
}

