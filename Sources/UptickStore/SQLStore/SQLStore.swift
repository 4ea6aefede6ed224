import Foundation
public import UptickCore

/// The store on an SQL executor: one set of statements, several transports (a local SQLite file, libSQL over
/// HTTP), the engine's differences in its ``SQLDialect``.
public struct SQLStore: Catalogue, Store, OutboxStore {
    /// Where the statements run.
    public let executor: any SQLExecutor
    /// The engine's SQL differences.
    public let dialect: SQLDialect

    /// Values per `IN (…)` list of a read (monitor ids, keys): few enough for any engine's parameter limit.
    static let idsPerStatement = 500

    /// The store on `executor`, speaking `dialect`.
    public init(executor: any SQLExecutor, dialect: SQLDialect = .sqlite) {
        self.executor = executor
        self.dialect = dialect
    }

    // MARK: Schema

    /// Applies the migrations this database lacks; returns the versions applied.
    @discardableResult
    public func migrate(now: EpochMilliseconds) async throws(StoreError) -> [Int64] {
        let current = try await schemaVersion(createTable: true)
        var applied: [Int64] = []
        for migration in dialect.migrations where migration.version > current {
            var statements: [SQLStatement] = []
            for step in migration.steps {
                switch step {
                case .sql(let sql):
                    statements.append(SQLStatement(sql))
                case .addColumn(let table, let column, let definition):
                    let exists = dialect.columnExists(table, column)
                    if try await executor.execute([exists], transaction: false)[0].rows.first?.first?.integer == 0 {
                        statements.append(SQLStatement("ALTER TABLE \(table) ADD COLUMN \(column) \(definition)"))
                    }
                }
            }
            statements.append(SQLStatement(
                "INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, ?)",
                [.integer(migration.version), .text(migration.name), .integer(now)]
            ))
            _ = try await executor.execute(statements, transaction: true)
            applied.append(migration.version)
        }
        return applied
    }

    /// Fails with `.schema` unless the database has every migration this build needs.
    public func requireSchema() async throws(StoreError) {
        let version = try await schemaVersion(createTable: false)
        guard version >= Schema.latestVersion else {
            throw StoreError(.schema, "database schema is at version \(version), this uptick needs \(Schema.latestVersion): run `uptick migrate`")
        }
    }

    private func schemaVersion(createTable: Bool) async throws(StoreError) -> Int64 {
        let exists = dialect.tableExists("schema_migrations")
        if createTable {
            _ = try await executor.execute([SQLStatement(dialect.createMigrationsTable)], transaction: false)
        } else if try await executor.execute([exists], transaction: false)[0].rows.first?.first?.integer == 0 {
            return 0
        }
        let rows = try await executor.execute([SQLStatement("SELECT max(version) FROM schema_migrations")], transaction: false)
        return rows[0].rows.first?.first?.integer ?? 0
    }

    // MARK: Store

    package func claimDue(now: EpochMilliseconds, limit: Int, leaseGrace: Duration, leaseIntervals: Int) async throws(StoreError) -> Claim {
        let arguments: [SQLValue] = [.integer(now), .integer(Int64(limit)), .integer(leaseGrace.wholeMilliseconds), .integer(Int64(leaseIntervals))]
        if dialect.engine == .postgres {
            let rows = try await executor.execute([SQLStatement(Self.postgresClaim, arguments)], transaction: false)[0].named
            let claimed = try rows.filter { $0["id"].integer != nil }.map { row throws(StoreError) in
                ClaimedMonitor(monitor: try Self.monitor(row), slot: row["slot"].integer ?? now, leaseUntil: row["lease_until"].integer)
            }
            return Claim(monitors: claimed, nextDue: rows.first?["next_due"].integer)
        }
        let results = try await executor.execute([
            SQLStatement(Self.scheduleNew(dialect), [.integer(now)]),
            SQLStatement(Self.claim(dialect), arguments),
            SQLStatement(Self.nextDueQuery, [.integer(now)]),
        ], transaction: true)
        let claimed = try results[1].named.map { row throws(StoreError) in
            ClaimedMonitor(monitor: try Self.monitor(row), slot: row["slot"].integer ?? now, leaseUntil: row["lease_until"].integer)
        }
        return Claim(monitors: claimed, nextDue: results[2].named.first.map { $0["next_check_at"].integer ?? now })
    }

