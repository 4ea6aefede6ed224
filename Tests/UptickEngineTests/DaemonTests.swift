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

@Suite("Leases: a check runs only inside its lease", .timeLimit(.minutes(1)))
struct LeaseTests {
    @Test("a claim answered too late for its lease hands its monitors back unstarted, due at their slot; the next claim runs them once")
    func lateClaim() async throws {
        var harness = try await Harness.make()
        defer { harness.db.remove() }
        harness.configuration.flushSize = 1
        let start: EpochMilliseconds = 1_764_460_800_000
        let clock = ManualClock(now: start)
        let ids = try await harness.db.store.addDueMonitors(3, dueAt: start)  // 5 s timeouts: leased until start + 7 s
        // The first claim answers 20 s after it began (the clock moves while the database works).
        let slow = SlowFirstClaim(harness.db.database, clock: clock, by: 20_000)
        let probe = InstrumentedProbe(StubProbe())
        let (commits, continuation) = AsyncStream.makeStream(of: [CheckOutcome].self)
        let engine = harness.engine(probe: probe, clock: clock, store: SQLStore(executor: slow), onCommit: { continuation.yield($0) })
        let (outcomes, report) = await testGracefulShutdown { shutdown in
            async let finished = engine.run()
            await slow.released()  // handed back: the engine did not start them
            // From then on, time moves a second whenever the engine sleeps.
            let ticking = Task {
                var sleeps = 1
                while !Task.isCancelled {
                    await clock.waitForSleep(sleeps)
                    clock.advance(by: 1_000)
                    sleeps += 1
                }
            }
            defer { ticking.cancel() }
            var outcomes: [CheckOutcome] = []
            for await batch in commits {
                outcomes += batch
                if outcomes.count == ids.count { break }
            }
            shutdown.triggerGracefulShutdown()
            return (outcomes, await finished)
        }
        #expect(Set(outcomes.map(\.monitorID)) == Set(ids) && outcomes.count == ids.count)
        #expect(outcomes.allSatisfy { $0.scheduledAt == start && $0.startedAt >= start + 20_000 }, "\(outcomes.map { ($0.scheduledAt, $0.startedAt) })")
        #expect(report.claimed == ids.count)  // the late claim is not counted as run
        #expect(try await harness.db.database.scalar("SELECT count(*) FROM checks") == Int64(ids.count))
        #expect(try await harness.db.database.scalar("SELECT count(*) FROM monitors WHERE lease_until IS NOT NULL") == 0)
    }

    @Test("whether a lease covers a check started now: its timeout (bounded at 10 s) must end by the lease", arguments: [
        (timeout: Int64(5_000), startOffset: Int64(0), covered: true), (5_000, 3_000, true), (5_000, 3_001, false),
        (60_000, 3_000, true), (60_000, 3_001, false), (-1, 3_000, true), (-1, 3_001, false),
    ])
    func covers(timeout: Int64, startOffset: Int64, covered: Bool) {
        let monitor = Monitor(id: 1, name: "m", type: "port", target: "127.0.0.1:9", intervalSeconds: 1, timeoutMilliseconds: timeout)
        // Leased as a claim at 0 with a 3 s grace leases it: the bounded timeout plus 3 s.
        let lease = min(max(timeout, 0), Limits.maxTimeoutMilliseconds) + 3_000
        let claimed = ClaimedMonitor(monitor: monitor, slot: 0, leaseUntil: lease)
        #expect(claimed.leaseCovers(checkStartingAt: startOffset) == covered)
        #expect(ClaimedMonitor(monitor: monitor, slot: 0).leaseCovers(checkStartingAt: .max / 2))  // no lease: a queue's own slot
    }
}

@Suite("Wall clock steps", .timeLimit(.minutes(1)))
struct ClockStepTests {
    @Test("the steady time follows the wall clock, ignores jitter under the tolerance, and never goes back")
    func follows() {
        var time = SteadyTime()
        #expect(time.read(wall: 10_000, elapsed: 0) == (10_000, nil))
        #expect(time.read(wall: 11_000, elapsed: 1_000) == (11_000, nil))
        // NTP's small correction back: no step, and the time stands instead of going back.
        #expect(time.read(wall: 11_500, elapsed: 2_000) == (11_500, nil))
        #expect(time.read(wall: 11_400, elapsed: 2_050) == (11_500, nil))
        #expect(!time.isCatchingUp)
    }

    @Test("a step back goes on from where the time was, 10 % slow, until the wall clock catches up (10 h for 1 h)")
    func back() {
        let hour: EpochMilliseconds = 3_600_000
        var time = SteadyTime()
        _ = time.read(wall: 1_000_000, elapsed: 0)
        let stepped = time.read(wall: 1_001_000 - hour, elapsed: 1_000)
        #expect(stepped == (1_000_900, .back(hour)))
        #expect(time.isCatchingUp)
        #expect(time.read(wall: 1_011_000 - hour, elapsed: 11_000) == (1_009_900, nil))  // 9 s for 10 s
        // Meets the wall clock when 0.9 × e = e − 1 h, e = 10 h: from then on it is the wall clock again.
        let met = 10 * hour
        #expect(time.read(wall: 1_000_000 + met - hour - 10, elapsed: met - 10).time == 1_000_000 + met - hour - 9)
        #expect(time.read(wall: 1_000_000 + met - hour + 1_000, elapsed: met + 1_000) == (1_000_000 + met - hour + 1_000, nil))
        #expect(!time.isCatchingUp)
    }

