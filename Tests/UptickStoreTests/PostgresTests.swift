import Foundation
import Synchronization
import Testing
import UptickCore
@testable import UptickPostgres
@testable import UptickStore
import UptickTargets
import UptickTestSupport

/// What only PostgreSQL has: its URL, its placeholders and arrays, its plans, its round trips, its faults, TLS. The
/// store's behaviour on PostgreSQL is the shared suite's (`Backend.postgres`); these tests use the real server too.
@Suite("PostgreSQL")
struct PostgresTests {
    let now: EpochMilliseconds = 1_700_000_000_000

    // MARK: Pure

    @Test("URLs: postgres:// and postgresql://, the password from the URL or PGPASSWORD, libpq's sslmode, clear refusals")
    func urls() throws {
        let full = try PostgresLocation(url: "postgres://ada:s%40cret@db.example:6543/fleet?sslmode=verify-full&sslrootcert=/etc/ca.pem")
        #expect(full.host == "db.example" && full.port == 6543 && full.user == "ada" && full.password == "s@cret")
        #expect(full.database == "fleet" && full.sslMode == .verifyFull && full.rootCertificate == "/etc/ca.pem")
        let environment = try PostgresLocation(url: "postgresql://ada@[::1]/fleet", environment: ["PGPASSWORD": "from-env"])
        #expect(environment.password == "from-env" && environment.port == 5432 && environment.host == "::1" && environment.sslMode == .prefer)
        #expect(environment.endpoint == "[::1]:5432")
        for bad in ["postgres://db.example/fleet", "postgres://ada@db.example", "postgres://ada@db.example/fleet?sslmode=maybe",
                    "postgres://ada@db.example/fleet?host=other", "mysql://ada@db/x"] {
            #expect(throws: StoreError.self) { try PostgresLocation(url: bad) }
        }
        #expect(PostgresLocation.redacted("postgres://ada:s3cret@db/x") == "postgres://ada:***@db/x")
        #expect(PostgresLocation.handles("postgresql://x") && !PostgresLocation.handles("./uptick.db") && !PostgresLocation.handles("libsql://x"))
        let bounded = try PostgresDatabase(url: "postgres://ada@db.example/fleet?pool_max=12&statement_timeout=2500&sslmode=disable")
        #expect(bounded.bounds.maximumConnections == 12 && bounded.bounds.statementTimeout == .milliseconds(2500))
        #expect(bounded.location.sslMode == .disable)
        #expect(throws: StoreError.self) { try PostgresDatabase(url: "postgres://ada@db.example/fleet?pool_max=0") }
    }

    @Test("placeholders: ? and ?N become $N as SQLite numbers them, never inside quotes, names, dollar quotes or comments")
    func placeholders() {
        #expect(PostgresDatabase.numbered("SELECT ?, ?, ?1 WHERE a = ?3 AND b = ?") == "SELECT $1, $2, $1 WHERE a = $3 AND b = $4")
        #expect(PostgresDatabase.numbered("SELECT '?', \"a?\", $$ ? $$, $tag$ ?1 $tag$ -- ?\n, ? /* ? */") == "SELECT '?', \"a?\", $$ ? $$, $tag$ ?1 $tag$ -- ?\n, $1 /* ? */")
        #expect(PostgresDatabase.numbered("SELECT $1::text, 'it''s ?'") == "SELECT $1::text, 'it''s ?'")
    }

    @Test("array literals quote every text element, escape quotes and backslashes, and keep NULLs bare")
    func arrayLiterals() {
        #expect(SQLDialect.arrayLiteral([.integer(1), .null, .integer(-3)]) == "{1,NULL,-3}")
        #expect(SQLDialect.arrayLiteral([.text(#"a"b\c"#), .text("NULL"), .text(""), .null]) == #"{"a\"b\\c","NULL","",NULL}"#)
        #expect(SQLDialect.arrayLiteral([.text("nul\u{0}byte")]) == "{\"nul\u{FFFD}byte\"}")
    }

