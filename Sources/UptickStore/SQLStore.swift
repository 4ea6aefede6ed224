import Foundation
import UptickCore

/// The store on any SQL executor that speaks SQLite's dialect (a local SQLite file, libSQL).
/// One set of statements, several transports.
public struct SQLStore: Store {
    public let executor: any SQLExecutor

    /// Rows per multi-row INSERT or UPDATE; 500 × 14 arguments stays far below SQLite's 32 766 limit.
    static let rowsPerStatement = 500

    public init(executor: any SQLExecutor) {
        self.executor = executor
    }

    // MARK: Schema

    /// Applies the migrations this database lacks; returns the versions applied.
    @discardableResult
    public func migrate(now: EpochMilliseconds) async throws(StoreError) -> [Int64] {
        let current = try await schemaVersion(createTable: true)
        var applied: [Int64] = []
        for migration in Schema.migrations where migration.version > current {
            var statements: [SQLStatement] = []
            for step in migration.steps {
                switch step {
                case .sql(let sql):
                    statements.append(SQLStatement(sql))
                case .addColumn(let table, let column, let definition):
                    let exists = SQLStatement("SELECT count(*) FROM pragma_table_info(?) WHERE name = ?", [.text(table), .text(column)])
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
        let exists = SQLStatement("SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name = 'schema_migrations'")
        if createTable {
            _ = try await executor.execute([SQLStatement(Schema.createMigrationsTable)], transaction: false)
        } else if try await executor.execute([exists], transaction: false)[0].rows.first?.first?.integer == 0 {
            return 0
        }
        let rows = try await executor.execute([SQLStatement("SELECT max(version) FROM schema_migrations")], transaction: false)
        return rows[0].rows.first?.first?.integer ?? 0
    }

    // MARK: Store

    public func claimDue(now: EpochMilliseconds, limit: Int, leaseGrace: Duration) async throws(StoreError) -> Claim {
        let results = try await executor.execute([
            SQLStatement(Self.scheduleNew, [.integer(now)]),
            SQLStatement(Self.claim, [.integer(now), .integer(Int64(limit)), .integer(leaseGrace.wholeMilliseconds)]),
            SQLStatement(Self.nextDueQuery, [.integer(now)]),
        ], transaction: true)
        let claimed = try results[1].rows.map { row throws(StoreError) in
            ClaimedMonitor(monitor: try Self.monitor(row), slot: row[Self.monitorColumnCount].integer ?? now)
        }
        return Claim(monitors: claimed, nextDue: results[2].rows.first.map { $0[0].integer ?? now })
    }

    public func persist(_ outcomes: [CheckOutcome]) async throws(StoreError) {
        guard !outcomes.isEmpty else { return }
        _ = try await executor.execute(Self.persistStatements(outcomes), transaction: true)
    }

    public func pruneChecks(startedBefore cutoff: EpochMilliseconds, limit: Int) async throws(StoreError) -> Int {
        // Rows are inserted in time order, so the oldest are at the front of the rowid order and the
        // scan stops after `limit` of them: each batch is short and holds the write lock briefly.
        let statement = SQLStatement(
            "DELETE FROM checks WHERE id IN (SELECT id FROM checks WHERE started_at < ? ORDER BY id LIMIT ?)",
            [.integer(cutoff), .integer(Int64(limit))]
        )
        return Int(try await executor.execute([statement], transaction: true)[0].changes)
    }

    // MARK: SQL

    /// The interval in milliseconds; a broken interval (≤ 0) is taken as 1 s so the row is still
    /// claimed and reported as an invalid monitor instead of silently never running.
    static let intervalMilliseconds = "(MAX(interval_seconds, 1) * 1000)"

    /// Schedule.firstSlot in SQL: the first slot at or after ?1 at the monitor's phase.
    static let scheduleNew = """
        UPDATE monitors SET next_check_at = ?1 + (((((id % \(intervalMilliseconds)) * (\(Schedule.phaseMultiplier) % \(intervalMilliseconds))) % \(intervalMilliseconds) - ?1) % \(intervalMilliseconds)) + \(intervalMilliseconds)) % \(intervalMilliseconds)
        WHERE enabled = 1 AND next_check_at IS NULL
        """

    static let monitorColumnNames = [
        "id", "key", "name", "type", "target", "interval_seconds", "timeout_ms", "settings", "enabled", "status",
        "last_checked_at", "next_check_at", "consecutive_failures", "consecutive_successes", "status_changed_at",
    ]
    static let monitorColumns = monitorColumnNames.joined(separator: ", ")
    static var monitorColumnCount: Int { monitorColumnNames.count }

    /// One statement: pick the due monitors through idx_monitors_due, move each to Schedule.nextSlot,
    /// lease it, and return it with the slot it was claimed for.
    static let claim = """
        UPDATE monitors SET
            next_check_at = next_check_at + \(intervalMilliseconds) * ((?1 - next_check_at) / \(intervalMilliseconds) + 1),
            lease_until = ?1 + MIN(MAX(timeout_ms, 0), \(Limits.maxTimeoutMilliseconds)) + ?3
        WHERE id IN (
            SELECT id FROM monitors
            WHERE enabled = 1 AND next_check_at <= ?1 AND (lease_until IS NULL OR lease_until <= ?1)
            ORDER BY next_check_at LIMIT ?2
        )
        RETURNING \(monitorColumns), next_check_at - \(intervalMilliseconds) AS slot
        """

    static let nextDueQuery = """
        SELECT next_check_at FROM monitors
        WHERE enabled = 1 AND (lease_until IS NULL OR lease_until <= ?1)
        ORDER BY next_check_at LIMIT 1
        """

    static let checkColumns = """
        monitor_id, scheduled_at, started_at, duration_us, status, error_class, message, http_status, \
        dns_us, connect_us, tls_us, ttfb_us, runner, details
        """
    static let checkColumnCount = 14

    /// The checks INSERTs and monitors UPDATEs for one batch, `rowsPerStatement` rows each.
    static func persistStatements(_ outcomes: [CheckOutcome]) -> [SQLStatement] {
        var statements: [SQLStatement] = []
        for chunk in outcomes.chunks(of: rowsPerStatement) {
            var arguments: [SQLValue] = []
            arguments.reserveCapacity(chunk.count * checkColumnCount)
            for outcome in chunk {
                let result = outcome.result
                arguments += [
                    .integer(outcome.monitorID), .integer(outcome.scheduledAt), .integer(outcome.startedAt),
                    .integer(result.durationMicroseconds), .text(result.status.rawValue),
                    SQLValue(result.errorClass?.rawValue), SQLValue(result.message), SQLValue(result.httpStatus.map(Int64.init)),
                    SQLValue(result.timings.dnsMicroseconds), SQLValue(result.timings.connectMicroseconds),
                    SQLValue(result.timings.tlsMicroseconds), SQLValue(result.timings.firstByteMicroseconds),
                    .text(outcome.runner), SQLValue(result.details.flatMap(encodeDetails)),
                ]
            }
            statements.append(SQLStatement(
                "INSERT OR IGNORE INTO checks (\(checkColumns)) VALUES " + placeholders(rows: chunk.count, columns: checkColumnCount),
                arguments
            ))
        }
        // One row per monitor: the latest outcome carries its final state.
        var latest: [Int64: CheckOutcome] = [:]
        for outcome in outcomes where (latest[outcome.monitorID]?.startedAt ?? .min) <= outcome.startedAt {
            latest[outcome.monitorID] = outcome
        }
        for chunk in latest.values.sorted(by: { $0.monitorID < $1.monitorID }).chunks(of: rowsPerStatement) {
            var arguments: [SQLValue] = []
            arguments.reserveCapacity(chunk.count * 6)
            for outcome in chunk {
                arguments += [
                    .integer(outcome.monitorID), .text(outcome.state.status.rawValue), .integer(outcome.startedAt),
                    .integer(outcome.state.consecutiveFailures), .integer(outcome.state.consecutiveSuccesses),
                    SQLValue(outcome.state.statusChangedAt),
                ]
            }
            // The last_checked_at guard keeps a late (spooled or retried) result from overwriting a newer state.
            statements.append(SQLStatement("""
                WITH r(id, status, checked_at, failures, successes, changed_at) AS (VALUES \(placeholders(rows: chunk.count, columns: 6)))
                UPDATE monitors SET status = r.status, last_checked_at = r.checked_at, consecutive_failures = r.failures,
                    consecutive_successes = r.successes, status_changed_at = r.changed_at, lease_until = NULL
                FROM r WHERE monitors.id = r.id AND (monitors.last_checked_at IS NULL OR monitors.last_checked_at <= r.checked_at)
                """, arguments))
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

    static func monitor(_ row: [SQLValue]) throws(StoreError) -> Monitor {
        guard row.count >= monitorColumnCount, let id = row[0].integer else {
            throw StoreError(.failed, "unexpected monitors row shape")
        }
        return Monitor(
            id: id, key: row[1].text, name: row[2].text ?? "", type: row[3].text ?? "", target: row[4].text ?? "",
            intervalSeconds: row[5].integer ?? 0, timeoutMilliseconds: row[6].integer ?? 0, settings: row[7].text ?? "",
            enabled: row[8].integer == 1, status: row[9].text.flatMap(MonitorStatus.init(rawValue:)) ?? .pending,
            lastCheckedAt: row[10].integer, nextCheckAt: row[11].integer, consecutiveFailures: row[12].integer ?? 0,
            consecutiveSuccesses: row[13].integer ?? 0, statusChangedAt: row[14].integer
        )
    }
}

extension Array {
    /// Consecutive slices of at most `size` elements.
    func chunks(of size: Int) -> [ArraySlice<Element>] {
        stride(from: 0, to: count, by: size).map { self[$0..<Swift.min($0 + size, count)] }
    }
}