    @Test("a step forward is taken at once and said once; a second step back while catching up keeps its anchor")
    func forward() {
        var time = SteadyTime()
        _ = time.read(wall: 5_000, elapsed: 0)
        #expect(time.read(wall: 5_000 + 7_200_000, elapsed: 1_000) == (5_000 + 7_200_000, .forward(7_199_000)))
        #expect(time.read(wall: 5_000 + 7_201_000, elapsed: 2_000) == (5_000 + 7_201_000, nil))
        #expect(time.read(wall: 5_000, elapsed: 3_000) == (5_000 + 7_201_900, .back(7_202_000)))
        #expect(time.read(wall: 4_000, elapsed: 4_000) == (5_000 + 7_202_800, .back(2_000)))
        #expect(SteadyTime.Step.back(3_600_000).description.hasPrefix("the wall clock stepped back 3600.0 s: "))
    }

    /// Three monitors every second; the test's clock moves 1.112 s each time the engine sleeps with nothing in hand
    /// (enough to end a 1 s wait of the engine's clock while it runs 10 % slow, 1.111 s). After five rounds the wall
    /// clock steps back an hour, five rounds later forward two hours (an hour past the engine's time).
    ///
    /// The clock moves only while the engine is idle, because a check costs no time of the test's clock: moved on
    /// while checks still wait for a thread (seconds, with the whole suite on two cores), it ends their leases and the
    /// next claim rightly skips their monitors' slot, which is not what this test is about.
    @Test("under the daemon, a step back neither stalls nor reuses a slot, a step forward runs no missed slot")
    func underTheDaemon() async throws {
        var harness = try await Harness.make()
        defer { harness.db.remove() }
        harness.configuration.flushSize = 1
        let hour: EpochMilliseconds = 3_600_000
        let start: EpochMilliseconds = 1_764_460_800_000
        let wall = ManualClock(now: start)
        let clock = SteadyClock(wall: wall, elapsed: { wall.elapsed })
        let ids = try await harness.db.store.addDueMonitors(3, dueAt: start, interval: 1)
        let (commits, continuation) = AsyncStream.makeStream(of: [CheckOutcome].self)
        let idle = IdleSignal()
        let engine = harness.engine(probe: StubProbe(), clock: clock, observer: idle, onCommit: { continuation.yield($0) })
        var elapsedAtSteps: [Int64] = []
        var forwardAt: EpochMilliseconds = 0
        var engineTimeBeforeForward: EpochMilliseconds = 0
        var outcomes = await testGracefulShutdown { shutdown in
            async let finished = engine.run()
            let ticking = Task {
                var sleeps = 1
                while !Task.isCancelled {
                    await wall.waitForSleep(sleeps)
                    await idle.idle()
                    wall.advance(by: 1_112)
                    sleeps += 1
                }
            }
            var outcomes: [CheckOutcome] = []
            for await batch in commits {
                outcomes += batch
                let steps = elapsedAtSteps.count
                if steps < 2, outcomes.count >= 15 * (steps + 1) {
                    // Steps too are taken with nothing in hand: a step forward under a running check is the next test's.
                    await idle.idle()
                    elapsedAtSteps.append(wall.elapsed)
                    if steps == 0 {
                        wall.step(by: -hour)
                    } else {
                        engineTimeBeforeForward = clock.now()
                        wall.step(by: 2 * hour)
                        forwardAt = wall.now()
                    }
                } else if outcomes.count >= 45 {
                    break
                }
            }
            elapsedAtSteps.append(wall.elapsed)
            shutdown.triggerGracefulShutdown()
            _ = await finished
            ticking.cancel()
            continuation.finish()
            return outcomes
        }
        for await batch in commits { outcomes += batch }  // the last ones, committed by the stop
        // Each stretch of 15 results takes seconds of the test's clock, not an hour (with the plain wall clock the daemon
        // sleeps the hour and the test times out).
        let stretches = zip(elapsedAtSteps, [0] + elapsedAtSteps).map { $0 - $1 }
        #expect(stretches.count == 3 && stretches.allSatisfy { $0 <= 20_000 }, "test-clock ms between steps: \(stretches)")
        for id in ids {
            let mine = outcomes.filter { $0.monitorID == id }
            let slots = mine.map(\.scheduledAt)
            #expect(slots == slots.sorted() && Set(slots).count == slots.count, "slots of \(id): \(slots)")
            #expect(mine.count >= 14, "\(id): \(mine.count) checks, slots \(slots)")
            // Every result stored (none dropped as a slot already used), and the state is the newest one's.
            let stored = try await harness.db.database.scalar("SELECT count(*) FROM checks WHERE monitor_id = ?", [.integer(id)])
            #expect(stored == Int64(mine.count))
            let last = try await harness.db.database.scalar("SELECT last_checked_at FROM monitors WHERE id = ?", [.integer(id)])
            #expect(last == mine.map(\.startedAt).max())
            // After the forward step, the slots are the wall clock's: none of the hour skipped is run (beyond a slot
            // claimed just before the step).
            let skipped = slots.filter { $0 > engineTimeBeforeForward + 2_000 && $0 < forwardAt - 1_000 }
            #expect(skipped.isEmpty && slots.contains { $0 >= forwardAt - 1_000 }, "\(slots)")
        }
        #expect(forwardAt >= start + hour)
        #expect(try await harness.db.database.scalar("SELECT count(*) FROM monitors WHERE lease_until IS NOT NULL") == 0)
    }

