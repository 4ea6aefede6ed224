/// The few places where uptick's SQL depends on the database engine, in one value. ``SQLStore`` writes every
/// statement once, in the common subset (`RETURNING`, CTEs, `UPDATE … FROM`, numbered `?N` parameters), and asks
/// its dialect for the rest. SQLite and libSQL (the same engine behind HTTP) share ``sqlite``; another engine
/// adds a value of its own (and the executor renders the parameters as it needs) without touching SQLite's SQL.
public struct SQLDialect: Sendable {
    /// For messages.
    public var name: String
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
        name: "SQLite",
        insertIgnoringPrefix: "INSERT OR IGNORE INTO", insertIgnoringSuffix: "",
        greatest: "MAX", least: "MIN",
        tableExists: { SQLStatement("SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name = ?", [.text($0)]) },
        columnExists: { SQLStatement("SELECT count(*) FROM pragma_table_info(?) WHERE name = ?", [.text($0), .text($1)]) },
        claimDeliveries: SQLStore.sqliteClaimDeliveries,
        publicMonitor: "(CASE WHEN json_valid(settings) THEN json_extract(settings, '$.public') IS 1 ELSE 0 END) = 1"
    )

    /// `INSERT … INTO table body`, skipping rows that break a unique constraint.
    func insertIgnoring(into table: String, _ body: String) -> String {
        "\(insertIgnoringPrefix) \(table) \(body)\(insertIgnoringSuffix)"
    }
}
