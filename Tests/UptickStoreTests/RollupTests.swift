import Testing
import UptickCore
@testable import UptickStore
import UptickTestSupport

@Suite("Rollups", .serialized)
struct RollupTests {
    /// A UTC midnight.
    let day: EpochMilliseconds = 1_764_460_800_000
    let hour: EpochMilliseconds = 3_600_000

    func outcome(_ id: Int64, at slot: EpochMilliseconds, _ status: CheckStatus = .up, micros: Int64 = 30) -> CheckOutcome {
        var outcome = CheckOutcome.sample(monitorID: id, slot: slot, status: status)
        outcome.result.durationMicroseconds = micros
        return outcome
    }

    @Test("a persist adds its checks to their hour and day, by verdict, with their durations", arguments: Backend.allCases)
    func incremental(backend: Backend) async throws {
        let db = try await TemporaryDatabase.make(backend: backend)
        defer { db.remove() }
        let ids = try await db.store.addDueMonitors(2, dueAt: day)
        try await db.store.persist([outcome(ids[0], at: day + 1000, micros: 2_000), outcome(ids[0], at: day + 2000, .down, micros: 9_000),
                                    outcome(ids[1], at: day + 1000, .degraded, micros: 500)])
        try await db.store.persist([outcome(ids[0], at: day + hour + 5, .degraded, micros: 12_000_000)])
        let hours = try await db.store.rollups(monitorID: ids[0], resolution: .hourly, from: day, until: day + 86_400_000, limit: 100)
        #expect(hours.map(\.periodStart) == [day, day + hour])
        #expect((hours[0].up, hours[0].degraded, hours[0].down) == (1, 0, 1))
        #expect(hours[0].durationSumMicroseconds == 11_000 && hours[0].latency.maximum == 9_000)
        #expect(hours[0].latency.counts[LatencyHistogram.bucket(2_000)] == 1 && hours[0].latency.counts[LatencyHistogram.bucket(9_000)] == 1)
        #expect(hours[1].latency.counts[LatencyHistogram.bucketCount - 1] == 1)  // above the last bound
        let days = try await db.store.rollups(monitorIDs: ids, resolution: .daily, from: day)
        #expect(days[ids[0]]?.map(\.checks) == [3] && days[ids[0]]?.first?.uptime == 2.0 / 3.0)
        #expect(days[ids[0]]?.first?.latency.maximum == 12_000_000)
        #expect(days[ids[1]]?.first?.degraded == 1 && days[ids[1]]?.first?.checks == 1)
    }

    @Test("a batch persisted twice, or holding the same slot twice, counts each check once", arguments: Backend.allCases)
    func idempotent(backend: Backend) async throws {
        let db = try await TemporaryDatabase.make(backend: backend)
        defer { db.remove() }
        let id = try await db.store.addDueMonitors(1, dueAt: day)[0]
        let batch = [outcome(id, at: day), outcome(id, at: day, .down), outcome(id, at: day + 1000)]
        try await db.store.persist(batch)
        try await db.store.persist(batch)
        try await db.store.persist(Array(batch.suffix(1)) + [outcome(id, at: day + 2000, .down)])
        #expect(try await db.database.scalar("SELECT count(*) FROM checks") == 3)
        let rollup = try #require(try await db.store.rollups(monitorIDs: [id], resolution: .hourly, from: day)[id]?.first)
        #expect((rollup.up, rollup.down) == (2, 1))  // the first of the duplicated slot, as `checks` keeps it
    }

    @Test("more checks than a statement holds are all counted, across chunks", arguments: Backend.allCases)
    func chunks(backend: Backend) async throws {
        let db = try await TemporaryDatabase.make(backend: backend)
        defer { db.remove() }
        let ids = try await db.store.addDueMonitors(3, dueAt: day)
        let outcomes = (0..<1_234).map { outcome(ids[$0 % 3], at: day + Int64($0) * 10_000, $0 % 4 == 0 ? .down : .up) }
        try await db.store.persist(outcomes)
        #expect(try await db.database.scalar("SELECT sum(up + degraded + down) FROM rollups WHERE period_ms = 3600000") == 1_234)
        #expect(try await db.database.scalar("SELECT sum(down) FROM rollups WHERE period_ms = 86400000") == Int64((0..<1_234).filter { $0 % 4 == 0 }.count))
    }

