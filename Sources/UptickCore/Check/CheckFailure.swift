/// Why a check is not `up`, before or during the check: a stable class and a short human message.
///
/// Thrown when a monitor row cannot be decoded (``CheckSpec/init(monitor:)``) and by the network layer;
/// probes turn it into a `down` ``CheckResult``.
public struct CheckFailure: Error, Sendable, Hashable, CustomStringConvertible {
    /// The stable class of the failure (what alerts and metrics group by).
    public var errorClass: ErrorClass
    /// One line for a person.
    public var message: String

    /// A failure of `errorClass`, explained by `message`.
    public init(_ errorClass: ErrorClass, _ message: String) {
        self.errorClass = errorClass
        self.message = message
    }

    /// The message.
    public var description: String { message }
}
