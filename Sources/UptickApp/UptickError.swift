/// What a library call of uptick's application layer reports: bad input from a person (a flag, a setting, a
/// monitor definition, a file), or a fault of the runner's own surroundings (its database, its spool). The
/// command line turns the kind into an exit status; a Lambda or a backend API into its own answer.
public struct UptickError: Error, Sendable, Hashable, CustomStringConvertible {
    /// Whose problem it is.
    public enum Kind: Sendable, Hashable {
        /// The input is wrong: fixing it is the caller's job.
        case invalidInput
        /// The runner's surroundings failed (database missing, locked or broken; a spool that cannot be written).
        case runtime
    }

    public var kind: Kind
    /// One line, for a person.
    public var message: String

    public init(_ message: String, kind: Kind = .invalidInput) {
        self.message = message
        self.kind = kind
    }

    public var description: String { message }
}
