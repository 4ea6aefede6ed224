/// A statement as a value: SQL text with `?` placeholders and its arguments.
///
/// The store builds statements; an ``SQLExecutor`` runs a list of them as one unit, so a network
/// database needs one round trip per list, whatever its length.
public struct SQLStatement: Sendable, Hashable {
    /// The text, with `?` or `?N` placeholders.
    public var sql: String
    /// The values of the placeholders, in order.
    public var arguments: [SQLValue]

    /// A statement with its arguments.
    public init(_ sql: String, _ arguments: [SQLValue] = []) {
        self.sql = sql
        self.arguments = arguments
    }
}

/// The rows one statement returned.
public struct SQLRows: Sendable, Hashable {
    /// The result's column names.
    public var columns: [String]
    /// The rows, values in column order (see ``named`` to read them by name).
    public var rows: [[SQLValue]]

    /// Rows as an executor returns them.
    public init(columns: [String], rows: [[SQLValue]]) {
        self.columns = columns
        self.rows = rows
    }

    /// Rows changed by an INSERT, UPDATE or DELETE (SQLite's `changes()`), when the executor reports it.
    public var changes: Int64 = 0
}
