import Testing
import UptickCore
@testable import UptickEngine
import UptickStore
import UptickTestSupport

@Suite("The engine's pacing decisions")
struct PipelineTests {
    let now: EpochMilliseconds = 1_000_000

    func configuration(_ change: (inout EngineConfiguration) -> Void = { _ in }) -> EngineConfiguration {
        var configuration = EngineConfiguration(runnerID: "t")
        configuration.concurrency = 10
        configuration.claimBatch = 10
        configuration.flushSize = 3
        configuration.flushDelay = .milliseconds(200)
        change(&configuration)
        return configuration
    }

    func claim(_ count: Int, nextDue: EpochMilliseconds?) -> Claim {
        Claim(monitors: (0..<count).map { ClaimedMonitor(monitor: Monitor(id: Int64($0), name: "", type: "port", target: "", intervalSeconds: 1, timeoutMilliseconds: 1), slot: 0) }, nextDue: nextDue)
    }

    @Test("after a partial claim the daemon next claims at the earliest due slot")
    func sleepsUntilNextDue() {
        var pipeline = Pipeline(configuration: configuration(), pending: [], now: now)
        pipeline.claimed(claim(2, nextDue: now + 700), limit: 10, now: now, tickMode: false)
        #expect(!pipeline.shouldClaim(now: now + 699))
        #expect(pipeline.shouldClaim(now: now + 700))
        #expect(pipeline.nextWake(now: now) == now + 700)
    }

    @Test("monitors due within the claim window are claimed together, one window after the last claim")
    func claimWindow() {
        var pipeline = Pipeline(configuration: configuration { $0.claimWindow = .milliseconds(20) }, pending: [], now: now)
        pipeline.claimed(claim(2, nextDue: now + 3), limit: 10, now: now, tickMode: false)
        #expect(pipeline.nextWake(now: now) == now + 20)
    }

    @Test("a claim in flight (a queue's long poll) allows no second claim, no claim-deadline wake, and keeps a stopped run open")
    func claimInFlight() {
        var pipeline = Pipeline(configuration: configuration { $0.claimUntil = now + 5_000 }, pending: [], now: now)
        #expect(pipeline.shouldClaim(now: now))
        pipeline.claimStarted()
        #expect(!pipeline.shouldClaim(now: now))
        #expect(pipeline.nextWake(now: now) == nil)
        pipeline.stopRequested()
        #expect(!pipeline.isFinished)
        pipeline.claimed(claim(1, nextDue: nil), limit: 10, now: now, tickMode: false)
        #expect(pipeline.inFlight == 1 && !pipeline.isFinished)
        var abandoned = Pipeline(configuration: configuration(), pending: [], now: now)
        abandoned.claimStarted()
        abandoned.stopRequested()
        abandoned.claimAbandoned()
        #expect(abandoned.isFinished)
    }

    @Test("with nothing enabled the daemon still looks again after the idle recheck")
    func idleRecheck() {
        var pipeline = Pipeline(configuration: configuration { $0.idleRecheck = .seconds(1) }, pending: [], now: now)
        pipeline.claimed(claim(0, nextDue: nil), limit: 10, now: now, tickMode: false)
        #expect(pipeline.nextWake(now: now) == now + 1000)
    }

    @Test("in poll mode claims happen on the fixed period, whatever is due in between")
    func pollMode() {
        var pipeline = Pipeline(configuration: configuration { $0.poll = .seconds(30) }, pending: [], now: now)
        pipeline.claimed(claim(1, nextDue: now + 1_000), limit: 10, now: now + 5, tickMode: false)
        #expect(pipeline.nextWake(now: now + 5) == now + 30_000)
        pipeline.claimed(claim(0, nextDue: now + 31_000), limit: 9, now: now + 30_002, tickMode: false)
        #expect(pipeline.nextWake(now: now + 30_002) == now + 60_000)
    }

    @Test("a full claim means more may be due: claim again once a tenth of the capacity is free, not slot by slot")
    func fullClaim() {
        var pipeline = Pipeline(configuration: configuration { $0.concurrency = 100; $0.claimBatch = 100 }, pending: [], now: now)
        pipeline.claimed(claim(100, nextDue: now), limit: 100, now: now, tickMode: true)
        #expect(!pipeline.shouldClaim(now: now))  // no room: 100 in flight
        for id in 1...9 { pipeline.checked(.sample(monitorID: Int64(id), slot: now), now: now) }
        #expect(!pipeline.shouldClaim(now: now))  // 9 free: not worth a transaction yet
        pipeline.checked(.sample(monitorID: 10, slot: now), now: now)
        #expect(pipeline.shouldClaim(now: now) && pipeline.claimLimit == 10)
    }

    @Test("results are committed when enough wait, or when the oldest has waited the flush delay")
    func commitTriggers() {
        var pipeline = Pipeline(configuration: configuration(), pending: [], now: now)
        pipeline.claimed(claim(5, nextDue: nil), limit: 10, now: now, tickMode: false)
        pipeline.checked(.sample(monitorID: 1, slot: now), now: now)
        #expect(pipeline.batchToCommit(now: now + 199) == nil)
        #expect(pipeline.batchToCommit(now: now + 200)?.count == 1)
        pipeline.committed([.sample(monitorID: 1, slot: now)])
        for id in 2...4 { pipeline.checked(.sample(monitorID: Int64(id), slot: now), now: now + 300) }
        #expect(pipeline.batchToCommit(now: now + 300)?.count == 3)
    }

