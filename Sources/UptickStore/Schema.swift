import UptickCore

/// The versioned schema shared with the backend API. docs/schema.md documents every column.
///
/// Rules: a migration only adds (tables, columns, indexes); it never drops or rewrites a column the
/// backend owns. Every statement is idempotent (`IF NOT EXISTS`), and each migration commits together
/// with its row in `schema_migrations`, so a crash mid-way leaves the database as it was.
public enum Schema {
    /// One step of the schema.
    public struct Migration: Sendable {
        /// The migration's number, in order.
        public var version: Int64
        /// What it does, for `schema_migrations`.
        public var name: String
        /// What it runs.
        public var steps: [Step]
    }

    /// One change. SQLite has no `ADD COLUMN IF NOT EXISTS`, so adding a column is its own step that
    /// the migrator skips when the column is already there.
    public enum Step: Sendable {
        case sql(String)
        case addColumn(table: String, column: String, definition: String)
    }

    /// Milliseconds since the epoch, in SQL that works on SQLite 3.35+ and libSQL.
    static let nowMilliseconds = "(CAST((julianday('now') - 2440587.5) * 86400000 AS INTEGER))"

    /// All migrations, oldest first.
    public static let migrations: [Migration] = [
        Migration(version: 1, name: "monitors and checks", steps: [
            .sql("""
            CREATE TABLE IF NOT EXISTS monitors (
                id INTEGER PRIMARY KEY,
                key TEXT UNIQUE,
                name TEXT NOT NULL DEFAULT '',
                type TEXT NOT NULL,
                target TEXT NOT NULL,
                interval_seconds INTEGER NOT NULL DEFAULT 60,
                timeout_ms INTEGER NOT NULL DEFAULT 10000,
                settings TEXT NOT NULL DEFAULT '{}',
                enabled INTEGER NOT NULL DEFAULT 1,
                status TEXT NOT NULL DEFAULT 'pending',
                last_checked_at INTEGER,
                next_check_at INTEGER,
                lease_until INTEGER,
                consecutive_failures INTEGER NOT NULL DEFAULT 0,
                consecutive_successes INTEGER NOT NULL DEFAULT 0,
                status_changed_at INTEGER,
                created_at INTEGER NOT NULL DEFAULT \(nowMilliseconds),
                updated_at INTEGER NOT NULL DEFAULT \(nowMilliseconds)
            ) STRICT
            """),
            // Partial: only enabled monitors are ever claimed, so disabled ones cost the claim nothing.
            .sql("CREATE INDEX IF NOT EXISTS idx_monitors_due ON monitors(next_check_at) WHERE enabled = 1"),
            .sql("""
            CREATE TABLE IF NOT EXISTS checks (
                id INTEGER PRIMARY KEY,
                monitor_id INTEGER NOT NULL,
                scheduled_at INTEGER NOT NULL,
                started_at INTEGER NOT NULL,
                duration_us INTEGER NOT NULL,
                status TEXT NOT NULL,
                error_class TEXT,
                message TEXT,
                http_status INTEGER,
                dns_us INTEGER,
                connect_us INTEGER,
                tls_us INTEGER,
                ttfb_us INTEGER,
                runner TEXT NOT NULL
            ) STRICT
            """),
            // One result per monitor and slot: persisting is idempotent (INSERT OR IGNORE), so a batch
            // retried after a lost acknowledgement or replayed from the spool never duplicates rows.
            // It also serves history and uptime queries, which read a monitor's slots in order.
            .sql("CREATE UNIQUE INDEX IF NOT EXISTS idx_checks_monitor_slot ON checks(monitor_id, scheduled_at)"),
        ]),
        Migration(version: 2, name: "check details", steps: [
            // JSON: redirects followed, TLS certificate, ping statistics (docs/schema.md).
            .addColumn(table: "checks", column: "details", definition: "TEXT"),
        ]),
        Migration(version: 3, name: "alerting", steps: [
            // The status logic's memory (docs/alerting.md), written by the runner with each result.
            .addColumn(table: "monitors", column: "recent_verdicts", definition: "TEXT NOT NULL DEFAULT ''"),
            .addColumn(table: "monitors", column: "notified_status", definition: "TEXT"),
            .addColumn(table: "monitors", column: "notified_at", definition: "INTEGER"),
            .addColumn(table: "monitors", column: "incident_opened_at", definition: "INTEGER"),
            .addColumn(table: "monitors", column: "announced_incident_at", definition: "INTEGER"),
            .addColumn(table: "monitors", column: "flapping_since", definition: "INTEGER"),
            .addColumn(table: "monitors", column: "status_changes", definition: "TEXT NOT NULL DEFAULT ''"),
            .sql("""
            CREATE TABLE IF NOT EXISTS incidents (
                id INTEGER PRIMARY KEY,
                monitor_id INTEGER NOT NULL,
                opened_at INTEGER NOT NULL,
                resolved_at INTEGER,
                cause_class TEXT,
                cause_message TEXT,
                UNIQUE (monitor_id, opened_at)
            ) STRICT
            """),
            .sql("CREATE INDEX IF NOT EXISTS idx_incidents_open ON incidents(monitor_id) WHERE resolved_at IS NULL"),
            .sql("""
            CREATE TABLE IF NOT EXISTS channels (
                id INTEGER PRIMARY KEY,
                name TEXT NOT NULL UNIQUE,
                type TEXT NOT NULL,
                config TEXT NOT NULL DEFAULT '{}',
                is_default INTEGER NOT NULL DEFAULT 0,
                enabled INTEGER NOT NULL DEFAULT 1,
                created_at INTEGER NOT NULL DEFAULT \(nowMilliseconds)
            ) STRICT
            """),
            .sql("""
            CREATE TABLE IF NOT EXISTS monitor_channels (
                monitor_id INTEGER NOT NULL,
                channel_id INTEGER NOT NULL,
                PRIMARY KEY (monitor_id, channel_id)
            ) STRICT, WITHOUT ROWID
            """),
            // One row per event and channel. UNIQUE(event_id, channel_id) makes recording idempotent.
            .sql("""
            CREATE TABLE IF NOT EXISTS outbox (
                id INTEGER PRIMARY KEY,
                event_id TEXT NOT NULL,
                monitor_id INTEGER,
                incident_id INTEGER,
                kind TEXT NOT NULL,
                payload TEXT NOT NULL,
                channel_id INTEGER NOT NULL,
                created_at INTEGER NOT NULL,
                attempts INTEGER NOT NULL DEFAULT 0,
                next_attempt_at INTEGER NOT NULL,
                delivered_at INTEGER,
                dead_at INTEGER,
                last_error TEXT,
                retried_at INTEGER,
                UNIQUE (event_id, channel_id)
            ) STRICT
            """),
            .sql("CREATE INDEX IF NOT EXISTS idx_outbox_due ON outbox(next_attempt_at) WHERE delivered_at IS NULL AND dead_at IS NULL"),
            .sql("CREATE INDEX IF NOT EXISTS idx_outbox_chain ON outbox(channel_id, monitor_id, id) WHERE delivered_at IS NULL AND dead_at IS NULL"),
        ]),
        // A channel's pending rows in order: the deliverer claims each channel's lane up to its free slots.
        Migration(version: 4, name: "outbox lanes", steps: [
            .sql("CREATE INDEX IF NOT EXISTS idx_outbox_lane ON outbox(channel_id, id) WHERE delivered_at IS NULL AND dead_at IS NULL"),
        ]),
        // Hourly and daily aggregates (docs/schema.md), kept by the results' transaction and backfilled here from the
        // checks already stored; and the public monitors, which the status page lists, in their own small index.
        Migration(version: 5, name: "rollups", steps: [
            .sql("""
            CREATE TABLE IF NOT EXISTS rollups (
                monitor_id INTEGER NOT NULL,
                period_ms INTEGER NOT NULL,
                period_start INTEGER NOT NULL,
                up INTEGER NOT NULL,
                degraded INTEGER NOT NULL,
                down INTEGER NOT NULL,
                duration_sum_us INTEGER NOT NULL,
                duration_max_us INTEGER NOT NULL,
                \((0..<LatencyHistogram.bucketCount).map { "b\($0) INTEGER NOT NULL" }.joined(separator: ",\n    ")),
                PRIMARY KEY (monitor_id, period_ms, period_start)
            ) STRICT, WITHOUT ROWID
            """),
            // Retention deletes by period, and cross-monitor windows read by it.
            .sql("CREATE INDEX IF NOT EXISTS idx_rollups_period ON rollups(period_ms, period_start)"),
            .sql(SQLStore.rollupBackfill),
            .sql("CREATE INDEX IF NOT EXISTS idx_monitors_public ON monitors(id) WHERE \(SQLDialect.sqlite.publicMonitor)"),
        ]),
    ]

    /// The version this build of uptick needs.
    public static var latestVersion: Int64 { migrations.last?.version ?? 0 }
}
