/// A fault of the runner's own database (never of a monitored target). Stable codes, human message.
public struct StoreError: Error, Sendable, Hashable, CustomStringConvertible {
    /// What kind of fault.
    public enum Code: String, Sendable, Hashable {
        /// Another writer held the database longer than the busy timeout.
        case busy
        /// The database does not exist, cannot be opened or is not a database.
        case unavailable
        /// The database has not been migrated, or was migrated by a newer uptick.
        case schema
        /// A constraint failed (for example a duplicate monitor key).
        case constraint
        /// No such row.
        case notFound = "not_found"
        /// Any other SQL error.
        case failed
    }

    /// The kind of fault (stable).
    public var code: Code
    /// One line for a person.
    public var message: String

    /// A fault of `code`, explained by `message`.
    public init(_ code: Code, _ message: String) {
        self.code = code
        self.message = message
    }

    /// The message.
    public var description: String { message }
}
