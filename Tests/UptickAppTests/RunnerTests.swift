import Foundation
import Logging
import ServiceLifecycle
import Testing
import UptickApp
import UptickCore
import UptickEngine
import UptickLambda
import UptickStore
import UptickTargets
import UptickTestSupport

/// The composition root on a temporary database, as production wires it, on the tests' loopback network.
func assembly(_ db: TemporaryDatabase, configure: (inout RunnerConfiguration) -> Void = { _ in }) -> Assembly {
    var configuration = RunnerConfiguration()
    configuration.database = db.path
    configure(&configuration)
    return Assembly(configuration: configuration, store: db.store, network: .testLoopback, spool: Spool(path: db.path + ".spool"),
                    logger: Logger(label: "test"))
}

@Suite("The spool policy", .timeLimit(.minutes(1)))
struct SpoolPolicyTests {
    @Test("what a run could not commit is spooled and reported as a runtime fault; the next tick commits it first and removes the spool")
    func spooledThenCommitted() async throws {
        let db = try await TemporaryDatabase.make()
        defer { db.remove() }
        let now = SystemClock().now()
        let ids = try await db.store.addDueMonitors(2, dueAt: now + 3_600_000)
        let runner = assembly(db)
        var report = EngineReport()
        report.unpersisted = ids.map { CheckOutcome.sample(monitorID: $0, slot: now) }
        report.errors = ["persist failed: database is locked"]
        let failure = #expect(throws: UptickError.self) { try runner.keep(report) }
        #expect(failure?.kind == .runtime)
        #expect(failure?.message == "2 results could not be committed and were spooled to \(db.path).spool: persist failed: database is locked")
        #expect(try runner.carriedOver().map(\.monitorID) == ids)

        let tick = try await runner.tick(deliverFor: .zero)
        #expect(tick.failure == nil && tick.report.persisted == 2)
        #expect(try await db.database.scalar("SELECT count(*) FROM checks") == 2)
        #expect(!FileManager.default.fileExists(atPath: runner.spool.path))
    }

    @Test("an unreadable spool stops a tick before it claims anything, and is left as it was")
    func unreadableSpool() async throws {
        let db = try await TemporaryDatabase.make()
        defer { db.remove() }
        _ = try await db.store.addDueMonitors(1, dueAt: SystemClock().now() - 1000)
        let runner = assembly(db)
        try Data("not json".utf8).write(to: URL(fileURLWithPath: runner.spool.path))
        let failure = await #expect(throws: UptickError.self) { try await runner.tick() }
        #expect(failure?.kind == .runtime && failure?.message.contains("move it away to continue") == true)
        #expect(try await db.database.scalar("SELECT count(*) FROM monitors WHERE lease_until IS NOT NULL") == 0)
        #expect(try String(contentsOfFile: runner.spool.path, encoding: .utf8) == "not json")
    }

    @Test("the Lambda role keeps its spool in the temporary directory, its only writable place")
    func lambdaSpool() async throws {
        let db = try await TemporaryDatabase.make()
        defer { db.remove() }
        var configuration = RunnerConfiguration()
        configuration.database = db.path
        let lambda = try await Assembly.open(configuration, role: .lambda)
        #expect(lambda.spool.path.hasPrefix(NSTemporaryDirectory()))
        #expect(try await Assembly.open(configuration, role: .tick).spool.path == db.path + ".spool")
    }
}

@Suite("The Lambda handler, without the binary", .timeLimit(.minutes(1)))
struct LambdaHandlerTests {
    func invocation(_ event: String, deadline: EpochMilliseconds) -> Invocation {
        Invocation(requestID: "r1", deadline: deadline, event: Data(event.utf8))
    }

