import Testing
import UptickCore
@testable import UptickStore
import UptickTestSupport

@Suite("Persisting results", .serialized)
struct PersistTests {
    let now: EpochMilliseconds = 1_764_460_800_000

    @Test("one batch writes every check row and every monitor's new state, across statement chunks", arguments: Backend.allCases)
    func batch(backend: Backend) async throws {
        let db = try await TemporaryDatabase.make(backend: backend)
        defer { db.remove() }
        let ids = try await db.store.addDueMonitors(1_234, dueAt: now)
        _ = try await db.store.claimDue(now: now, limit: 2_000, leaseGrace: .seconds(60))
        let outcomes = ids.map { CheckOutcome.sample(monitorID: $0, slot: now, status: $0 % 3 == 0 ? .down : .up) }
        try await db.store.persist(outcomes)
        #expect(try await db.database.scalar("SELECT count(*) FROM checks") == 1_234)
        #expect(try await db.database.scalar("SELECT count(*) FROM monitors WHERE lease_until IS NOT NULL") == 0)
        #expect(try await db.database.scalar("SELECT count(*) FROM monitors WHERE status = 'down'") == Int64(ids.filter { $0 % 3 == 0 }.count))
        #expect(try await db.database.scalar("SELECT count(*) FROM monitors WHERE last_checked_at = ?", [.integer(now + 1)]) == 1_234)
        let history = try await db.store.history(monitorID: ids[0], limit: 5)
        #expect(history.count == 1)
        #expect(history[0].result == outcomes[0].result)
    }

    @Test("details are stored as JSON and read back; results without details store NULL", arguments: Backend.allCases)
    func details(backend: Backend) async throws {
        let db = try await TemporaryDatabase.make(backend: backend)
        defer { db.remove() }
        let ids = try await db.store.addDueMonitors(2, dueAt: now)
        var withDetails = CheckOutcome.sample(monitorID: ids[0], slot: now)
        withDetails.result.details = CheckDetails(redirects: ["http://a.example/", "https://b.example/x"])
        try await db.store.persist([withDetails, .sample(monitorID: ids[1], slot: now)])
        #expect(try await db.store.history(monitorID: ids[0], limit: 1).first?.result.details == withDetails.result.details)
        #expect(try await db.database.scalar("SELECT count(*) FROM checks WHERE details IS NULL") == 1)
    }

    @Test("persisting the same results twice writes them once", arguments: Backend.allCases)
    func idempotent(backend: Backend) async throws {
        let db = try await TemporaryDatabase.make(backend: backend)
        defer { db.remove() }
        let ids = try await db.store.addDueMonitors(3, dueAt: now)
        let outcomes = ids.map { CheckOutcome.sample(monitorID: $0, slot: now) }
        try await db.store.persist(outcomes)
        try await db.store.persist(outcomes)
        #expect(try await db.database.scalar("SELECT count(*) FROM checks") == 3)
    }

    @Test("a late result is recorded but does not overwrite a newer state", arguments: Backend.allCases)
    func staleResult(backend: Backend) async throws {
        let db = try await TemporaryDatabase.make(backend: backend)
        defer { db.remove() }
        let id = try await db.store.addDueMonitors(1, dueAt: now)[0]
        try await db.store.persist([.sample(monitorID: id, slot: now + 30_000, status: .up)])
        try await db.store.persist([.sample(monitorID: id, slot: now, status: .down)])
        #expect(try await db.database.scalar("SELECT count(*) FROM checks") == 2)
        #expect(try await db.store.monitor(id: id).status == .up)
    }

    @Test("a writer waits for another writer's lock to go, within the busy timeout", arguments: Backend.sqliteFamily)
    func waitsForLock(backend: Backend) async throws {
        let db = try await TemporaryDatabase.make(backend: backend)
        defer { db.remove() }
        let id = try await db.store.addDueMonitors(1, dueAt: now)[0]
        let lock = try WriteLock(path: db.path)
        let writer = try await db.secondConnection(busyTimeout: .seconds(10))
        let started = ContinuousClock.now
        async let write: Void = writer.persist([.sample(monitorID: id, slot: now)])
        // The lock is held for a while, then released; the writer must have waited for it, not failed.
        try await Task.sleep(for: .milliseconds(200))
        lock.release()
        try await write
        #expect(ContinuousClock.now - started >= .milliseconds(200))
        #expect(try await db.database.scalar("SELECT count(*) FROM checks") == 1)
    }

    @Test("a lock held past the busy timeout fails with a clear 'busy' error and writes nothing", arguments: Backend.sqliteFamily)
    func lockTimeout(backend: Backend) async throws {
        let db = try await TemporaryDatabase.make(backend: backend)
        defer { db.remove() }
        let id = try await db.store.addDueMonitors(1, dueAt: now)[0]
        let lock = try WriteLock(path: db.path)
        let writer = try await db.secondConnection(busyTimeout: .milliseconds(100))
        await #expect {
            try await writer.persist([.sample(monitorID: id, slot: now)])
        } throws: { error in
            (error as? StoreError)?.code == .busy && "\(error)".contains("locked")
        }
        lock.release()
        #expect(try await db.database.scalar("SELECT count(*) FROM checks") == 0)
    }

    @Test("pruning deletes only checks older than the cutoff, in batches", arguments: Backend.allCases)
    func prune(backend: Backend) async throws {
        let db = try await TemporaryDatabase.make(backend: backend)
        defer { db.remove() }
        let id = try await db.store.addDueMonitors(1, dueAt: now)[0]
        let outcomes = (0..<25).map { CheckOutcome.sample(monitorID: id, slot: now + Int64($0) * 1000) }
        try await db.store.persist(outcomes)
        #expect(try await db.store.pruneChecks(startedBefore: now + 20_000, limit: 7) == 7)
        #expect(try await db.store.pruneChecks(startedBefore: now + 20_000, limit: 7) == 7)
        #expect(try await db.store.pruneChecks(startedBefore: now + 20_000, limit: 7) == 6)
        #expect(try await db.store.pruneChecks(startedBefore: now + 20_000, limit: 7) == 0)
        #expect(try await db.database.scalar("SELECT min(started_at) FROM checks") == now + 20_001)
    }
}
