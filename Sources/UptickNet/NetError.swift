import UptickCore

/// A network failure, already classified for a check result.
public struct NetError: Error, Sendable, Hashable, CustomStringConvertible {
    public var errorClass: ErrorClass
    public var message: String

    public init(_ errorClass: ErrorClass, _ message: String) {
        self.errorClass = errorClass
        self.message = message
    }

    public var description: String { message }
}