    @Test("an event for two ticks runs them a spacing apart on the clock; the answer has both summaries")
    func paced() async throws {
        let db = try await TemporaryDatabase.make()
        defer { db.remove() }
        let tcp = try await LoopbackServer.tcp()
        let start: EpochMilliseconds = SystemClock().now()
        // Due at the first tick; due again (interval 10 s) at the second, 10 s later on the manual clock.
        let id = try #require(try await db.store.addDueMonitors(1, target: tcp.target, dueAt: start, interval: 10).first)
        let clock = ManualClock(now: start)
        let function = LambdaFunction(assembly: assembly(db), clock: clock)
        async let answer = function.handle(invocation(#"{"uptick":{"ticks":2,"spacing_seconds":10}}"#, deadline: start + 600_000))
        await clock.waitForSleep(1)  // the first tick is done; the handler sleeps until the second
        #expect(try await db.database.scalar("SELECT count(*) FROM checks") == 1)
        clock.advance(by: 10_000)
        let body = try await answer
        let object = try #require(try JSONSerialization.jsonObject(with: body) as? [String: Any])
        let ticks = try #require(object["ticks"] as? [[String: Any]])
        #expect(ticks.map { $0["claimed"] as? Int } == [1, 1] && object["skipped_ticks"] as? Int == 0, "\(object)")
        #expect(try await db.store.history(monitorID: id, limit: 5).map(\.scheduledAt) == [start + 10_000, start])
        try await tcp.stop()
    }

    @Test("a deadline too close for a check and a commit claims nothing and says the ticks were skipped")
    func shortDeadline() async throws {
        let db = try await TemporaryDatabase.make()
        defer { db.remove() }
        let now = SystemClock().now()
        _ = try await db.store.addDueMonitors(1, dueAt: now - 1000)
        let function = LambdaFunction(assembly: assembly(db))
        let body = try await function.handle(invocation(#"{"uptick":{"ticks":2}}"#, deadline: now + 3_000))
        let object = try #require(try JSONSerialization.jsonObject(with: body) as? [String: Any])
        #expect(object["skipped_ticks"] as? Int == 2 && (object["ticks"] as? [Any])?.isEmpty == true)
        #expect(try await db.database.scalar("SELECT count(*) FROM monitors WHERE lease_until IS NOT NULL") == 0)
    }

    @Test("an unknown event and a database fault are invocation errors of their own types")
    func failures() async throws {
        let db = try await TemporaryDatabase.make()
        defer { db.remove() }
        let function = LambdaFunction(assembly: assembly(db))
        let deadline = SystemClock().now() + 60_000
        let unknown = await #expect(throws: InvocationFailure.self) { try await function.handle(invocation(#"{"hello":1}"#, deadline: deadline)) }
        #expect(unknown?.type == "UnrecognizedEvent")
        try await db.database.run("DROP TABLE monitors")
        let broken = await #expect(throws: InvocationFailure.self) { try await function.handle(invocation("{}", deadline: deadline)) }
        #expect(broken?.type == "DatabaseError" && broken?.message.contains("no such table") == true, "\(String(describing: broken))")
    }

    @Test("an unreadable spool does not fail every invocation: it is kept aside and the tick runs")
    func unreadableSpool() async throws {
        let db = try await TemporaryDatabase.make()
        defer { db.remove() }
        let now = SystemClock().now()
        _ = try await db.store.addDueMonitors(1, dueAt: now - 1000)
        let runner = assembly(db)
        try Data("not json".utf8).write(to: URL(fileURLWithPath: runner.spool.path))
        let body = try await LambdaFunction(assembly: runner).handle(invocation("{}", deadline: now + 60_000))
        let object = try #require(try JSONSerialization.jsonObject(with: body) as? [String: Any])
        #expect((object["ticks"] as? [[String: Any]])?.first?["claimed"] as? Int == 1, "\(object)")
        let kept = try FileManager.default.contentsOfDirectory(atPath: db.directory.path).filter { $0.contains(".spool.unreadable-") }
        #expect(kept.count == 1)
        #expect(try kept.first.map { try String(contentsOfFile: db.directory.appendingPathComponent($0).path, encoding: .utf8) } == "not json")
    }

    @Test("configured from the environment alone; UPTICK_DB is required")
    func environment() async throws {
        let missing = await #expect(throws: UptickError.self) { try await LambdaFunction.start(environment: [:]) }
        #expect(missing?.message.contains("UPTICK_DB is not set") == true)
        let bad = await #expect(throws: UptickError.self) { try await LambdaFunction.start(environment: ["UPTICK_DB": "/nonexistent/uptick.db", "UPTICK_CONCURRENCY": "0"]) }
        #expect(bad?.message.hasPrefix("UPTICK_CONCURRENCY must be") == true)
    }
}

@Suite("The daemon's service group", .timeLimit(.minutes(1)))
struct DaemonServiceTests {
    @Test("a graceful shutdown stops claiming, commits what ran, and leaves no spool")
    func gracefulShutdown() async throws {
        let db = try await TemporaryDatabase.make()
        defer { db.remove() }
        let tcp = try await LoopbackServer.tcp()
        let ids = try await db.store.addDueMonitors(3, target: tcp.target, dueAt: SystemClock().now())
        let (commits, committed) = AsyncStream.makeStream(of: [CheckOutcome].self)
        let daemon = Daemon(assembly: assembly(db) { $0.retention.checks = .seconds(86_400) }, signals: []) { committed.yield($0) }
        let outcome = try await daemon.run { group in
            var iterator = commits.makeAsyncIterator()
            _ = await iterator.next()
            await group.triggerGracefulShutdown()
        }
        #expect(!outcome.cancelled && outcome.failure == nil)
        #expect(outcome.report.persisted >= 1 && outcome.report.unpersisted.isEmpty)
        #expect(try await db.database.scalar("SELECT count(*) FROM checks") == Int64(outcome.report.persisted))
        #expect(try await db.database.scalar("SELECT count(*) FROM monitors WHERE lease_until IS NOT NULL") == 0)
        #expect(Set(try await db.store.monitors().filter { $0.lastCheckedAt != nil }.map(\.id)) == Set(ids))
        #expect(!FileManager.default.fileExists(atPath: db.path + ".spool"))
        try await tcp.stop()
    }
}