    package func persist(_ outcomes: [CheckOutcome]) async throws(StoreError) {
        guard !outcomes.isEmpty else { return }
        _ = try await executor.execute(Self.persistStatements(outcomes, dialect), transaction: true)
    }

    package func release(_ claims: [ClaimedMonitor], rescheduling: Bool) async throws(StoreError) {
        let leased = claims.compactMap { claim in claim.leaseUntil.map { (claim.monitor.id, claim.slot, $0) } }
        guard !leased.isEmpty else { return }
        let statements = leased.chunks(of: dialect.rowsPerStatement).map { chunk in
            let rows = dialect.rows(chunk.map { [.integer($0.0), .integer($0.1), .integer($0.2)] }, [.bigint, .bigint, .bigint])
            return SQLStatement("""
                WITH r(id, slot, lease) AS (\(rows.sql))
                UPDATE monitors SET lease_until = NULL\(rescheduling ? ", next_check_at = r.slot" : "")
                FROM r WHERE monitors.id = r.id AND monitors.lease_until = r.lease
                """, rows.arguments)
        }
        _ = try await executor.execute(statements, transaction: true)
    }

    package func pruneChecks(startedBefore cutoff: EpochMilliseconds, limit: Int) async throws(StoreError) -> Int {
        // Rows are inserted in time order, so the oldest are at the front of the rowid order and the
        // scan stops after `limit` of them: each batch is short and holds the write lock briefly.
        let statement = SQLStatement(
            "DELETE FROM checks WHERE id IN (SELECT id FROM checks WHERE started_at < ? ORDER BY id LIMIT ?)",
            [.integer(cutoff), .integer(Int64(limit))]
        )
        return Int(try await executor.execute([statement], transaction: true)[0].changes)
    }

    package func pruneOutbox(createdBefore cutoff: EpochMilliseconds, limit: Int) async throws(StoreError) -> Int {
        let statement = SQLStatement("""
            DELETE FROM outbox WHERE id IN (
                SELECT id FROM outbox WHERE created_at < ? AND (delivered_at IS NOT NULL OR dead_at IS NOT NULL) ORDER BY id LIMIT ?)
            """, [.integer(cutoff), .integer(Int64(limit))])
        return Int(try await executor.execute([statement], transaction: true)[0].changes)
    }

    // MARK: SQL

    /// The interval in milliseconds; a broken interval (≤ 0) is taken as 1 s so the row is still
    /// claimed and reported as an invalid monitor instead of silently never running.
    static func intervalMilliseconds(_ dialect: SQLDialect) -> String { "(\(dialect.greatest)(interval_seconds, 1) * 1000)" }

    /// Schedule.firstSlot in SQL: the first slot at or after ?1 at the monitor's phase.
    static func scheduleNew(_ dialect: SQLDialect) -> String {
        let intervalMilliseconds = intervalMilliseconds(dialect)
        return """
        UPDATE monitors SET next_check_at = ?1 + (((((id % \(intervalMilliseconds)) * (\(Schedule.phaseMultiplier) % \(intervalMilliseconds))) % \(intervalMilliseconds) - ?1) % \(intervalMilliseconds)) + \(intervalMilliseconds)) % \(intervalMilliseconds)
        WHERE enabled = 1 AND next_check_at IS NULL
        """
    }

    static let monitorColumnNames = [
        "id", "key", "name", "type", "target", "interval_seconds", "timeout_ms", "settings", "enabled", "status",
        "last_checked_at", "next_check_at", "consecutive_failures", "consecutive_successes", "status_changed_at",
        "recent_verdicts", "notified_status", "notified_at", "incident_opened_at", "announced_incident_at", "flapping_since",
        "status_changes",
    ]
    static let monitorColumns = monitorColumnNames.joined(separator: ", ")