    @Test("a claim is one statement, and a persist the same few statements, whatever the batch and its alerts")
    func constantRoundTrips() throws {
        #expect(SQLStore.persistStatements((0..<10).map { .sample(monitorID: $0, slot: now) }, .postgres).count == 2)
        #expect(SQLStore.persistStatements((0..<20_000).map { .sample(monitorID: $0, slot: now) }, .postgres).count == 2)
        // Every outcome a transition with its incident and its event: still four (opened, events, checks, states).
        let alerting = (1...2_000).map { id in
            var monitor = Monitor(id: Int64(id), key: nil, name: "m", type: "port", target: "127.0.0.1:9", intervalSeconds: 30,
                                  timeoutMilliseconds: 1000, settings: "{}", enabled: true, lastCheckedAt: nil, nextCheckAt: now, state: MonitorState())
            monitor.state.notifiedStatus = .up
            monitor.status = .up
            let result = CheckResult.down(.refused, "refused", durationMicroseconds: 5)
            let decision = monitor.state.applying(result, at: now + 1, policy: .immediate)
            return CheckOutcome(monitorID: monitor.id, monitorName: monitor.name, scheduledAt: now, startedAt: now + 1, result: result,
                                runner: "test", state: decision.state, transition: decision.transition,
                                alerts: decision.effects(monitor: monitor, slot: now, startedAt: now + 1, result: result))
        }
        #expect(alerting.allSatisfy { $0.alerts?.events.isEmpty == false && $0.alerts?.incident != nil })
        #expect(SQLStore.persistStatements(alerting, .postgres).count == 4)
        #expect(SQLStore.persistStatements(alerting, .sqlite).count > 4_000)
    }

    // MARK: On the server

    /// The store on a new database, and the executor it uses, counting what it is asked to run.
    func counted() async throws -> (TemporaryDatabase, SQLStore, Counter) {
        let db = try await TemporaryDatabase.make(backend: .postgres)
        let counter = Counter(next: db.database)
        return (db, SQLStore(executor: counter, dialect: .postgres), counter)
    }

    @Test("on the server: one request per claim and per persist of 5 000 results, each statement one round trip")
    func roundTrips() async throws {
        let (db, store, counter) = try await counted()
        defer { db.remove() }
        _ = try await db.store.addDueMonitors(5_000, dueAt: now)
        counter.reset()
        let claim = try await store.claimDue(now: now, limit: 5_000, leaseGrace: .seconds(60))
        #expect(claim.monitors.count == 5_000)
        #expect(counter.value == Counter.Value(requests: 1, statements: 1))
        counter.reset()
        try await store.persist(claim.monitors.map { .sample(monitorID: $0.monitor.id, slot: $0.slot) })
        #expect(counter.value == Counter.Value(requests: 1, statements: 2))
        #expect(try await db.database.scalar("SELECT count(*) FROM checks") == 5_000)
        #expect(try await db.database.scalar("SELECT sum(up) FROM rollups WHERE period_ms = 3600000") == 5_000)
        #expect(try await db.database.scalar("SELECT count(*) FROM monitors WHERE lease_until IS NOT NULL") == 0)
    }

    @Test("text survives the arrays: quotes, backslashes, braces, commas, unicode; a NUL byte is replaced, not fatal")
    func awkwardText() async throws {
        let db = try await TemporaryDatabase.make(backend: .postgres)
        defer { db.remove() }
        let id = try await db.store.addDueMonitors(1, dueAt: now)[0]
        let message = #"a "quoted", {braced} \back\slash, NULL, ünïcødé 🚀"# + "\u{0}end"
        var outcome = CheckOutcome.sample(monitorID: id, slot: now, status: .down)
        outcome.result.message = message
        try await db.store.persist([outcome])
        let stored = try await db.store.history(monitorID: id, limit: 1).first?.result.message
        #expect(stored == message.replacingOccurrences(of: "\u{0}", with: "\u{FFFD}"))
    }

    /// `EXPLAIN`'s lines for `statement` on `db`, after the tables hold enough rows for the planner to care.
    func plan(_ statement: SQLStatement, on db: TemporaryDatabase) async throws -> String {
        try await db.database.execute([SQLStatement("EXPLAIN " + statement.sql, statement.arguments)], transaction: false)[0]
            .rows.compactMap { $0.first?.text }.joined(separator: "\n")
    }

