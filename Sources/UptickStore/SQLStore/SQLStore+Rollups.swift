public import UptickCore

/// Hourly and daily aggregates per monitor (`rollups`, docs/schema.md), kept by the same transaction that writes
/// the checks: each persist adds its new checks to their periods with one upsert per chunk, and never reads
/// `checks` back beyond the unique-index probe that tells a new check from one already committed.
extension SQLStore {
    static let bucketColumnNames = (0..<LatencyHistogram.bucketCount).map { "b\($0)" }
    static let rollupColumnNames = ["up", "degraded", "down", "duration_sum_us", "duration_max_us"] + bucketColumnNames

    /// The histogram bucket of the duration in `column`, in SQL: the same bounds as ``LatencyHistogram/bucket(_:)``.
    static func bucketExpression(_ column: String) -> String {
        let cases = LatencyHistogram.bounds.enumerated().map { "WHEN \(column) <= \($1) THEN \($0)" }.joined(separator: " ")
        return "CASE \(cases) ELSE \(LatencyHistogram.bounds.count) END"
    }

    /// `INSERT INTO rollups` aggregating `source`'s rows (columns m, s, st, d: monitor, slot, status, duration) into
    /// both resolutions, adding to the periods that exist (`adding`) or leaving them as they are.
    static func rollupUpsert(from source: String, where condition: String, adding: Bool = true, _ dialect: SQLDialect) -> String {
        let periods = Rollup.Resolution.allCases.map { "SELECT \($0.milliseconds) AS len" }.joined(separator: " UNION ALL ")
        let buckets = (0..<LatencyHistogram.bucketCount).map { "SUM(CASE WHEN b = \($0) THEN 1 ELSE 0 END)" }.joined(separator: ", ")
        let additions = rollupColumnNames.map { column in
            column == "duration_max_us"
                ? "\(column) = \(dialect.greatest)(rollups.\(column), excluded.\(column))"
                : "\(column) = rollups.\(column) + excluded.\(column)"
        }.joined(separator: ", ")
        return """
            INSERT INTO rollups (monitor_id, period_ms, period_start, \(rollupColumnNames.joined(separator: ", ")))
            SELECT m, len, s / len * len,
                SUM(CASE WHEN st = 'up' THEN 1 ELSE 0 END), SUM(CASE WHEN st = 'degraded' THEN 1 ELSE 0 END),
                SUM(CASE WHEN st = 'down' THEN 1 ELSE 0 END), SUM(d), MAX(d), \(buckets)
            FROM (SELECT m, s, st, d, \(bucketExpression("d")) AS b FROM \(source) WHERE \(condition)) n
            CROSS JOIN (\(periods)) r
            WHERE true
            GROUP BY m, len, s / len * len
            ON CONFLICT (monitor_id, period_ms, period_start) DO \(adding ? "UPDATE SET \(additions)" : "NOTHING")
            """
    }

    /// The rollup statements for a batch, run before its `checks` INSERTs: only checks not yet in `checks` count,
    /// so a retried or replayed batch adds nothing twice. `outcomes` holds each (monitor, slot) once.
    static func rollupStatements(_ outcomes: [CheckOutcome], _ dialect: SQLDialect) -> [SQLStatement] {
        outcomes.chunks(of: dialect.rowsPerStatement).map { chunk in
            SQLStatement(
                "WITH v(m, s, st, d) AS (VALUES \(placeholders(rows: chunk.count, columns: 4)))\n"
                    + rollupUpsert(from: "v", where: "NOT EXISTS (SELECT 1 FROM checks c WHERE c.monitor_id = v.m AND c.scheduled_at = v.s)", dialect),
                chunk.flatMap { outcome in
                    [.integer(outcome.monitorID), .integer(outcome.scheduledAt), .text(outcome.result.status.rawValue),
                     .integer(outcome.result.durationMicroseconds)]
                }
            )
        }
    }

    /// Migration 5's backfill: every check already stored, aggregated once. Periods that already have a rollup are
    /// left alone, so running it again (a migration re-applied by hand) counts nothing twice.
    static var rollupBackfill: String {
        rollupUpsert(from: "(SELECT monitor_id AS m, scheduled_at AS s, status AS st, duration_us AS d FROM checks) c", where: "true",
                     adding: false, .sqlite)
    }

    static let rollupSelect = "SELECT monitor_id, period_start, \(rollupColumnNames.joined(separator: ", ")) FROM rollups"

    static func rollup(_ row: SQLRow) -> Rollup {
        Rollup(
            monitorID: row["monitor_id"].integer ?? 0, periodStart: row["period_start"].integer ?? 0,
            up: row["up"].integer ?? 0, degraded: row["degraded"].integer ?? 0, down: row["down"].integer ?? 0,
            durationSumMicroseconds: row["duration_sum_us"].integer ?? 0,
            latency: LatencyHistogram(counts: bucketColumnNames.map { row[$0].integer ?? 0 },
                                      maximum: row["duration_max_us"].integer ?? 0)
        )
    }

    /// A monitor's rollups at `resolution` whose period starts in `from..<until`, oldest first, at most `limit`.
    public func rollups(monitorID: Int64, resolution: Rollup.Resolution, from: EpochMilliseconds, until: EpochMilliseconds,
                        limit: Int) async throws(StoreError) -> [Rollup] {
        let statement = SQLStatement(
            "\(Self.rollupSelect) WHERE monitor_id = ? AND period_ms = ? AND period_start >= ? AND period_start < ? ORDER BY period_start LIMIT ?",
            [.integer(monitorID), .integer(resolution.milliseconds), .integer(from), .integer(until), .integer(Int64(limit))])
        return try await executor.execute([statement], transaction: false)[0].named.map(Self.rollup)
    }

    /// The rollups at `resolution` of the monitors `ids` whose period starts at or after `from`, by monitor.
    public func rollups(monitorIDs ids: [Int64], resolution: Rollup.Resolution, from: EpochMilliseconds) async throws(StoreError) -> [Int64: [Rollup]] {
        guard !ids.isEmpty else { return [:] }
        let statements = ids.chunks(of: Self.idsPerStatement).map { chunk in
            SQLStatement("""
                \(Self.rollupSelect) WHERE monitor_id IN (\(Array(repeating: "?", count: chunk.count).joined(separator: ",")))
                AND period_ms = ? AND period_start >= ? ORDER BY monitor_id, period_start
                """, chunk.map(SQLValue.integer) + [.integer(resolution.milliseconds), .integer(from)])
        }
        var byMonitor: [Int64: [Rollup]] = [:]
        for result in try await executor.execute(statements, transaction: false) {
            for row in result.named {
                let rollup = Self.rollup(row)
                byMonitor[rollup.monitorID, default: []].append(rollup)
            }
        }
        return byMonitor
    }

    package func pruneRollups(_ resolution: Rollup.Resolution, before cutoff: EpochMilliseconds, limit: Int) async throws(StoreError) -> Int {
        let statement = SQLStatement("""
            DELETE FROM rollups WHERE (monitor_id, period_ms, period_start) IN (
                SELECT monitor_id, period_ms, period_start FROM rollups WHERE period_ms = ? AND period_start < ? LIMIT ?)
            """, [.integer(resolution.milliseconds), .integer(cutoff), .integer(Int64(limit))])
        return Int(try await executor.execute([statement], transaction: true)[0].changes)
    }
}