    /// One statement: pick the due monitors through idx_monitors_due, move each to Schedule.nextSlot,
    /// lease it (its timeout, plus ?3 ms, plus ?4 of its intervals), and return it with the slot it was claimed for.
    static func claim(_ dialect: SQLDialect) -> String {
        let intervalMilliseconds = intervalMilliseconds(dialect)
        return """
        UPDATE monitors SET
            next_check_at = next_check_at + \(intervalMilliseconds) * ((?1 - next_check_at) / \(intervalMilliseconds) + 1),
            lease_until = ?1 + \(dialect.least)(\(dialect.greatest)(timeout_ms, 0), \(Limits.maxTimeoutMilliseconds)) + ?3 + ?4 * \(intervalMilliseconds)
        WHERE id IN (
            SELECT id FROM monitors
            WHERE enabled = 1 AND next_check_at <= ?1 AND (lease_until IS NULL OR lease_until <= ?1)
            ORDER BY next_check_at LIMIT ?2
        )
        RETURNING \(monitorColumns), next_check_at - \(intervalMilliseconds) AS slot, lease_until
        """
    }

    static let nextDueQuery = """
        SELECT next_check_at FROM monitors
        WHERE enabled = 1 AND (lease_until IS NULL OR lease_until <= ?1)
        ORDER BY next_check_at LIMIT 1
        """

    static let checkColumns = """
        monitor_id, scheduled_at, started_at, duration_us, status, error_class, message, http_status, \
        dns_us, connect_us, tls_us, ttfb_us, runner, details
        """
    static let checkTypes: [SQLDialect.ColumnType] = [
        .bigint, .bigint, .bigint, .bigint, .text, .text, .text, .bigint, .bigint, .bigint, .bigint, .bigint, .text, .text,
    ]

    /// The values of `checkColumns` for one outcome.
    static func checkRow(_ outcome: CheckOutcome) -> [SQLValue] {
        let result = outcome.result
        return [
            .integer(outcome.monitorID), .integer(outcome.scheduledAt), .integer(outcome.startedAt),
            .integer(result.durationMicroseconds), .text(result.status.rawValue),
            SQLValue(result.errorClass?.rawValue), SQLValue(result.message), SQLValue(result.httpStatus.map(Int64.init)),
            SQLValue(result.timings.dnsMicroseconds), SQLValue(result.timings.connectMicroseconds),
            SQLValue(result.timings.tlsMicroseconds), SQLValue(result.timings.firstByteMicroseconds),
            .text(outcome.runner), SQLValue(result.details.flatMap(encodeDetails)),
        ]
    }

    /// One batch's statements, in order: alert effects (they read the stored state before it changes), rollups and
    /// checks, then the monitors' states. SQLite: `rowsPerStatement` rows a statement, the rollups counting only the
    /// checks not yet stored. PostgreSQL: one statement each whatever the batch's size, the rollups fed by the
    /// checks INSERT's own `RETURNING` (exactly the rows it inserted, even when two runners commit the same slot).
    static func persistStatements(_ outcomes: [CheckOutcome], _ dialect: SQLDialect) -> [SQLStatement] {
        let states = stateStatements(outcomes, dialect)
        switch dialect.engine {
        case .postgres:
            let rows = dialect.rows(outcomes.map(checkRow), checkTypes)
            let inserted = SQLStatement("""
                WITH v(\(checkColumns)) AS (\(rows.sql)),
                ins AS (
                    INSERT INTO checks (\(checkColumns)) SELECT * FROM v
                    ON CONFLICT (monitor_id, scheduled_at) DO NOTHING
                    RETURNING monitor_id AS m, scheduled_at AS s, status AS st, duration_us AS d)
                \(rollupUpsert(from: "ins", where: "true", dialect))
                """, rows.arguments)
            return postgresAlertStatements(outcomes) + [inserted] + states
        case .sqlite:
            let inserts = outcomes.chunks(of: dialect.rowsPerStatement).map { chunk in
                let rows = dialect.rows(chunk.map(checkRow), checkTypes)
                return SQLStatement(dialect.insertIgnoring(into: "checks", "(\(checkColumns)) \(rows.sql)"), rows.arguments)
            }
            // Each (monitor, slot) once, the first one, as the checks INSERT keeps it.
            var seen = Set<SlotKey>()
            let firsts = outcomes.filter { seen.insert(SlotKey(monitorID: $0.monitorID, slot: $0.scheduledAt)).inserted }
            return alertStatements(outcomes, dialect) + rollupStatements(firsts, dialect) + inserts + states
        }
    }

