/// How long each phase of a check took, in microseconds; `nil` for phases that did not happen.
public struct PhaseTimings: Sendable, Hashable, Codable {
    /// Name resolution.
    public var dnsMicroseconds: Int64?
    /// The TCP connect.
    public var connectMicroseconds: Int64?
    /// The TLS handshake.
    public var tlsMicroseconds: Int64?
    /// From sending the request to the first byte of the response.
    public var firstByteMicroseconds: Int64?

    /// Phase durations, `nil` for a phase that did not happen.
    public init(dnsMicroseconds: Int64? = nil, connectMicroseconds: Int64? = nil, tlsMicroseconds: Int64? = nil, firstByteMicroseconds: Int64? = nil) {
        self.dnsMicroseconds = dnsMicroseconds
        self.connectMicroseconds = connectMicroseconds
        self.tlsMicroseconds = tlsMicroseconds
        self.firstByteMicroseconds = firstByteMicroseconds
    }
}
