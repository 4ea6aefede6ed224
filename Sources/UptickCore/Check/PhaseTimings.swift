/// How long each phase of a check took, in microseconds; `nil` for phases that did not happen.
public struct PhaseTimings: Sendable, Hashable, Codable {
    public var dnsMicroseconds: Int64?
    public var connectMicroseconds: Int64?
    public var tlsMicroseconds: Int64?
    /// From sending the request to the first byte of the response.
    public var firstByteMicroseconds: Int64?

    public init(dnsMicroseconds: Int64? = nil, connectMicroseconds: Int64? = nil, tlsMicroseconds: Int64? = nil, firstByteMicroseconds: Int64? = nil) {
        self.dnsMicroseconds = dnsMicroseconds
        self.connectMicroseconds = connectMicroseconds
        self.tlsMicroseconds = tlsMicroseconds
        self.firstByteMicroseconds = firstByteMicroseconds
    }
}
