/// The few places where uptick's SQL depends on the database engine, in one value. ``SQLStore`` writes every
/// statement once, in the common subset (`RETURNING`, CTEs, `UPDATE … FROM`, numbered `?N` parameters), and asks
/// its dialect for the rest. SQLite and libSQL (the same engine behind HTTP) share ``sqlite``; PostgreSQL has
/// ``postgres`` (its executor renders the placeholders as `$N`), and SQLite's SQL is untouched by it.
///
/// Where the difference is one of shape, not spelling, the store switches on ``engine``: PostgreSQL gets a claim and a
/// persist of a constant number of statements (each is one round trip there), SQLite its proven statement lists.
public struct SQLDialect: Sendable {
    /// The engines whose statements differ in shape.
    public enum Engine: Sendable {
        case sqlite, postgres
    }

    /// For messages.
    public var name: String
    /// Which engine.
    public var engine: Engine
    /// Rows per statement built from many rows: SQLite binds each value (500 × 14 stays far below its 32 766
    /// variables); PostgreSQL binds each column as one array, so one statement takes any number of rows.
    var rowsPerStatement: Int
    /// `schema_migrations` itself.
    var createMigrationsTable: String
    /// An INSERT that skips rows that would break a unique constraint: the statement's start, before the table…
    var insertIgnoringPrefix: String
    /// …and its end, after the values or the SELECT.
    var insertIgnoringSuffix: String
    /// The scalar (two-argument) greatest and least functions.
    var greatest: String
    var least: String
    /// One row, one integer: 1 if the table exists.
    var tableExists: @Sendable (_ table: String) -> SQLStatement
    /// One row, one integer: 1 if the table has the column.
    var columnExists: @Sendable (_ table: String, _ column: String) -> SQLStatement
    /// Rows claimed for delivery in one statement: its lanes are a JSON array of ids per channel in SQLite.
    var claimDeliveries: String
    /// True for a monitor whose settings say `"public": true` (the status page's), false for any other, malformed
    /// settings included: an error here would refuse the backend's INSERT of a malformed monitor.
    var publicMonitor: String

    /// SQLite 3.35+ (and libSQL).
    public static let sqlite = SQLDialect(
        name: "SQLite", engine: .sqlite, rowsPerStatement: 500,
        createMigrationsTable: """
            CREATE TABLE IF NOT EXISTS schema_migrations (
                version INTEGER PRIMARY KEY,
                name TEXT NOT NULL,
                applied_at INTEGER NOT NULL
            ) STRICT
            """,
        insertIgnoringPrefix: "INSERT OR IGNORE INTO", insertIgnoringSuffix: "",
        greatest: "MAX", least: "MIN",
        tableExists: { SQLStatement("SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name = ?", [.text($0)]) },
        columnExists: { SQLStatement("SELECT count(*) FROM pragma_table_info(?) WHERE name = ?", [.text($0), .text($1)]) },
        claimDeliveries: SQLStore.sqliteClaimDeliveries,
        publicMonitor: "(CASE WHEN json_valid(settings) THEN json_extract(settings, '$.public') IS 1 ELSE 0 END) = 1"
    )

    /// PostgreSQL 13+.
    public static let postgres = SQLDialect(
        name: "PostgreSQL", engine: .postgres, rowsPerStatement: .max,
        createMigrationsTable: """
            CREATE TABLE IF NOT EXISTS schema_migrations (
                version BIGINT PRIMARY KEY,
                name TEXT NOT NULL,
                applied_at BIGINT NOT NULL
            )
            """,
        insertIgnoringPrefix: "INSERT INTO", insertIgnoringSuffix: " ON CONFLICT DO NOTHING",
        greatest: "GREATEST", least: "LEAST",
        tableExists: {
            SQLStatement("SELECT count(*) FROM information_schema.tables WHERE table_schema = current_schema() AND table_name = ?", [.text($0)])
        },
        columnExists: {
            SQLStatement("""
                SELECT count(*) FROM information_schema.columns WHERE table_schema = current_schema() AND table_name = ? AND column_name = ?
                """, [.text($0), .text($1)])
        },
        claimDeliveries: SQLStore.postgresClaimDeliveries,
        publicMonitor: "uptick_public(settings)"
    )

    /// The migrations in this dialect.
    var migrations: [Schema.Migration] { engine == .postgres ? Schema.postgresMigrations : Schema.migrations }

    /// A column of many rows sent in one statement, typed for PostgreSQL's arrays.
    enum ColumnType: String {
        case bigint, text
    }

    /// `rows` as a table expression that can follow `INSERT INTO t (…)` or stand in `WITH r(…) AS (…)`: SQLite's
    /// `VALUES (?, …), …` with one placeholder per value, or PostgreSQL's `SELECT * FROM unnest(?::bigint[], …)`
    /// with one array literal per column.
    func rows(_ rows: [[SQLValue]], _ types: [ColumnType]) -> (sql: String, arguments: [SQLValue]) {
        switch engine {
        case .sqlite:
            return ("VALUES " + SQLStore.placeholders(rows: rows.count, columns: types.count), rows.flatMap { $0 })
        case .postgres:
            let arrays = types.indices.map { column in SQLValue.text(Self.arrayLiteral(rows.lazy.map { $0[column] })) }
            return ("SELECT * FROM unnest(\(types.map { "?::\($0.rawValue)[]" }.joined(separator: ", ")))", arrays)
        }
    }

    /// A PostgreSQL array literal (`{1,NULL,"a \\"b\\""}`) of the values: NULL bare, every other element quoted
    /// with `"` and `\\` escaped. PostgreSQL's text cannot hold NUL, which becomes U+FFFD (a hostile server's bytes
    /// must not make a batch impossible to commit).
    static func arrayLiteral(_ values: some Sequence<SQLValue>) -> String {
        var literal = "{"
        var first = true
        for value in values {
            if !first { literal += "," }
            first = false
            switch value {
            case .null: literal += "NULL"
            case .integer(let integer): literal += String(integer)
            case .real(let real): literal += "\(real)"
            case .text(let text):
                literal += "\""
                if text.utf8.contains(where: { $0 == UInt8(ascii: "\"") || $0 == UInt8(ascii: "\\") || $0 == 0 }) {
                    for character in text.unicodeScalars {
                        switch character {
                        case "\"", "\\": literal += "\\"; literal.unicodeScalars.append(character)
                        case "\u{0}": literal += "\u{FFFD}"
                        default: literal.unicodeScalars.append(character)
                        }
                    }
                } else {
                    literal += text
                }
                literal += "\""
            case .blob(let bytes):
                let digits = Array("0123456789abcdef".unicodeScalars)
                literal += "\"\\\\x"
                for byte in bytes { literal.unicodeScalars.append(digits[Int(byte >> 4)]); literal.unicodeScalars.append(digits[Int(byte & 15)]) }
                literal += "\""
            }
        }
        return literal + "}"
    }

    /// `INSERT … INTO table body`, skipping rows that break a unique constraint.
    func insertIgnoring(into table: String, _ body: String) -> String {
        "\(insertIgnoringPrefix) \(table) \(body)\(insertIgnoringSuffix)"
    }
}