    func seeded() async throws -> TemporaryDatabase {
        let db = try await TemporaryDatabase.make(backend: .postgres)
        try await db.database.run("""
            INSERT INTO monitors (key, name, type, target, settings, next_check_at)
            SELECT 'k' || g, 'm' || g, 'port', '127.0.0.1:9', CASE WHEN g % 100 = 0 THEN '{"public":true}' ELSE '{}' END, \(now) + g * 10
            FROM generate_series(1, 20000) g
            """)
        try await db.database.run("""
            INSERT INTO checks (monitor_id, scheduled_at, started_at, duration_us, status, runner)
            SELECT g % 20000 + 1, \(now) + g * 1000, \(now) + g * 1000, 1000, 'up', 't' FROM generate_series(1, 100000) g
            """)
        try await db.database.run("""
            INSERT INTO rollups (monitor_id, period_ms, period_start, up, degraded, down, duration_sum_us, duration_max_us, \(SQLStore.bucketColumnNames.joined(separator: ", ")))
            SELECT g % 20000 + 1, 3600000, (g / 20000) * 3600000, 1, 0, 0, 1, 1, \(SQLStore.bucketColumnNames.map { _ in "0" }.joined(separator: ", "))
            FROM generate_series(1, 100000) g
            """)
        try await db.database.run("INSERT INTO channels (name, type) SELECT 'c' || g, 'webhook' FROM generate_series(1, 20) g")
        try await db.database.run("""
            INSERT INTO outbox (event_id, monitor_id, kind, payload, channel_id, created_at, next_attempt_at, delivered_at)
            SELECT 'e' || g, g % 20000 + 1, 'down', '{}', g % 20 + 1, 0, 0, CASE WHEN g % 50 = 0 THEN NULL ELSE 1 END FROM generate_series(1, 100000) g
            """)
        for table in ["monitors", "checks", "rollups", "channels", "outbox"] {
            _ = try await db.database.execute([SQLStatement("ANALYZE \(table)")], transaction: false)
        }
        return db
    }

    @Test("plans: the claim, the deliveries' lanes, history, rollup windows and public monitors read their indexes")
    func plans() async throws {
        let db = try await seeded()
        defer { db.remove() }
        let claim = try await plan(SQLStatement(SQLStore.postgresClaim, [.integer(now + 5_000), .integer(500), .integer(0), .integer(0)]), on: db)
        #expect(claim.contains("idx_monitors_due"), "\(claim)")
        #expect(claim.contains("LockRows"), "\(claim)")
        let lanes = try await plan(SQLStatement(SQLDialect.postgres.claimDeliveries, [.integer(now), .integer(now), .integer(200), .integer(4), .text("[]")]),
                                   on: db)
        #expect(lanes.contains("idx_outbox_lane"), "\(lanes)")
        #expect(!lanes.contains("Seq Scan on outbox"), "\(lanes)")
        let history = try await plan(SQLStatement("SELECT * FROM checks WHERE monitor_id = ? AND scheduled_at < ? ORDER BY scheduled_at DESC LIMIT 20",
                                                  [.integer(7), .integer(.max)]), on: db)
        #expect(history.contains("idx_checks_monitor_slot") && !history.contains("Seq Scan"), "\(history)")
        let window = try await plan(SQLStatement("\(SQLStore.rollupSelect) WHERE period_ms = ? AND period_start >= ?",
                                                 [.integer(3_600_000), .integer(4 * 3_600_000)]), on: db)
        #expect(window.contains("idx_rollups_period"), "\(window)")
        let board = try await plan(SQLStatement("SELECT id FROM monitors WHERE \(SQLDialect.postgres.publicMonitor) ORDER BY id LIMIT 50"), on: db)
        #expect(board.contains("idx_monitors_public"), "\(board)")
        // A small batch's states find their monitors by key. (For a batch that is a large share of the table the planner
        // rightly prefers a hash join over one scan; that is its cost model, not a missing index.)
        let outcomes = (1...20).map { CheckOutcome.sample(monitorID: Int64($0), slot: now + 500_000_000) }
        let statements = SQLStore.persistStatements(outcomes, .postgres)
        let state = try await plan(statements[1], on: db)
        #expect(state.contains("monitors_pkey") && !state.contains("Seq Scan on monitors"), "\(state)")
    }

