/// What a library call of uptick's application layer reports: bad input from a person (a flag, a setting, a
/// monitor definition, a file), or a fault of the runner's own surroundings (its database, its spool). The
/// command line turns the kind into an exit status; a Lambda or a backend API into its own answer.
package struct UptickError: Error, Sendable, Hashable, CustomStringConvertible {
    /// Whose problem it is.
    package enum Kind: Sendable, Hashable {
        /// The input is wrong: fixing it is the caller's job.
        case invalidInput
        /// The runner's surroundings failed (database missing, locked or broken; a spool that cannot be written).
        case runtime
    }

    package var kind: Kind
    /// One line, for a person.
    package var message: String

    package init(_ message: String, kind: Kind = .invalidInput) {
        self.message = message
        self.kind = kind
    }

    package var description: String { message }
}
