/// One row of a result, read by column name, so a query's column order is its own business.
public struct SQLRow: Sendable {
    let values: [SQLValue]
    let index: [String: Int]

    /// The value of `column`; `.null` when the row has no such column.
    public subscript(_ column: String) -> SQLValue {
        index[column].map { values[$0] } ?? .null
    }
}

extension SQLRows {
    /// The rows, each readable by column name (the names looked up once per result).
    public var named: [SQLRow] {
        let index = Dictionary(columns.enumerated().map { ($0.element, $0.offset) }, uniquingKeysWith: { first, _ in first })
        return rows.map { SQLRow(values: $0, index: index) }
    }
}