    @Test("while the database refuses writes, results wait, claiming pauses at the bound, and retries back off")
    func backpressure() throws {
        var pipeline = Pipeline(configuration: configuration { $0.maxPending = 3 }, pending: [], now: now)
        pipeline.claimed(claim(4, nextDue: nil), limit: 10, now: now, tickMode: false)
        for id in 1...3 { pipeline.checked(.sample(monitorID: Int64(id), slot: now), now: now) }
        let next = pipeline.batchToCommit(now: now)
        let batch = try #require(next)
        pipeline.commitFailed(batch, error: StoreError(.busy, "locked"), now: now)
        #expect(!pipeline.shouldClaim(now: now + 60_000))  // 3 results wait: at the bound
        #expect(pipeline.batchToCommit(now: now + 1) == nil)  // backing off
        #expect(pipeline.batchToCommit(now: now + 500)?.count == 3)
        // The retry holds them: still at the bound while it waits for the database (which may take its whole timeout).
        #expect(!pipeline.shouldClaim(now: now + 60_000) && pipeline.pendingCount == 3)
    }

    @Test("cancelled, it claims no more and hands back the batch of an unanswered commit, then the waiting results")
    func cancelledHandsBack() throws {
        var pipeline = Pipeline(configuration: configuration(), pending: [], now: now)
        pipeline.claimed(claim(6, nextDue: nil), limit: 10, now: now, tickMode: false)
        for id in 1...3 { pipeline.checked(.sample(monitorID: Int64(id), slot: now), now: now) }
        let next = pipeline.batchToCommit(now: now)
        #expect(try #require(next).map(\.monitorID) == [1, 2, 3])  // in a commit that has not answered
        for id in 4...5 { pipeline.checked(.sample(monitorID: Int64(id), slot: now), now: now) }  // waiting; 1 in flight
        pipeline.cancelled()
        #expect(pipeline.report.unpersisted.map(\.monitorID) == [1, 2, 3, 4, 5])
        #expect(!pipeline.shouldClaim(now: now + 60_000) && pipeline.batchToCommit(now: now + 60_000) == nil)
        #expect(pipeline.nextWake(now: now) == nil)
    }

    @Test("a claim that handed monitors back claims again at once, in a tick too; a short claim ends a tick's claiming")
    func handedBack() {
        var tick = Pipeline(configuration: configuration { _ in }, pending: [], now: now)
        tick.claimStarted()
        tick.claimed(claim(2, nextDue: nil), limit: 10, now: now, tickMode: true, handedBack: true)
        #expect(tick.shouldClaim(now: now))
        tick.claimStarted()
        tick.claimed(claim(0, nextDue: nil), limit: 10, now: now, tickMode: true)
        #expect(!tick.shouldClaim(now: now + 1_000))
    }

    @Test("a tick gives up committing after the final attempts and hands the results back")
    func tickGivesUp() throws {
        var pipeline = Pipeline(configuration: configuration { $0.finalPersistAttempts = 2 }, pending: [], now: now)
        pipeline.claimed(claim(1, nextDue: nil), limit: 10, now: now, tickMode: true)
        pipeline.checked(.sample(monitorID: 1, slot: now), now: now)
        var time = now
        for _ in 0..<2 {
            let next = pipeline.batchToCommit(now: time)
            let batch = try #require(next)
            pipeline.commitFailed(batch, error: StoreError(.busy, "locked"), now: time)
            time += 60_000
        }
        #expect(pipeline.isFinished)
        #expect(pipeline.report.unpersisted.count == 1)
    }

    @Test("a stop ends claiming but not the commits of what is in flight")
    func stopDrains() throws {
        var pipeline = Pipeline(configuration: configuration(), pending: [], now: now)
        pipeline.claimed(claim(2, nextDue: nil), limit: 10, now: now, tickMode: false)
        pipeline.stopRequested()
        #expect(!pipeline.shouldClaim(now: now + 10_000) && !pipeline.isFinished)
        pipeline.checked(.sample(monitorID: 1, slot: now), now: now)
        pipeline.checked(.sample(monitorID: 2, slot: now), now: now)
        let next = pipeline.batchToCommit(now: now)
        let batch = try #require(next)
        #expect(batch.count == 2 && !pipeline.isFinished)
        pipeline.committed(batch)
        #expect(pipeline.isFinished && pipeline.report.persisted == 2)
    }
}

@Suite("What the engine says about a failing database")
struct OutageLogTests {
    @Test("one line when it starts failing, one when the failure changes kind, one when it works again; nothing per attempt")
    func oncePerOutage() {
        var log = OutageLog()
        let locked = StoreError(.busy, "database is locked"), gone = StoreError(.unavailable, "unable to open database file")
        #expect(log.succeeded(now: 0, committed: 3) == nil, "nothing to say while it works")
        let first = log.failed("claim", locked, now: 1_000, pending: 0)
        #expect(first == "the database is failing (busy): claim failed: database is locked; 0 results wait in memory and are retried")
        for attempt in 1...20 {
            #expect(log.failed(attempt % 2 == 0 ? "claim" : "committing 5 results", locked, now: 1_000 + Int64(attempt) * 500, pending: 5) == nil)
        }
        #expect(log.failed("claim", gone, now: 12_000, pending: 5)?.hasPrefix("the database is still failing, now (unavailable)") == true)
        #expect(log.failed("claim", locked, now: 12_500, pending: 5) == nil)
        #expect(log.since == 1_000 && log.failures == 23)
        #expect(log.succeeded(now: 31_050, committed: 5) == "the database works again after 30.0 s and 23 failed attempts; 5 results committed")
        #expect(log.succeeded(now: 32_000, committed: 1) == nil && log.since == nil)
        // The next outage is said again.
        #expect(log.failed("claim", locked, now: 40_000, pending: 0) != nil)
    }
}