    @Test("migrating a database that has checks backfills its rollups from them", arguments: Backend.allCases)
    func backfill(backend: Backend) async throws {
        let db = try await TemporaryDatabase.make(backend: backend)
        defer { db.remove() }
        let ids = try await db.store.addDueMonitors(2, dueAt: day)
        try await db.store.persist([outcome(ids[0], at: day, micros: 1_200), outcome(ids[0], at: day + 3 * hour, .down),
                                    outcome(ids[1], at: day + 86_400_000 + 7, .degraded)])
        let expected = try await db.database.execute([SQLStatement("SELECT * FROM rollups ORDER BY monitor_id, period_ms, period_start")],
                                                     transaction: false)[0].rows
        // As a database from before rollups: the table gone, the migration not applied.
        try await db.database.run("DROP TABLE rollups")
        try await db.database.run("DELETE FROM schema_migrations WHERE version = 5")
        #expect(try await db.store.migrate(now: day) == [5])
        let rebuilt = try await db.database.execute([SQLStatement("SELECT * FROM rollups ORDER BY monitor_id, period_ms, period_start")],
                                                    transaction: false)[0].rows
        #expect(rebuilt.count == 5 && rebuilt == expected)  // 3 hours, 2 days
        // Applied again by hand: the periods already there are not counted twice.
        try await db.database.run("DELETE FROM schema_migrations WHERE version = 5")
        #expect(try await db.store.migrate(now: day) == [5])
        #expect(try await db.database.execute([SQLStatement("SELECT * FROM rollups ORDER BY monitor_id, period_ms, period_start")],
                                              transaction: false)[0].rows == expected)
    }

    @Test("retention deletes each resolution's old periods and keeps the rest", arguments: Backend.allCases)
    func prune(backend: Backend) async throws {
        let db = try await TemporaryDatabase.make(backend: backend)
        defer { db.remove() }
        let id = try await db.store.addDueMonitors(1, dueAt: day)[0]
        try await db.store.persist((0..<5).map { outcome(id, at: day + Int64($0) * 86_400_000) })
        #expect(try await db.store.pruneRollups(.hourly, before: day + 3 * 86_400_000, limit: 2) == 2)
        #expect(try await db.store.pruneRollups(.hourly, before: day + 3 * 86_400_000, limit: 2) == 1)
        #expect(try await db.database.scalar("SELECT count(*) FROM rollups WHERE period_ms = 3600000") == 2)
        #expect(try await db.database.scalar("SELECT count(*) FROM rollups WHERE period_ms = 86400000") == 5)
    }

    @Test("public monitors are found through their own index; malformed settings are simply not public", arguments: Backend.sqliteFamily)
    func publicIndex(backend: Backend) async throws {
        let db = try await TemporaryDatabase.make(backend: backend)
        defer { db.remove() }
        for settings in [#"{"public":true}"#, #"{"public":false}"#, "{}", "not json", #"{"public":"yes"}"#] {
            try await db.database.run("INSERT INTO monitors (name, type, target, settings) VALUES ('m', 'port', 'h:1', ?)", [.text(settings)])
        }
        let sql = "SELECT id FROM monitors WHERE \(SQLDialect.sqlite.publicMonitor) ORDER BY id"
        #expect(try await db.database.execute([SQLStatement(sql)], transaction: false)[0].rows.count == 1)
        let plan = try await db.database.execute([SQLStatement("EXPLAIN QUERY PLAN " + sql)], transaction: false)[0].rows.compactMap { $0.last?.text }
        #expect(plan.contains { $0.contains("idx_monitors_public") }, "plan: \(plan)")
    }

    @Test("the persist's rollup statement probes checks through the (monitor, slot) index; windows read by period", arguments: Backend.sqliteFamily)
    func plans(backend: Backend) async throws {
        let db = try await TemporaryDatabase.make(backend: backend)
        defer { db.remove() }
        let statement = SQLStore.rollupStatements([outcome(1, at: day)], .sqlite)[0]
        let plan = try await db.database.execute([SQLStatement("EXPLAIN QUERY PLAN " + statement.sql, statement.arguments)],
                                                 transaction: false)[0].rows.compactMap { $0.last?.text }
        #expect(plan.contains { $0.contains("idx_checks_monitor_slot") }, "plan: \(plan)")
        #expect(!plan.contains { $0.hasPrefix("SCAN checks") || $0.hasPrefix("SCAN c ") || $0 == "SCAN c" }, "plan: \(plan)")
        let window = "EXPLAIN QUERY PLAN \(SQLStore.rollupSelect) WHERE period_ms = ? AND period_start >= ?"
        let windowPlan = try await db.database.execute([SQLStatement(window, [.integer(hour), .integer(day)])], transaction: false)[0]
            .rows.compactMap { $0.last?.text }
        #expect(windowPlan.contains { $0.contains("idx_rollups_period") }, "plan: \(windowPlan)")
    }
}
