import Foundation
public import UptickCore

/// The read models of the status page and the JSON API. Each is one round trip of a few statements, each served by
/// an index: the public monitors' partial index, the rollups' primary key, the incidents' (monitor, opened) key.
extension SQLStore {
    func scopeCondition(_ scope: BoardScope, column prefix: String = "") -> String {
        switch scope {
        case .publicOnly: dialect.publicMonitor.replacingOccurrences(of: "settings", with: prefix + "settings")
        case .all: "1 = 1"
        }
    }

    /// One page of monitors in `scope` (by id, `limit` from `offset`) with their daily rollups since `dailyFrom`, hourly
    /// ones since `hourlyFrom`, and their incidents open or resolved since `incidentsFrom` (at most `incidentLimit`).
    public func board(scope: BoardScope, offset: Int, limit: Int, dailyFrom: EpochMilliseconds, hourlyFrom: EpochMilliseconds,
                      incidentsFrom: EpochMilliseconds, incidentLimit: Int) async throws(StoreError) -> Board {
        let condition = scopeCondition(scope)
        let page = "SELECT id FROM monitors WHERE \(condition) ORDER BY id LIMIT ?2 OFFSET ?1"
        let window: [SQLValue] = [.integer(Int64(offset)), .integer(Int64(limit))]
        let results = try await executor.execute([
            SQLStatement("SELECT \(Self.monitorColumns) FROM monitors WHERE \(condition) ORDER BY id LIMIT ?2 OFFSET ?1", window),
            SQLStatement("SELECT status, count(*) AS n FROM monitors WHERE \(condition) GROUP BY status"),
            SQLStatement("\(Self.rollupSelect) WHERE monitor_id IN (\(page)) AND period_ms = ?3 AND period_start >= ?4 ORDER BY monitor_id, period_start",
                         window + [.integer(Rollup.Resolution.daily.milliseconds), .integer(dailyFrom)]),
            SQLStatement("\(Self.rollupSelect) WHERE monitor_id IN (\(page)) AND period_ms = ?3 AND period_start >= ?4 ORDER BY monitor_id, period_start",
                         window + [.integer(Rollup.Resolution.hourly.milliseconds), .integer(hourlyFrom)]),
            SQLStatement("""
                \(Self.incidentSelect) WHERE i.monitor_id IN (\(page)) AND (i.resolved_at IS NULL OR i.resolved_at >= ?3)
                ORDER BY i.opened_at DESC, i.id DESC LIMIT ?4
                """, window + [.integer(incidentsFrom), .integer(Int64(incidentLimit))]),
        ], transaction: false)
        func grouped(_ rows: [SQLRow]) -> [Int64: [Rollup]] {
            var byMonitor: [Int64: [Rollup]] = [:]
            for row in rows {
                let rollup = Self.rollup(row)
                byMonitor[rollup.monitorID, default: []].append(rollup)
            }
            return byMonitor
        }
        var byStatus: [MonitorStatus: Int] = [:]
        for row in results[1].named {
            let status = row["status"].text.flatMap(MonitorStatus.init(rawValue:)) ?? .pending
            byStatus[status, default: 0] += Int(row["n"].integer ?? 0)
        }
        return Board(
            monitors: try results[0].named.map { row throws(StoreError) in try Self.monitor(row) },
            total: byStatus.values.reduce(0, +), byStatus: byStatus,
            daily: grouped(results[2].named), hourly: grouped(results[3].named),
            incidents: results[4].named.map(Self.incident)
        )
    }

    /// The monitor with `id` if it is in `scope`, or `.notFound` (a private monitor is not found, not forbidden).
    public func monitor(id: Int64, scope: BoardScope) async throws(StoreError) -> Monitor {
        let rows = try await executor.execute([SQLStatement(
            "SELECT \(Self.monitorColumns) FROM monitors WHERE id = ? AND \(scopeCondition(scope))", [.integer(id)])], transaction: false)[0].named
        guard let row = rows.first else { throw StoreError(.notFound, "no monitor with id \(id)") }
        return try Self.monitor(row)
    }

    /// Incidents of monitors in `scope` that opened before `before` (`nil`: any time), newest first; only open ones with `openOnly`.
    public func incidents(scope: BoardScope, openOnly: Bool, before: EpochMilliseconds?, limit: Int) async throws(StoreError) -> [IncidentRecord] {
        let rows = try await executor.execute([SQLStatement("""
            \(Self.incidentSelect) WHERE \(scopeCondition(scope, column: "m."))\(openOnly ? " AND i.resolved_at IS NULL" : "") AND i.opened_at < ?
            ORDER BY i.opened_at DESC, i.id DESC LIMIT ?
            """, [.integer(before ?? .max), .integer(Int64(limit))])], transaction: false)[0].named
        return rows.map(Self.incident)
    }

    static let incidentSelect = """
        SELECT i.id AS id, i.monitor_id AS monitor_id, m.name AS monitor_name, i.opened_at AS opened_at,
               i.resolved_at AS resolved_at, i.cause_class AS cause_class, i.cause_message AS cause_message
        FROM incidents i LEFT JOIN monitors m ON m.id = i.monitor_id
        """

    static func incident(_ row: SQLRow) -> IncidentRecord {
        IncidentRecord(id: row["id"].integer ?? 0, monitorID: row["monitor_id"].integer ?? 0, monitorName: row["monitor_name"].text,
                       openedAt: row["opened_at"].integer ?? 0, resolvedAt: row["resolved_at"].integer,
                       causeClass: row["cause_class"].text, causeMessage: row["cause_message"].text)
    }

    /// A monitor's checks that ran for a slot before `before` (`nil`: the latest), newest first, at most `limit`.
    public func history(monitorID: Int64, before: EpochMilliseconds?, limit: Int) async throws(StoreError) -> [CheckRecord] {
        let sql = "SELECT id, \(Self.checkColumns) FROM checks WHERE monitor_id = ? AND scheduled_at < ? ORDER BY scheduled_at DESC LIMIT ?"
        let rows = try await executor.execute([SQLStatement(sql, [.integer(monitorID), .integer(before ?? .max), .integer(Int64(limit))])],
                                              transaction: false)
        return rows[0].named.map(Self.checkRecord)
    }

    /// Alert events waiting to be delivered, and given up, for `/metrics`.
    public func outboxCounts() async throws(StoreError) -> (pending: Int, dead: Int) {
        let results = try await executor.execute([
            SQLStatement("SELECT count(*) FROM outbox WHERE delivered_at IS NULL AND dead_at IS NULL"),
            SQLStatement("SELECT count(*) FROM outbox WHERE dead_at IS NOT NULL"),
        ], transaction: false)
        return (Int(results[0].rows.first?.first?.integer ?? 0), Int(results[1].rows.first?.first?.integer ?? 0))
    }
}
