import Foundation
import Testing
import UptickCore
@testable import UptickStore
import UptickTestSupport

@Suite("Schema and migrations", .serialized)
struct SchemaTests {
    @Test("migrating twice applies nothing the second time and keeps the data", arguments: Backend.allCases)
    func idempotent(backend: Backend) async throws {
        let db = try await TemporaryDatabase.make(migrated: false, backend: backend)
        defer { db.remove() }
        #expect(try await db.store.migrate(now: 1) == Schema.migrations.map(\.version))
        _ = try await db.store.addMonitor(.port("127.0.0.1:9"), now: 1)
        #expect(try await db.store.migrate(now: 2) == [])
        #expect(try await db.database.scalar("SELECT count(*) FROM monitors") == 1)
        #expect(try await db.database.scalar("SELECT max(version) FROM schema_migrations") == Schema.latestVersion)
    }

    @Test("adding a column that is already there (a half-applied migration, a backend's own change) is skipped", arguments: Backend.sqliteFamily)
    func addColumnIdempotent(backend: Backend) async throws {
        let db = try await TemporaryDatabase.make(migrated: false, backend: backend)
        defer { db.remove() }
        try await db.store.migrate(now: 1)
        try await db.database.run("DELETE FROM schema_migrations WHERE version >= 2")
        #expect(try await db.store.migrate(now: 2) == [2, 3, 4, 5])
        #expect(try await db.database.scalar("SELECT count(*) FROM pragma_table_info('monitors') WHERE name = 'recent_verdicts'") == 1)
        #expect(try await db.database.scalar("SELECT count(*) FROM pragma_table_info('checks') WHERE name = 'details'") == 1)
    }

    @Test("an unmigrated database is refused with a clear error", arguments: Backend.allCases)
    func requiresSchema(backend: Backend) async throws {
        let db = try await TemporaryDatabase.make(migrated: false, backend: backend)
        defer { db.remove() }
        await #expect(throws: StoreError(.schema, "database schema is at version 0, this uptick needs \(Schema.latestVersion): run `uptick migrate`")) {
            try await db.store.requireSchema()
        }
    }

    @Test("a missing database is not created unless asked, and a file that is not a database is refused")
    func unusableFiles() async throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("uptick-\(UUID())")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let missing = directory.appendingPathComponent("missing.db").path
        #expect(throws: StoreError.self) { try SQLiteDatabase(path: missing, create: false) }
        #expect(!FileManager.default.fileExists(atPath: missing))

        let garbage = directory.appendingPathComponent("garbage.db").path
        try Data(repeating: 0x41, count: 4096).write(to: URL(fileURLWithPath: garbage))
        await #expect {
            let store = SQLStore(executor: try SQLiteDatabase(path: garbage, create: false))
            try await store.requireSchema()
        } throws: { error in
            (error as? StoreError)?.code == .unavailable
        }
    }

    @Test("the claim reads due monitors through the partial index, never a table scan", arguments: Backend.sqliteFamily)
    func claimUsesIndex(backend: Backend) async throws {
        let db = try await TemporaryDatabase.make(backend: backend)
        defer { db.remove() }
        let plan = try await db.database.execute([SQLStatement("EXPLAIN QUERY PLAN " + SQLStore.claim(.sqlite), [.integer(0), .integer(500), .integer(0)])], transaction: false)[0]
        let details = plan.rows.compactMap { $0.last?.text }
        #expect(details.contains { $0.contains("USING INDEX idx_monitors_due (next_check_at<?)") }, "plan: \(details)")
        #expect(!details.contains { $0.hasPrefix("SCAN monitors") }, "plan: \(details)")
    }

    @Test("the delivery claim reads each channel's lane through its partial index, never a scan of the outbox", arguments: Backend.sqliteFamily)
    func deliveryClaimUsesIndex(backend: Backend) async throws {
        let db = try await TemporaryDatabase.make(backend: backend)
        defer { db.remove() }
        let plan = try await db.database.execute([SQLStatement("EXPLAIN QUERY PLAN " + SQLDialect.sqlite.claimDeliveries,
                                                               [.integer(0), .integer(0), .integer(200), .integer(4), .text("[]")])],
                                                 transaction: false)[0]
        let details = plan.rows.compactMap { $0.last?.text }
        #expect(details.contains { $0.contains("USING INDEX idx_outbox_lane (channel_id=?)") }, "plan: \(details)")
        // The only scans: the channels, and the JSON arrays of ids.
        #expect(details.filter { $0.hasPrefix("SCAN") }.allSatisfy { $0.hasPrefix("SCAN c") || $0.contains("VIRTUAL TABLE") || $0.contains("subquery") },
                "plan: \(details)")
    }

    @Test("history reads a monitor's checks through the (monitor, slot) index", arguments: Backend.sqliteFamily)
    func historyUsesIndex(backend: Backend) async throws {
        let db = try await TemporaryDatabase.make(backend: backend)
        defer { db.remove() }
        let sql = "EXPLAIN QUERY PLAN SELECT * FROM checks WHERE monitor_id = ? ORDER BY scheduled_at DESC LIMIT 20"
        let details = try await db.database.execute([SQLStatement(sql, [.integer(1)])], transaction: false)[0].rows.compactMap { $0.last?.text }
        #expect(details.contains { $0.contains("idx_checks_monitor_slot") }, "plan: \(details)")
        #expect(!details.contains { $0.contains("TEMP B-TREE") }, "plan: \(details)")
    }
}
