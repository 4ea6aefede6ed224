/// A failure the CLI reports as one line on stderr, with an exit code.
public struct CLIFailure: Error, Sendable, CustomStringConvertible {
    /// Exit code for bad input (BSD `EX_USAGE`).
    public static let usage: Int32 = 64
    /// Exit code for a runner fault (database missing, locked, broken).
    public static let runtime: Int32 = 1

    public var message: String
    public var exitCode: Int32

    public init(_ message: String, exitCode: Int32 = CLIFailure.usage) {
        self.message = message
        self.exitCode = exitCode
    }

    public var description: String { message }
}