    static let stateTypes: [SQLDialect.ColumnType] = [
        .bigint, .text, .bigint, .bigint, .bigint, .bigint, .text, .text, .bigint, .bigint, .bigint, .bigint, .text,
    ]

    /// The monitors' UPDATEs: one row per monitor, its latest outcome carrying its final state.
    static func stateStatements(_ outcomes: [CheckOutcome], _ dialect: SQLDialect) -> [SQLStatement] {
        var latest: [Int64: CheckOutcome] = [:]
        for outcome in outcomes where (latest[outcome.monitorID]?.startedAt ?? .min) <= outcome.startedAt {
            latest[outcome.monitorID] = outcome
        }
        return latest.values.sorted(by: { $0.monitorID < $1.monitorID }).chunks(of: dialect.rowsPerStatement).map { chunk in
            let rows = dialect.rows(chunk.map { outcome in
                let state = outcome.state
                return [
                    .integer(outcome.monitorID), .text(state.status.rawValue), .integer(outcome.startedAt),
                    .integer(state.consecutiveFailures), .integer(state.consecutiveSuccesses), SQLValue(state.statusChangedAt),
                    .text(state.recentVerdicts), SQLValue(state.notifiedStatus?.rawValue), SQLValue(state.notifiedAt),
                    SQLValue(state.incidentOpenedAt), SQLValue(state.announcedIncidentAt), SQLValue(state.flappingSince),
                    .text(state.statusChanges.map(String.init).joined(separator: ",")),
                ]
            }, stateTypes)
            // The last_checked_at guard keeps a late (spooled or retried) result from overwriting a newer state.
            return SQLStatement("""
                WITH r(id, status, checked_at, failures, successes, changed_at, verdicts, notified_status, notified_at,
                       incident_at, announced_at, flapping_since, changes)
                AS (\(rows.sql))
                UPDATE monitors SET status = r.status, last_checked_at = r.checked_at, consecutive_failures = r.failures,
                    consecutive_successes = r.successes, status_changed_at = r.changed_at, recent_verdicts = r.verdicts,
                    notified_status = r.notified_status, notified_at = r.notified_at, incident_opened_at = r.incident_at,
                    announced_incident_at = r.announced_at, flapping_since = r.flapping_since, status_changes = r.changes,
                    lease_until = NULL
                FROM r WHERE monitors.id = r.id AND (monitors.last_checked_at IS NULL OR monitors.last_checked_at <= r.checked_at)
                """, rows.arguments)
        }
    }

    struct SlotKey: Hashable {
        var monitorID: Int64
        var slot: EpochMilliseconds
    }

    /// Only results newer than the stored state announce anything: the same guard as the state update,
    /// checked before it, so a late (spooled) result neither reopens incidents nor repeats events.
    static let newerThanStored = "EXISTS (SELECT 1 FROM monitors m WHERE m.id = ?1 AND (m.last_checked_at IS NULL OR m.last_checked_at < ?2))"

