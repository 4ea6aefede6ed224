import Synchronization
import Testing
import UptickCore
@testable import UptickEngine
import UptickProbes
import UptickStore
import UptickTargets
import UptickTestSupport

@Suite("The daemon")
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
        let stop = StopSignal()
        let engine = harness.engine(probe: probe)
        async let finished = engine.run(until: stop)
        // As soon as the first check has started (the checks take 300 ms), ask to stop.
        var starts = probe.starts.makeAsyncIterator()
        _ = await starts.next()
        stop.stop()
        let report = await finished

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
        let stop = StopSignal()
        async let finished = engine.run(until: stop)

        clock.advance(to: start + 5_000)
        var iterator = commits.makeAsyncIterator()
        let batch = try #require(await iterator.next())
        #expect(batch.map(\.scheduledAt) == [start + 5_000])
        #expect(batch.map(\.startedAt) == [start + 5_000])
        stop.stop()
        let report = await finished
        #expect(report.claimed == 1 && report.persisted == 1)
        #expect(try await tcp.settledConnections() == 1)
        try await tcp.stop()
    }
}
