import UptickCore

/// The statements whose shape differs on PostgreSQL, where every statement is a round trip (postgres-nio does not
/// pipeline) and several runners claim concurrently: the claim is one statement, a batch's alert effects are at most
/// three, and rows are locked with `FOR UPDATE SKIP LOCKED` so no runner waits for another's claim.
extension SQLStore {
    /// The claim in one statement and one round trip (built once). ?1 now, ?2 limit, ?3 lease grace, ?4 lease intervals.
    ///
    /// Its parts see one snapshot: `scheduled` gives new monitors their first slot (as ``scheduleNew(_:)``), `due`
    /// locks the due monitors that no other runner holds (`SKIP LOCKED`; `MATERIALIZED`, so the locking subquery runs
    /// once: as an `IN (…)` subquery PostgreSQL may run it again per row and lock more than the limit, which a test
    /// caught), `claimed` leases them and moves each to its next slot (as ``claim(_:)``), and `next_due` is the
    /// earliest slot left: the new monitors' and the unclaimed ones'. The answer is one row per claimed monitor with
    /// `next_due` on each, or one row of `next_due` alone.
    static let postgresClaim: String = {
        let dialect = SQLDialect.postgres
        let intervalMilliseconds = SQLStore.intervalMilliseconds(dialect)
        return """
            WITH scheduled AS (
                \(SQLStore.scheduleNew(dialect))
                RETURNING next_check_at
            ),
            due AS MATERIALIZED (
                SELECT id AS due_id FROM monitors
                WHERE enabled = 1 AND next_check_at <= ?1 AND (lease_until IS NULL OR lease_until <= ?1)
                ORDER BY next_check_at LIMIT ?2
                FOR UPDATE SKIP LOCKED
            ),
            claimed AS (
                UPDATE monitors SET
                    next_check_at = next_check_at + \(intervalMilliseconds) * ((?1 - next_check_at) / \(intervalMilliseconds) + 1),
                    lease_until = ?1 + \(dialect.least)(\(dialect.greatest)(timeout_ms, 0), \(Limits.maxTimeoutMilliseconds)) + ?3 + ?4 * \(intervalMilliseconds)
                FROM due WHERE monitors.id = due.due_id
                RETURNING \(SQLStore.monitorColumnNames.map { "monitors." + $0 }.joined(separator: ", ")),
                    monitors.next_check_at - \(intervalMilliseconds) AS slot, monitors.lease_until
            ),
            upcoming AS (
                SELECT min(n) AS next_due FROM (
                    SELECT next_check_at AS n FROM scheduled
                    UNION ALL
                    (SELECT next_check_at FROM monitors
                     WHERE enabled = 1 AND next_check_at IS NOT NULL AND (lease_until IS NULL OR lease_until <= ?1)
                       AND id NOT IN (SELECT id FROM claimed)
                     ORDER BY next_check_at LIMIT 1)
                ) earliest
            )
            SELECT upcoming.next_due, claimed.* FROM upcoming LEFT JOIN claimed ON true
            """
    }()