    @Test("public monitors: uptick_public reads true (and 1) only; malformed, non-object and other settings are not public")
    func publicFunction() async throws {
        let db = try await TemporaryDatabase.make(backend: .postgres)
        defer { db.remove() }
        for settings in [#"{"public":true}"#, #"{"public":1}"#, #"{"public":false}"#, "{}", "not json", #"{"public":"yes"}"#, "[1]", "null"] {
            try await db.database.run("INSERT INTO monitors (name, type, target, settings) VALUES ('m', 'port', 'h:1', ?)", [.text(settings)])
        }
        #expect(try await db.database.scalar("SELECT count(*) FROM monitors WHERE \(SQLDialect.postgres.publicMonitor)") == 2)
    }

    // MARK: Faults

    @Test("unreachable, wrong password, missing database: one clear line each, at once")
    func unreachable() async throws {
        let server = try await PostgresServer.shared()
        let closed = try LoopbackServer.freePort()
        let started = ContinuousClock.now
        await #expect(throws: StoreError(.unavailable, "cannot connect to PostgreSQL at 127.0.0.1:\(closed): connection refused")) {
            try await PostgresDatabase(url: "postgres://uptick@127.0.0.1:\(closed)/x?sslmode=disable").probe(writable: true)
        }
        // Refused, not waited out: the message says so, and it comes before the 5 s connect timeout (3 s was too tight
        // once with the whole suite starting on two cores: 3.95 s).
        #expect(ContinuousClock.now - started < .seconds(5))
        await #expect(throws: StoreError(.unavailable, "PostgreSQL at 127.0.0.1:\(server.port) refused the login: password authentication failed for user \"uptick\"")) {
            try await PostgresDatabase(url: "postgres://uptick:wrong@127.0.0.1:\(server.port)/postgres?sslmode=disable").probe(writable: false)
        }
        await #expect(throws: StoreError(.unavailable, "PostgreSQL at 127.0.0.1:\(server.port): database \"absent\" does not exist (create it first)")) {
            try await PostgresDatabase(url: server.url(database: "absent")).probe(writable: false)
        }
    }

    @Test("a read-only server (a standby's face) is refused to a runner before it starts, and a write says why")
    func readOnly() async throws {
        let server = try await PostgresServer.start(readOnly: true)
        defer { server.stop() }
        let database = try PostgresDatabase(url: server.url())
        try await database.probe(writable: false)
        await #expect {
            try await database.probe(writable: true)
        } throws: { error in
            (error as? StoreError)?.code == .unavailable && "\(error)".contains("read-only") && "\(error)".contains("primary")
        }
        await #expect {
            try await SQLStore(executor: database, dialect: .postgres).migrate(now: 0)
        } throws: { error in
            (error as? StoreError)?.code == .unavailable && "\(error)".contains("read-only")
        }
    }

    @Test("the statement timeout is set on every session: a statement past it is cancelled with a 'busy' error")
    func statementTimeout() async throws {
        let server = try await PostgresServer.shared()
        let database = try PostgresDatabase(url: server.url(query: "sslmode=disable&statement_timeout=300"))
        #expect(try await database.scalar("SELECT setting::bigint FROM pg_settings WHERE name = 'statement_timeout'") == 300)
        let started = ContinuousClock.now
        await #expect {
            try await database.execute([SQLStatement("SELECT pg_sleep(5)")], transaction: false)
        } throws: { error in
            (error as? StoreError)?.code == .busy && "\(error)".contains("statement_timeout")
        }
        #expect(ContinuousClock.now - started < .seconds(3))
        #expect(try await database.scalar("SELECT 1") == 1)  // the connection is still good
        // The smallest pool works too (one connection, none kept open beyond it).
        #expect(try await PostgresDatabase(url: server.url(query: "sslmode=disable&pool_max=1")).scalar("SELECT 2") == 2)
    }

    @Test("a failing statement rolls the whole transaction back and keeps its kind")
    func rollback() async throws {
        let db = try await TemporaryDatabase.make(backend: .postgres)
        defer { db.remove() }
        _ = try await db.store.addMonitor(.port("127.0.0.1:9", key: "a"), now: now)
        await #expect(throws: StoreError.self) {
            _ = try await db.database.execute([
                SQLStatement("UPDATE monitors SET name = 'changed'"),
                SQLStatement("INSERT INTO monitors (key, type, target) VALUES ('a', 'port', 'x:1')"),
            ], transaction: true)
        }
        #expect(try await db.store.monitor(id: 1).name != "changed")
        await #expect {
            _ = try await db.store.addMonitor(.port("127.0.0.1:9", key: "a"), now: now)
        } throws: { error in
            (error as? StoreError)?.code == .constraint
        }
    }

    @Test("a server restart: statements fail as 'unavailable' while it is down, then the same pool reconnects")
    func restart() async throws {
        let server = try await PostgresServer.start()
        defer { server.stop() }
        let store = SQLStore(executor: try PostgresDatabase(url: server.url()), dialect: .postgres)
        try await store.migrate(now: now)
        let id = try await store.addDueMonitors(1, dueAt: now)[0]
        try await store.persist([.sample(monitorID: id, slot: now)])
        try await server.pause()
        await #expect {
            try await store.persist([.sample(monitorID: id, slot: now + 30_000)])
        } throws: { error in
            (error as? StoreError)?.code == .unavailable
        }
        try await server.resume()
        try await store.persist([.sample(monitorID: id, slot: now + 30_000)])
        #expect(try await store.executor.scalar("SELECT count(*) FROM checks") == 2)
    }

    @Test("TLS: require encrypts; verify-full checks the chain and the name; a CA that did not sign the certificate is refused")
    func tls() async throws {
        let server = try await PostgresServer.start(tls: true)
        defer { server.stop() }
        let folder = try #require(server.certificates)
        let ssl = "SELECT count(*) FROM pg_stat_ssl WHERE pid = pg_backend_pid() AND ssl"
        #expect(try await PostgresDatabase(url: server.url(query: "sslmode=require")).scalar(ssl) == 1)
        #expect(try await PostgresDatabase(url: server.url(query: "sslmode=disable")).scalar(ssl) == 0)
        let verified = try PostgresDatabase(url: server.url(query: "sslmode=verify-full&sslrootcert=\(folder.path)/ca.pem", host: "localhost"))
        try await verified.probe(writable: true)
        #expect(try await verified.scalar(ssl) == 1)
        // By address: the certificate's IP entry is checked against the connected address (no SNI for an address).
        let byAddress = try PostgresDatabase(url: server.url(query: "sslmode=verify-full&sslrootcert=\(folder.path)/ca.pem"))
        #expect(try await byAddress.scalar(ssl) == 1)
        await #expect {
            try await PostgresDatabase(url: server.url(query: "sslmode=verify-full&sslrootcert=\(folder.path)/wrong-ca.pem", host: "localhost"))
                .probe(writable: false)
        } throws: { error in
            (error as? StoreError)?.code == .unavailable && "\(error)".contains("127.0.0.1") == false && "\(error)".contains("localhost")
        }
    }
}

/// An executor that counts the requests and statements it passes on to a real one.
final class Counter: SQLExecutor {
    struct Value: Equatable {
        var requests = 0
        var statements = 0
    }

    let next: any SQLExecutor
    private let counts = Mutex(Value())

    init(next: any SQLExecutor) { self.next = next }

    var value: Value { counts.withLock { $0 } }
    func reset() { counts.withLock { $0 = Value() } }

    func execute(_ statements: [SQLStatement], transaction: Bool) async throws(StoreError) -> [SQLRows] {
        counts.withLock {
            $0.requests += 1
            $0.statements += statements.count
        }
        return try await next.execute(statements, transaction: transaction)
    }
}
