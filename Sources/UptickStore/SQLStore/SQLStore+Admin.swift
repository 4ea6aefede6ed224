import Foundation
public import UptickCore

/// Monitor management and read models for the CLI. The backend API does the same through its own SQL;
/// docs/schema.md says which columns each side writes.
extension SQLStore {
    /// Inserts a new monitor; the runner gives it its first slot at the next claim.
    public func addMonitor(_ draft: MonitorDraft, now: EpochMilliseconds) async throws(StoreError) -> Monitor {
        let rows = try await executor.execute([Self.insert(draft, now: now)], transaction: true)[0].named
        guard let row = rows.first else { throw StoreError(.failed, "insert returned no row") }
        return try Self.monitor(row)
    }

    /// Every monitor, by id.
    public func monitors() async throws(StoreError) -> [Monitor] {
        let rows = try await executor.execute([SQLStatement("SELECT \(Self.monitorColumns) FROM monitors ORDER BY id")], transaction: false)
        return try rows[0].named.map { row throws(StoreError) in try Self.monitor(row) }
    }

    /// The monitor with `id`, or `.notFound`.
    public func monitor(id: Int64) async throws(StoreError) -> Monitor {
        let rows = try await executor.execute([SQLStatement("SELECT \(Self.monitorColumns) FROM monitors WHERE id = ?", [.integer(id)])], transaction: false)
        guard let row = rows[0].named.first else { throw StoreError(.notFound, "no monitor with id \(id)") }
        return try Self.monitor(row)
    }

    /// Deletes a monitor with its checks, rollups, incidents and channel attachments.
    public func removeMonitor(id: Int64) async throws(StoreError) {
        let results = try await executor.execute([
            SQLStatement("DELETE FROM monitors WHERE id = ?", [.integer(id)]),
            SQLStatement("DELETE FROM checks WHERE monitor_id = ?", [.integer(id)]),
            SQLStatement("DELETE FROM incidents WHERE monitor_id = ?", [.integer(id)]),
            SQLStatement("DELETE FROM rollups WHERE monitor_id = ?", [.integer(id)]),
            SQLStatement("DELETE FROM monitor_channels WHERE monitor_id = ?", [.integer(id)]),
        ], transaction: true)
        guard results[0].changes == 1 else { throw StoreError(.notFound, "no monitor with id \(id)") }
    }

    /// Enables or disables a monitor. Enabling starts it afresh: `pending`, counters cleared, and a
    /// new slot at its phase, as if it were new.
    public func setEnabled(id: Int64, _ enabled: Bool, now: EpochMilliseconds) async throws(StoreError) {
        let sql = enabled
            ? """
              UPDATE monitors SET enabled = 1, next_check_at = NULL, lease_until = NULL, status = 'pending',
                  consecutive_failures = 0, consecutive_successes = 0, status_changed_at = ?2, updated_at = ?2,
                  recent_verdicts = '', status_changes = '', flapping_since = NULL
              WHERE id = ?1 AND enabled = 0
              """
            : "UPDATE monitors SET enabled = 0, next_check_at = NULL, updated_at = ?2 WHERE id = ?1 AND enabled = 1"
        let results = try await executor.execute([
            SQLStatement(sql, [.integer(id), .integer(now)]),
            SQLStatement("SELECT count(*) FROM monitors WHERE id = ?", [.integer(id)]),
        ], transaction: true)
        guard results[1].rows.first?.first?.integer == 1 else { throw StoreError(.notFound, "no monitor with id \(id)") }
    }

    /// Creates or updates monitors by their `key`, in one transaction. Drafts equal to the stored
    /// monitor are left alone, so importing the same file twice changes nothing.
    public func upsert(_ drafts: [MonitorDraft], now: EpochMilliseconds) async throws(StoreError) -> ImportReport {
        let keys = drafts.compactMap(\.key)
        guard keys.count == drafts.count, Set(keys).count == keys.count else {
            throw StoreError(.constraint, "every imported monitor needs a unique key")
        }
        var existing: [String: Monitor] = [:]
        for chunk in keys.chunks(of: Self.idsPerStatement) {
            let sql = "SELECT \(Self.monitorColumns) FROM monitors WHERE key IN (\(Array(repeating: "?", count: chunk.count).joined(separator: ",")))"
            let rows = try await executor.execute([SQLStatement(sql, chunk.map(SQLValue.text))], transaction: false)[0].named
            for row in rows {
                let monitor = try Self.monitor(row)
                if let key = monitor.key { existing[key] = monitor }
            }
        }
        var report = ImportReport()
        var statements: [SQLStatement] = []
        var created: [MonitorDraft] = []
        for draft in drafts {
            let key = draft.key ?? ""
            guard let current = existing[key] else {
                created.append(draft)
                report.created.append(key)
                continue
            }
            if current.draft == draft {
                report.unchanged.append(key)
                continue
            }
            // A new target is a new thing to watch: its old status and counters say nothing about it.
            let retarget = current.type != draft.type || current.target != draft.target
            let reschedule = retarget || current.intervalSeconds != draft.intervalSeconds || current.enabled != draft.enabled
            statements.append(SQLStatement("""
                UPDATE monitors SET name = ?, type = ?, target = ?, interval_seconds = ?, timeout_ms = ?, settings = ?, enabled = ?,
                    updated_at = ?,
                    next_check_at = CASE WHEN ? = 1 THEN NULL ELSE next_check_at END,
                    status = CASE WHEN ? = 1 THEN 'pending' ELSE status END,
                    consecutive_failures = CASE WHEN ? = 1 THEN 0 ELSE consecutive_failures END,
                    consecutive_successes = CASE WHEN ? = 1 THEN 0 ELSE consecutive_successes END
                WHERE id = ?
                """, [
                    .text(draft.name), .text(draft.type), .text(draft.target), .integer(draft.intervalSeconds),
                    .integer(draft.timeoutMilliseconds), .text(draft.settings), .integer(draft.enabled ? 1 : 0), .integer(now),
                    .integer(reschedule ? 1 : 0), .integer(retarget ? 1 : 0), .integer(retarget ? 1 : 0), .integer(retarget ? 1 : 0),
                    .integer(current.id),
                ]))
            report.updated.append(key)
        }
        // New monitors in multi-row INSERTs (one per 500 on SQLite, one in all on PostgreSQL), before the updates.
        let types: [SQLDialect.ColumnType] = [.text, .text, .text, .text, .bigint, .bigint, .text, .bigint, .bigint, .bigint, .bigint]
        let inserts = created.chunks(of: dialect.rowsPerStatement).map { chunk in
            let rows = dialect.rows(chunk.map { Self.insertValues($0, now: now) }, types)
            return SQLStatement("INSERT INTO monitors (\(Self.insertColumns)) \(rows.sql)", rows.arguments)
        }
        statements = inserts + statements
        if !statements.isEmpty { _ = try await executor.execute(statements, transaction: true) }
        return report
    }