    /// A batch's incidents and outbox rows in at most three statements (opened, resolved, events), each guarded as
    /// ``alertStatements(_:_:)`` guards its per-outcome ones: only results newer than the stored state count.
    static func postgresAlertStatements(_ outcomes: [CheckOutcome]) -> [SQLStatement] {
        let dialect = SQLDialect.postgres
        let newer = "EXISTS (SELECT 1 FROM monitors mo WHERE mo.id = r.m AND (mo.last_checked_at IS NULL OR mo.last_checked_at < r.started))"
        var opened: [[SQLValue]] = [], resolved: [[SQLValue]] = [], events: [[SQLValue]] = []
        for outcome in outcomes {
            guard let alerts = outcome.alerts else { continue }
            let monitor = SQLValue.integer(outcome.monitorID), started = SQLValue.integer(outcome.startedAt)
            switch alerts.incident {
            case .opened(let at, let errorClass, let message)?:
                opened.append([monitor, started, .integer(at), SQLValue(errorClass?.rawValue), SQLValue(message)])
            case .resolved(let openedAt, let at)?:
                resolved.append([monitor, started, .integer(openedAt), .integer(at)])
            case nil:
                break
            }
            for event in alerts.events {
                events.append([monitor, started, .text(event.id), SQLValue(event.payload.incident?.openedAt), .text(event.kind.rawValue),
                               .text(event.payload.json)])
            }
        }
        var statements: [SQLStatement] = []
        if !opened.isEmpty {
            let rows = dialect.rows(opened, [.bigint, .bigint, .bigint, .text, .text])
            statements.append(SQLStatement("""
                WITH r(m, started, at, cause_class, cause_message) AS (\(rows.sql))
                INSERT INTO incidents (monitor_id, opened_at, cause_class, cause_message)
                SELECT r.m, r.at, r.cause_class, r.cause_message FROM r WHERE \(newer)
                ON CONFLICT DO NOTHING
                """, rows.arguments))
        }
        if !resolved.isEmpty {
            let rows = dialect.rows(resolved, [.bigint, .bigint, .bigint, .bigint])
            statements.append(SQLStatement("""
                WITH r(m, started, opened, at) AS (\(rows.sql))
                UPDATE incidents SET resolved_at = r.at FROM r
                WHERE incidents.monitor_id = r.m AND incidents.opened_at = r.opened AND incidents.resolved_at IS NULL AND \(newer)
                """, rows.arguments))
        }
        if !events.isEmpty {
            let rows = dialect.rows(events, [.bigint, .bigint, .text, .bigint, .text, .text])
            // In the batch's order (outbox ids order each channel's lane), then by channel.
            statements.append(SQLStatement("""
                WITH r(m, started, event, opened, kind, payload, n) AS (\(rows.sql) WITH ORDINALITY)
                INSERT INTO outbox (event_id, monitor_id, incident_id, kind, payload, channel_id, created_at, next_attempt_at)
                SELECT r.event, r.m, (SELECT i.id FROM incidents i WHERE i.monitor_id = r.m AND i.opened_at = r.opened), r.kind, r.payload,
                       c.id, r.started, r.started
                FROM r JOIN channels c ON c.enabled = 1 AND (
                    c.id IN (SELECT channel_id FROM monitor_channels WHERE monitor_id = r.m)
                    OR (c.is_default = 1 AND NOT EXISTS (SELECT 1 FROM monitor_channels WHERE monitor_id = r.m)))
                WHERE \(newer)
                ORDER BY r.n, c.id
                ON CONFLICT DO NOTHING
                """, rows.arguments))
        }
        return statements
    }

    /// PostgreSQL's delivery claim: the parameters of ``sqliteClaimDeliveries``, lanes through a lateral join instead
    /// of JSON arrays. The UPDATE re-checks that each row is still due, so when two runners' deliverers race for a
    /// row, the one that waited for the other's lock finds it leased and skips it (no double delivery).
    static let postgresClaimDeliveries = """
        WITH lanes AS (
            SELECT p.id FROM channels c
            CROSS JOIN LATERAL (
                SELECT o.id FROM outbox o
                WHERE o.channel_id = c.id AND o.delivered_at IS NULL AND o.dead_at IS NULL AND o.next_attempt_at <= ?1
                  AND NOT EXISTS (
                      SELECT 1 FROM outbox q
                      WHERE q.channel_id = o.channel_id AND q.monitor_id IS NOT DISTINCT FROM o.monitor_id AND q.id < o.id
                        AND q.delivered_at IS NULL AND q.dead_at IS NULL)
                ORDER BY o.id LIMIT ?4) p
            WHERE c.enabled = 1 AND c.id NOT IN (SELECT value::bigint FROM jsonb_array_elements_text(?5::jsonb))
            ORDER BY p.id LIMIT ?3)
        UPDATE outbox SET attempts = attempts + 1, next_attempt_at = ?2
        WHERE id IN (SELECT id FROM lanes) AND delivered_at IS NULL AND dead_at IS NULL AND next_attempt_at <= ?1
        RETURNING \(SQLStore.outboxColumns)
        """
}
