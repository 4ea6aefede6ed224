import Synchronization
import Foundation
import Testing
import UptickCore
@testable import UptickEngine
import UptickProbes
import UptickStore
import UptickTargets
import UptickTestSupport

@Suite("One tick: claim, probe, persist")
struct TickTests {
    @Test("a tick checks every due monitor against real local targets and commits the results")
    func tickAgainstLocalTargets() async throws {
        let harness = try await Harness.make()
        defer { harness.db.remove() }
        let http = try await LoopbackServer.http()
        let tcp = try await LoopbackServer.tcp()
        let store = harness.db.store
        let now = SystemClock().now()
        let monitors = [
            try await store.addMonitor(.http(http.url("/")), now: now),
            try await store.addMonitor(.http(http.url("/status/503")), now: now),
            try await store.addMonitor(.http(http.url("/keyword/needle"), settings: #"{"keyword":"needle"}"#), now: now),
            try await store.addMonitor(.http(http.url("/"), settings: #"{"keyword":"absent-word"}"#), now: now),
            try await store.addMonitor(.port(tcp.target), now: now),
            try await store.addMonitor(.port("127.0.0.1:1"), now: now),
        ]
        try await harness.db.database.run("UPDATE monitors SET next_check_at = ?", [.integer(now - 10)])
        let sink = RecordingSink()
        let report = await harness.engine(sink: sink).tick()

        #expect(report.claimed == 6 && report.persisted == 6 && report.errors.isEmpty)
        var byMonitor: [Int64: CheckRecord] = [:]
        for monitor in monitors { byMonitor[monitor.id] = try await store.history(monitorID: monitor.id, limit: 1).first }
        #expect(byMonitor[monitors[0].id]?.result.status == .up)
        #expect(byMonitor[monitors[0].id]?.result.httpStatus == 200)
        #expect(byMonitor[monitors[1].id]?.result.errorClass == .httpStatus)
        #expect(byMonitor[monitors[2].id]?.result.status == .up)
        #expect(byMonitor[monitors[3].id]?.result.errorClass == .keyword)
        #expect(byMonitor[monitors[4].id]?.result.status == .up)
        #expect(byMonitor[monitors[5].id]?.result.errorClass == .refused)
        #expect(byMonitor.values.allSatisfy { $0.runner == "test-runner" })
        #expect(byMonitor.values.filter { $0.result.status == .up }.allSatisfy { $0.result.timings.connectMicroseconds != nil })
        #expect(try await tcp.settledConnections() == 1)
        #expect(try await http.settledConnections() == 4)
        // The three that are up came into service; one failure of the default two leaves the others pending.
        #expect(sink.received.withLock { $0.count } == 3)
        let failing = try await store.monitor(id: monitors[1].id)
        #expect(failing.status == .pending && failing.state.consecutiveFailures == 1 && failing.state.recentVerdicts == "-")
        try await http.stop()
        try await tcp.stop()
    }

    @Test("a tick claims only before its claim deadline; past it, nothing is claimed or leased and all stays due")
    func claimDeadline() async throws {
        var harness = try await Harness.make()
        defer { harness.db.remove() }
        let clock = ManualClock(now: 1_800_000_000_000)
        _ = try await harness.db.store.addDueMonitors(30, dueAt: clock.now() - 1)
        harness.configuration.claimBatch = 10
        harness.configuration.claimUntil = clock.now()
        var report = await harness.engine(probe: StubProbe(), clock: clock).tick()
        #expect(report.claimed == 0)
        #expect(try await harness.db.database.scalar("SELECT count(*) FROM monitors WHERE lease_until IS NOT NULL") == 0)
        #expect(try await harness.db.database.scalar("SELECT count(*) FROM monitors WHERE next_check_at < ?", [.integer(clock.now())]) == 30)
        harness.configuration.claimUntil = clock.now() + 60_000
        report = await harness.engine(probe: StubProbe(), clock: clock).tick()
        #expect(report.claimed == 30 && report.persisted == 30)
    }

    @Test("malformed monitor rows become checks with an error class, and the tick goes on")
    func malformedRows() async throws {
        let harness = try await Harness.make()
        defer { harness.db.remove() }
        let tcp = try await LoopbackServer.tcp()
        let now = SystemClock().now()
        let good = try await harness.db.store.addMonitor(.port(tcp.target), now: now)
        // Rows as a buggy backend could write them, bypassing the CLI's validation.
        try await harness.db.database.run("""
            INSERT INTO monitors (name, type, target, interval_seconds, timeout_ms, settings) VALUES
                ('bad json', 'http', 'http://127.0.0.1/', 30, 1000, '{oops'),
                ('bad target', 'port', 'no-port-here', 30, 1000, '{}'),
                ('bad type', 'smtp', 'mail:25', 30, 1000, '{}'),
                ('bad interval', 'port', '127.0.0.1:1', 0, 1000, '{}')
            """)
        try await harness.db.database.run("UPDATE monitors SET next_check_at = ?", [.integer(now - 10)])
        let report = await harness.engine().tick()
        #expect(report.claimed == 5 && report.persisted == 5)
        let classes = try await harness.db.database.execute([SQLStatement(
            "SELECT m.name, c.error_class FROM checks c JOIN monitors m ON m.id = c.monitor_id ORDER BY m.id"
        )], transaction: false)[0].rows.map { "\($0[0].text!)=\($0[1].text ?? "none")" }
        #expect(classes == ["port \(tcp.target)=none", "bad json=invalid_monitor", "bad target=invalid_target",
                            "bad type=invalid_monitor", "bad interval=invalid_monitor"])
        #expect(try await harness.db.store.monitor(id: good.id).status == .up)
        try await tcp.stop()
    }

    @Test("a probe that ignores cancellation is cut off at the monitor's timeout")
    func hardDeadline() async throws {
        let harness = try await Harness.make()
        defer { harness.db.remove() }
        let now = SystemClock().now()
        _ = try await harness.db.store.addMonitor(.port("127.0.0.1:9", timeoutMilliseconds: 300), now: now)
        try await harness.db.database.run("UPDATE monitors SET next_check_at = ?", [.integer(now)])
        let started = ContinuousClock.now
        let report = await harness.engine(probe: StuckProbe()).tick()
        #expect(ContinuousClock.now - started < .seconds(5))
        #expect(report.down == 1)
        #expect(try await harness.db.store.history(monitorID: 1, limit: 1).first?.result.errorClass == .timeout)
    }

    @Test("a monitor whose previous probe is still running is not probed again: its slot is a timeout at once")
    func onePendingProbePerMonitor() async throws {
        let harness = try await Harness.make()
        defer { harness.db.remove() }
        let now = SystemClock().now()
        _ = try await harness.db.store.addMonitor(.port("127.0.0.1:9", timeoutMilliseconds: 200), now: now)
        let probe = InstrumentedProbe(StuckProbe())
        let engine = harness.engine(probe: probe)
        for _ in 0..<3 {
            try await harness.db.database.run("UPDATE monitors SET next_check_at = ?, lease_until = NULL", [.integer(SystemClock().now())])
            #expect(await engine.tick().down == 1)
        }
        var starts = probe.starts.makeAsyncIterator()
        #expect(await starts.next() == 1)
        #expect(probe.peak == 1)  // the stuck probe was started once, not three times
        let history = try await harness.db.store.history(monitorID: 1, limit: 3)
        #expect(history.filter { $0.result.message == "the previous check of this monitor is still running" }.count == 2)
    }

    @Test("a server that never answers ends in the probe's own timeout just before the monitor's deadline")
    func hangingServer() async throws {
        let harness = try await Harness.make()
        defer { harness.db.remove() }
        let http = try await LoopbackServer.http()
        let now = SystemClock().now()
        _ = try await harness.db.store.addMonitor(.http(http.url("/hang"), timeoutMilliseconds: 400), now: now)
        try await harness.db.database.run("UPDATE monitors SET next_check_at = ?", [.integer(now)])
        let report = await harness.engine().tick()
        let check = try #require(try await harness.db.store.history(monitorID: 1, limit: 1).first)
        #expect(report.down == 1 && check.result.errorClass == .timeout)
        // The probe stops 25 ms early so that it, not the engine's backstop, normally reports the timeout.
        #expect((375_000..<5_400_000).contains(check.result.durationMicroseconds), "took \(check.result.durationMicroseconds) µs")
        try await http.stop()
    }

    @Test("concurrency is bounded: never more checks in flight than configured")
    func boundedConcurrency() async throws {
        var harness = try await Harness.make()
        defer { harness.db.remove() }
        harness.configuration.concurrency = 4
        harness.configuration.claimBatch = 3
        let http = try await LoopbackServer.http()
        let now = SystemClock().now()
        _ = try await harness.db.store.upsert((0..<20).map { .http(http.url("/slow/20"), key: "s\($0)") }, now: now)
        try await harness.db.database.run("UPDATE monitors SET next_check_at = ?", [.integer(now)])
        let probe = InstrumentedProbe(StandardProbe(network: .testLoopback))
        let report = await harness.engine(probe: probe).tick()
        #expect(report.claimed == 20 && report.up == 20)
        #expect(probe.peak <= 4 && probe.peak >= 2)
        try await http.stop()
    }

    @Test("results that cannot be committed are handed back, then committed by the next run")
    func persistenceFailureKeepsResults() async throws {
        var harness = try await Harness.make()
        defer { harness.db.remove() }
        harness.configuration.finalPersistAttempts = 2
        harness.configuration.maxRetryDelay = .milliseconds(50)
        let tcp = try await LoopbackServer.tcp()
        let now = SystemClock().now()
        _ = try await harness.db.store.addDueMonitors(3, target: tcp.target, dueAt: now)
        // The runner's connection gives up on a lock after 100 ms; another writer takes the lock
        // once the checks are claimed and holds it through the rest of the tick.
        let runnerStore = try await harness.db.secondConnection(busyTimeout: .milliseconds(100))
        let lock = LockOnFirstCheck(path: harness.db.path)
        let report = await harness.engine(probe: lock, store: runnerStore).tick()
        #expect(report.claimed == 3 && report.persisted == 0)
        #expect(report.unpersisted.count == 3)
        #expect(report.errors.last?.contains("locked") == true)
        #expect(try await harness.db.database.scalar("SELECT count(*) FROM checks") == 0)

        lock.release()
        let retry = await harness.engine(store: runnerStore).tick(carriedOver: report.unpersisted)
        #expect(retry.persisted == 3 && retry.unpersisted.isEmpty)
        #expect(try await harness.db.database.scalar("SELECT count(*) FROM checks") == 3)
        #expect(try await harness.db.database.scalar("SELECT count(*) FROM monitors WHERE status = 'up'") == 3)
        try await tcp.stop()
    }
}

/// A port probe that, on its first check, makes another connection take the database's write lock.
final class LockOnFirstCheck: Probe, @unchecked Sendable {
    private let path: String
    private let lock = NSLock()
    private var held: WriteLock?

    init(path: String) {
        self.path = path
    }

    func check(_ spec: CheckSpec) async -> CheckResult {
        lock.withLock {
            if held == nil { held = try? WriteLock(path: path) }
        }
        return await StandardProbe(network: .testLoopback).check(spec)
    }

    func release() {
        lock.withLock { held?.release() }
    }
}

@Suite("Hostile targets")
struct HostileTargetTests {
    @Test("garbage, a reset or silence each end within the deadline with their own error class", arguments: [
        (Misbehaviour.garbage, ErrorClass.protocol),
        (.reset, .reset),
        (.silent, .timeout),
    ])
    func hostile(behaviour: Misbehaviour, expected: ErrorClass) async throws {
        let harness = try await Harness.make()
        defer { harness.db.remove() }
        let server = try await LoopbackServer.hostile(behaviour)
        let now = SystemClock().now()
        let timeout: Int64 = expected == .timeout ? 500 : 5000  // only silence is about the deadline
        _ = try await harness.db.store.addMonitor(.http(server.url(), timeoutMilliseconds: timeout), now: now)
        try await harness.db.database.run("UPDATE monitors SET next_check_at = ?", [.integer(now)])
        let report = await harness.engine().tick()
        let check = try #require(try await harness.db.store.history(monitorID: 1, limit: 1).first)
        #expect(report.down == 1)
        #expect(check.result.errorClass == expected, "\(check.result.message ?? "")")
        // Ends at the deadline instead of hanging; the slack absorbs a loaded two-core machine.
        #expect(check.result.durationMicroseconds < timeout * 1000 + 5_000_000)
        try await server.stop()
    }
}
