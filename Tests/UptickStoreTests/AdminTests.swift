import Testing
import UptickCore
import UptickStore
import UptickTestSupport

@Suite("Managing monitors", .serialized)
struct AdminTests {
    let now: EpochMilliseconds = 1_764_460_800_000

    @Test("an import creates, then changes nothing, then updates only what differs", arguments: Backend.allCases)
    func upsertIsIdempotent(backend: Backend) async throws {
        let db = try await TemporaryDatabase.make(backend: backend)
        defer { db.remove() }
        let drafts = [MonitorDraft.port("a.example:1", key: "a"), .http("http://b.example/", key: "b")]
        #expect(try await db.store.upsert(drafts, now: now).created == ["a", "b"])
        let again = try await db.store.upsert(drafts, now: now)
        #expect(again.unchanged == ["a", "b"] && again.created.isEmpty && again.updated.isEmpty)
        var changed = drafts
        changed[1].intervalSeconds = 60
        let third = try await db.store.upsert(changed, now: now)
        #expect(third.updated == ["b"] && third.unchanged == ["a"])
        #expect(try await db.store.monitors().count == 2)
    }

    @Test("a new target starts afresh: pending status, cleared counters, a new slot", arguments: Backend.allCases)
    func retargetResets(backend: Backend) async throws {
        let db = try await TemporaryDatabase.make(backend: backend)
        defer { db.remove() }
        _ = try await db.store.upsert([.port("a.example:1", key: "a")], now: now)
        try await db.database.run("UPDATE monitors SET status = 'down', consecutive_failures = 4, next_check_at = 5")
        _ = try await db.store.upsert([.port("a.example:2", key: "a")], now: now)
        let monitor = try await db.store.monitors()[0]
        #expect(monitor.status == .pending && monitor.state.consecutiveFailures == 0 && monitor.nextCheckAt == nil)
    }

    @Test("an import without unique keys is refused before anything is written", arguments: Backend.allCases)
    func keysRequired(backend: Backend) async throws {
        let db = try await TemporaryDatabase.make(backend: backend)
        defer { db.remove() }
        await #expect(throws: StoreError.self) { try await db.store.upsert([.port("a:1", key: "x"), .port("b:1", key: "x")], now: now) }
        await #expect(throws: StoreError.self) { try await db.store.upsert([.port("a:1")], now: now) }
        #expect(try await db.store.monitors().isEmpty)
    }

    @Test("disable keeps the history; enable starts the monitor afresh", arguments: Backend.allCases)
    func enableDisable(backend: Backend) async throws {
        let db = try await TemporaryDatabase.make(backend: backend)
        defer { db.remove() }
        let id = try await db.store.addDueMonitors(1, dueAt: now)[0]
        try await db.store.persist([.sample(monitorID: id, slot: now, status: .down)])
        try await db.store.setEnabled(id: id, false, now: now)
        #expect(try await db.store.claimDue(now: now + 60_000, limit: 10, leaseGrace: .seconds(1)).monitors.isEmpty)
        try await db.store.setEnabled(id: id, true, now: now)
        let monitor = try await db.store.monitor(id: id)
        #expect(monitor.enabled && monitor.status == .pending && monitor.nextCheckAt == nil)
        #expect(try await db.store.history(monitorID: id, limit: 10).count == 1)
        await #expect(throws: StoreError.self) { try await db.store.setEnabled(id: 999, true, now: now) }
    }

    @Test("remove deletes the monitor and its history; an unknown id is 'not found'", arguments: Backend.allCases)
    func remove(backend: Backend) async throws {
        let db = try await TemporaryDatabase.make(backend: backend)
        defer { db.remove() }
        let id = try await db.store.addDueMonitors(1, dueAt: now)[0]
        try await db.store.persist([.sample(monitorID: id, slot: now)])
        try await db.store.removeMonitor(id: id)
        #expect(try await db.database.scalar("SELECT count(*) FROM checks") == 0)
        #expect(try await db.database.scalar("SELECT count(*) FROM rollups") == 0)
        await #expect(throws: StoreError(.notFound, "no monitor with id \(id)")) { try await db.store.removeMonitor(id: id) }
    }

    @Test("the summary gives the latest latency and the share of checks not down over the window", arguments: Backend.allCases)
    func summaries(backend: Backend) async throws {
        let db = try await TemporaryDatabase.make(backend: backend)
        defer { db.remove() }
        let id = try await db.store.addDueMonitors(1, dueAt: now)[0]
        let statuses: [CheckStatus] = [.up, .down, .up, .degraded]
        try await db.store.persist(statuses.enumerated().map { .sample(monitorID: id, slot: now + Int64($0.offset) * 1000, status: $0.element) })
        try await db.store.persist([.sample(monitorID: id, slot: now - 100_000, status: .down)])  // outside the window
        let summary = try await db.store.summaries(since: now)[0]
        #expect(summary.uptime == 0.75 && summary.checksInWindow == 4 && summary.lastDurationMicroseconds == 30)
        #expect(summary.hours.map(\.periodStart) == [now])
    }
}