    /// A forward step ends the leases of checks still running here. The monitor is claimed again at its next slot, and
    /// the engine must skip that slot (the running check answers for it), not start a second check that fails at once
    /// as "still running".
    @Test("a step forward under a running check: its monitor claimed again is skipped, not failed as still running")
    func forwardUnderARunningCheck() async throws {
        var harness = try await Harness.make()
        defer { harness.db.remove() }
        harness.configuration.flushSize = 1
        let start: EpochMilliseconds = 1_764_460_800_000
        let wall = ManualClock(now: start)
        let clock = SteadyClock(wall: wall, elapsed: { wall.elapsed })
        let id = try #require(try await harness.db.store.addDueMonitors(1, dueAt: start, interval: 1).first)
        // The held check's real timeout is the longest there is: the steps below take milliseconds alone, but seconds
        // while the whole suite starts on two cores, and the check must still be running when the gate opens.
        try await harness.db.database.execute([SQLStatement("UPDATE monitors SET timeout_ms = 10000 WHERE id = ?", [.integer(id)])], transaction: false)
        let gate = GateProbe()
        let probe = InstrumentedProbe(gate)
        let (commits, continuation) = AsyncStream.makeStream(of: [CheckOutcome].self)
        let engine = harness.engine(probe: probe, clock: clock, onCommit: { continuation.yield($0) })
        let outcomes = await testGracefulShutdown { shutdown in
            async let finished = engine.run()
            var starts = probe.starts.makeAsyncIterator()
            _ = await starts.next()
            wall.step(by: 7_200_000)
            // Six slots of the engine's clock, each claiming the monitor again while its check runs (the check's hard
            // deadline is real time, which these steps barely use).
            for sleep in 1...6 {
                await wall.waitForSleep(sleep)
                wall.advance(by: 1_112)
            }
            await wall.waitForSleep(7)
            let claimedAgain = try? await harness.db.database.scalar("SELECT next_check_at FROM monitors WHERE id = ?", [.integer(id)])
            gate.open()
            var outcomes: [CheckOutcome] = []
            for await batch in commits {
                outcomes += batch
                if outcomes.contains(where: { $0.result.status == .up }) { break }
            }
            shutdown.triggerGracefulShutdown()
            _ = await finished
            return (outcomes, claimedAgain)
        }
        // It was claimed after the step (its next slot is the wall clock's), and the only result is the running check's.
        #expect((outcomes.1 ?? 0) > start + 7_200_000)
        #expect(outcomes.0.map(\.result.status) == [.up], "\(outcomes.0.map(\.result))")
        #expect(probe.peak == 1)
        #expect(try await harness.db.database.scalar("SELECT count(*) FROM checks WHERE monitor_id = ?", [.integer(id)]) == 1)
    }
}

/// The database, except that its first claim answers `delay` ms of the test's clock after it was asked; tells when
/// monitors are handed back.
final class SlowFirstClaim: SQLExecutor {
    let inner: any SQLExecutor
    let clock: ManualClock
    let delay: EpochMilliseconds
    private let delayed = Mutex(false)
    private let releases: AsyncStream<Void>
    private let release: AsyncStream<Void>.Continuation

    init(_ inner: any SQLExecutor, clock: ManualClock, by delay: EpochMilliseconds) {
        (self.inner, self.clock, self.delay) = (inner, clock, delay)
        (releases, release) = AsyncStream.makeStream()
    }

    func released() async {
        var iterator = releases.makeAsyncIterator()
        _ = await iterator.next()
    }

    func execute(_ statements: [SQLStatement], transaction: Bool) async throws(StoreError) -> [SQLRows] {
        let rows = try await inner.execute(statements, transaction: transaction)
        if statements.contains(where: { $0.sql.contains("RETURNING") && $0.sql.contains("lease_until = ?1") }),
           delayed.withLock({ done in defer { done = true }; return !done }) {
            clock.advance(by: delay)
        }
        if statements.contains(where: { $0.sql.contains("next_check_at = r.slot") }) { release.yield() }
        return rows
    }
}
