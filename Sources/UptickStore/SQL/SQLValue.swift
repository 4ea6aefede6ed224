/// One SQL value, as SQLite and libSQL type it.
public enum SQLValue: Sendable, Hashable {
    case null
    case integer(Int64)
    case real(Double)
    case text(String)
    case blob([UInt8])

    /// The integer, or `nil` for anything else.
    public var integer: Int64? {
        if case .integer(let value) = self { return value }
        return nil
    }

    /// The text, or `nil` for anything else.
    public var text: String? {
        if case .text(let value) = self { return value }
        return nil
    }

    /// The number as a `Double`, for integer and real values.
    public var real: Double? {
        switch self {
        case .integer(let value): Double(value)
        case .real(let value): value
        default: nil
        }
    }
}

extension SQLValue {
    /// `.integer(value)` or `.null`.
    public init(_ value: Int64?) { self = value.map(SQLValue.integer) ?? .null }
    /// `.text(value)` or `.null`.
    public init(_ value: String?) { self = value.map(SQLValue.text) ?? .null }
}