    /// Incident and outbox statements for the outcomes that have alert effects, run before the
    /// `checks` and `monitors` writes of the same transaction. Each event gets one outbox row per
    /// channel: the monitor's own channels, or the default channels when it names none.
    static func alertStatements(_ outcomes: [CheckOutcome], _ dialect: SQLDialect) -> [SQLStatement] {
        var statements: [SQLStatement] = []
        for outcome in outcomes {
            guard let alerts = outcome.alerts else { continue }
            let monitor = SQLValue.integer(outcome.monitorID), started = SQLValue.integer(outcome.startedAt)
            switch alerts.incident {
            case .opened(let at, let errorClass, let message)?:
                statements.append(SQLStatement(dialect.insertIgnoring(into: "incidents", """
                    (monitor_id, opened_at, cause_class, cause_message)
                    SELECT ?1, ?3, ?4, ?5 WHERE \(newerThanStored)
                    """), [monitor, started, .integer(at), SQLValue(errorClass?.rawValue), SQLValue(message)]))
            case .resolved(let openedAt, let at)?:
                statements.append(SQLStatement("""
                    UPDATE incidents SET resolved_at = ?4
                    WHERE monitor_id = ?1 AND opened_at = ?3 AND resolved_at IS NULL AND \(newerThanStored)
                    """, [monitor, started, .integer(openedAt), .integer(at)]))
            case nil:
                break
            }
            for event in alerts.events {
                statements.append(SQLStatement(dialect.insertIgnoring(into: "outbox", """
                    (event_id, monitor_id, incident_id, kind, payload, channel_id, created_at, next_attempt_at)
                    SELECT ?3, ?1, (SELECT id FROM incidents WHERE monitor_id = ?1 AND opened_at = ?4), ?5, ?6, c.id, ?2, ?2
                    FROM channels c
                    WHERE c.enabled = 1 AND \(newerThanStored) AND (
                        c.id IN (SELECT channel_id FROM monitor_channels WHERE monitor_id = ?1)
                        OR (c.is_default = 1 AND NOT EXISTS (SELECT 1 FROM monitor_channels WHERE monitor_id = ?1)))
                    """), [monitor, started, .text(event.id), SQLValue(event.payload.incident?.openedAt), .text(event.kind.rawValue),
                          .text(event.payload.json)]))
            }
        }
        return statements
    }

    /// `details` as compact JSON; only results that have details pay for encoding.
    static func encodeDetails(_ details: CheckDetails) -> String? {
        guard !details.isEmpty, let data = try? JSONEncoder().encode(details) else { return nil }
        return String(decoding: data, as: UTF8.self)
    }

    static func placeholders(rows: Int, columns: Int) -> String {
        let row = "(" + Array(repeating: "?", count: columns).joined(separator: ",") + ")"
        return Array(repeating: row, count: rows).joined(separator: ",")
    }

    static func monitor(_ row: SQLRow) throws(StoreError) -> Monitor {
        guard let id = row["id"].integer else { throw StoreError(.failed, "unexpected monitors row shape") }
        let state = MonitorState(
            status: row["status"].text.flatMap(MonitorStatus.init(rawValue:)) ?? .pending,
            consecutiveFailures: row["consecutive_failures"].integer ?? 0, consecutiveSuccesses: row["consecutive_successes"].integer ?? 0,
            statusChangedAt: row["status_changed_at"].integer, recentVerdicts: row["recent_verdicts"].text ?? "",
            notifiedStatus: row["notified_status"].text.flatMap(MonitorStatus.init(rawValue:)), notifiedAt: row["notified_at"].integer,
            incidentOpenedAt: row["incident_opened_at"].integer, announcedIncidentAt: row["announced_incident_at"].integer,
            flappingSince: row["flapping_since"].integer,
            statusChanges: (row["status_changes"].text ?? "").split(separator: ",").compactMap { Int64($0) }
        )
        return Monitor(
            id: id, key: row["key"].text, name: row["name"].text ?? "", type: row["type"].text ?? "", target: row["target"].text ?? "",
            intervalSeconds: row["interval_seconds"].integer ?? 0, timeoutMilliseconds: row["timeout_ms"].integer ?? 0,
            settings: row["settings"].text ?? "", enabled: row["enabled"].integer == 1, lastCheckedAt: row["last_checked_at"].integer,
            nextCheckAt: row["next_check_at"].integer, state: state
        )
    }
}

extension Array {
    /// Consecutive slices of at most `size` elements.
    func chunks(of size: Int) -> [ArraySlice<Element>] {
        stride(from: 0, to: count, by: size).map { self[$0..<($0 + Swift.min(size, count - $0))] }
    }
}