    /// The latest `limit` checks of a monitor, newest first.
    public func history(monitorID: Int64, limit: Int) async throws(StoreError) -> [CheckRecord] {
        try await history(monitorID: monitorID, before: nil, limit: limit)
    }

    static func checkRecord(_ row: SQLRow) -> CheckRecord {
        CheckRecord(
            id: row["id"].integer ?? 0, monitorID: row["monitor_id"].integer ?? 0, scheduledAt: row["scheduled_at"].integer ?? 0,
            startedAt: row["started_at"].integer ?? 0,
            result: CheckResult(
                status: row["status"].text.flatMap(CheckStatus.init(rawValue:)) ?? .down,
                errorClass: row["error_class"].text.flatMap(ErrorClass.init(rawValue:)), message: row["message"].text,
                httpStatus: row["http_status"].integer.map(Int.init),
                timings: PhaseTimings(dnsMicroseconds: row["dns_us"].integer, connectMicroseconds: row["connect_us"].integer,
                                      tlsMicroseconds: row["tls_us"].integer, firstByteMicroseconds: row["ttfb_us"].integer),
                durationMicroseconds: row["duration_us"].integer ?? 0,
                details: row["details"].text.flatMap { try? JSONDecoder().decode(CheckDetails.self, from: Data($0.utf8)) }
            ),
            runner: row["runner"].text ?? ""
        )
    }

    /// Every monitor with its latest latency, its uptime over the hours since `windowStart` and their rollups: two
    /// statements in one round trip, the second reading only the window's hourly rollups through their index.
    public func summaries(since windowStart: EpochMilliseconds) async throws(StoreError) -> [MonitorSummary] {
        let from = Rollup.Resolution.hourly.periodStart(windowStart)
        let results = try await executor.execute([
            SQLStatement("""
                SELECT \(Self.monitorColumnNames.map { "m." + $0 }.joined(separator: ", ")),
                    (SELECT duration_us FROM checks c WHERE c.monitor_id = m.id ORDER BY scheduled_at DESC LIMIT 1) AS last_duration_us
                FROM monitors m ORDER BY m.id
                """),
            SQLStatement("\(Self.rollupSelect) WHERE period_ms = ? AND period_start >= ? ORDER BY monitor_id, period_start",
                         [.integer(Rollup.Resolution.hourly.milliseconds), .integer(from)]),
        ], transaction: false)
        var hours: [Int64: [Rollup]] = [:]
        for row in results[1].named {
            let rollup = Self.rollup(row)
            hours[rollup.monitorID, default: []].append(rollup)
        }
        return try results[0].named.map { row throws(StoreError) in
            let monitor = try Self.monitor(row)
            let window = hours[monitor.id] ?? []
            let total = window.reduce(0) { $0 + $1.checks }
            let good = window.reduce(0) { $0 + $1.up + $1.degraded }
            return MonitorSummary(
                monitor: monitor, lastDurationMicroseconds: row["last_duration_us"].integer,
                uptime: total > 0 ? Double(good) / Double(total) : nil, checksInWindow: total, hours: window
            )
        }
    }

    static let insertColumns = "key, name, type, target, interval_seconds, timeout_ms, settings, enabled, status_changed_at, created_at, updated_at"

    static func insertValues(_ draft: MonitorDraft, now: EpochMilliseconds) -> [SQLValue] {
        [
            SQLValue(draft.key), .text(draft.name), .text(draft.type), .text(draft.target), .integer(draft.intervalSeconds),
            .integer(draft.timeoutMilliseconds), .text(draft.settings), .integer(draft.enabled ? 1 : 0),
            .integer(now), .integer(now), .integer(now),
        ]
    }

    static func insert(_ draft: MonitorDraft, now: EpochMilliseconds) -> SQLStatement {
        SQLStatement("INSERT INTO monitors (\(insertColumns)) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING \(monitorColumns)",
                     insertValues(draft, now: now))
    }
}

extension Monitor {
    /// The user-editable part, to compare with an imported draft.
    var draft: MonitorDraft {
        MonitorDraft(key: key, name: name, type: type, target: target, intervalSeconds: intervalSeconds,
                     timeoutMilliseconds: timeoutMilliseconds, settings: settings, enabled: enabled)
    }
}
