import ServiceLifecycleTestKit
import Synchronization
import Testing
import UptickCore
@testable import UptickEngine
import UptickProbes
import UptickStore
import UptickTargets
import UptickTestSupport

@Suite("The daemon", .timeLimit(.minutes(1)))
struct DaemonTests {
    @Test("a stop while checks are in flight lets them finish and commits every result")
    func gracefulShutdown() async throws {
        let harness = try await Harness.make()
        defer { harness.db.remove() }
        let http = try await LoopbackServer.http()
        let now = SystemClock().now()
        _ = try await harness.db.store.upsert((0..<10).map { .http(http.url("/slow/300"), key: "m\($0)", interval: 1) }, now: now)
        try await harness.db.database.run("UPDATE monitors SET next_check_at = ?", [.integer(now)])
        let probe = InstrumentedProbe(StandardProbe(network: .testLoopback))
        let engine = harness.engine(probe: probe)
        let report = await testGracefulShutdown { shutdown in
            async let finished = engine.run()
            // As soon as the first check has started (the checks take 300 ms), ask to stop.
            var starts = probe.starts.makeAsyncIterator()
            _ = await starts.next()
            shutdown.triggerGracefulShutdown()
            return await finished
        }

        #expect(report.claimed >= 1)
        #expect(report.persisted == report.claimed && report.unpersisted.isEmpty)
        #expect(try await harness.db.database.scalar("SELECT count(*) FROM checks") == Int64(report.claimed))
        #expect(try await harness.db.database.scalar("SELECT count(*) FROM checks WHERE status = 'up'") == Int64(report.claimed))
        #expect(try await harness.db.database.scalar("SELECT count(*) FROM monitors WHERE lease_until IS NOT NULL") == 0)
        try await http.stop()
    }

    @Test("the daemon sleeps until the earliest slot and starts the check exactly at it")
    func wakesAtSlot() async throws {
        var harness = try await Harness.make()
        defer { harness.db.remove() }
        harness.configuration.idleRecheck = .seconds(3600)
        harness.configuration.flushSize = 1
        let tcp = try await LoopbackServer.tcp()
        let start: EpochMilliseconds = 1_764_460_800_000
        let clock = ManualClock(now: start)
        _ = try await harness.db.store.addMonitor(.port(tcp.target), now: start)
        try await harness.db.database.run("UPDATE monitors SET next_check_at = ?", [.integer(start + 5_000)])
        let (commits, continuation) = AsyncStream.makeStream(of: [CheckOutcome].self)
        let engine = harness.engine(clock: clock, onCommit: { continuation.yield($0) })
        let (batch, report) = await testGracefulShutdown { shutdown in
            async let finished = engine.run()
            clock.advance(to: start + 5_000)
            var iterator = commits.makeAsyncIterator()
            let batch = await iterator.next()
            shutdown.triggerGracefulShutdown()
            return (batch, await finished)
        }
        #expect(batch?.map(\.scheduledAt) == [start + 5_000])
        #expect(batch?.map(\.startedAt) == [start + 5_000])
        #expect(report.claimed == 1 && report.persisted == 1)
        #expect(try await tcp.settledConnections() == 1)
        try await tcp.stop()
    }

    @Test("cancelled with checks in flight and results uncommitted, the engine hands back every result it holds; the next run commits them")
    func cancellationKeepsResults() async throws {
        var harness = try await Harness.make()
        defer { harness.db.remove() }
        harness.configuration.flushSize = 1
        harness.configuration.maxRetryDelay = .milliseconds(50)
        let tcp = try await LoopbackServer.tcp()
        let http = try await LoopbackServer.http()
        let now = SystemClock().now()
        let fast = try await harness.db.store.addDueMonitors(4, target: tcp.target, dueAt: now)
        let slow = try await harness.db.store.addMonitor(.http(http.url("/slow/4000")), now: now)
        try await harness.db.database.run("UPDATE monitors SET next_check_at = ?", [.integer(now)])
        // The first check takes the write lock, so every commit fails (busy after 100 ms) and results wait.
        let lock = LockOnFirstCheck(path: harness.db.path)
        let attempts = CommitAttempts(try SQLiteDatabase(path: harness.db.path, create: false, busyTimeout: .milliseconds(100)))
        let engine = harness.engine(probe: lock, store: SQLStore(executor: attempts))
        let run = Task { await engine.run() }
        // Every fast result has reached the engine once a commit carries all four; the slow check is in flight.
        for await rows in attempts.checkRows where rows >= fast.count { break }
        run.cancel()
        let report = await run.value

        #expect(Set(report.unpersisted.map(\.monitorID)) == Set(fast))
        #expect(report.persisted == 0)
        #expect(try await harness.db.database.scalar("SELECT count(*) FROM checks") == 0)
        #expect(try await harness.db.database.scalar("SELECT count(*) FROM monitors WHERE id = ? AND lease_until IS NOT NULL", [.integer(slow.id)]) == 1)

        lock.release()
        let retry = await harness.engine().tick(carriedOver: report.unpersisted)
        #expect(retry.persisted == fast.count && retry.unpersisted.isEmpty)
        #expect(try await harness.db.database.scalar("SELECT count(*) FROM checks") == Int64(fast.count))
        try await tcp.stop()
        try await http.stop()
    }
}

/// An executor that reports, before running it, how many `checks` rows each write transaction inserts.
final class CommitAttempts: SQLExecutor {
    let inner: any SQLExecutor
    let checkRows: AsyncStream<Int>
    private let report: AsyncStream<Int>.Continuation

    init(_ inner: any SQLExecutor) {
        self.inner = inner
        (checkRows, report) = AsyncStream.makeStream()
    }

    func execute(_ statements: [SQLStatement], transaction: Bool) async throws(StoreError) -> [SQLRows] {
        let inserts = statements.filter { $0.sql.contains("INTO checks") }
        if !inserts.isEmpty { report.yield(inserts.map { $0.arguments.count / 14 }.reduce(0, +)) }
        return try await inner.execute(statements, transaction: transaction)
    }
}
