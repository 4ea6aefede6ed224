/// What a check found beyond its verdict and timings; stored as JSON in `checks.details`.
public struct CheckDetails: Sendable, Hashable, Codable {
    /// Every URL requested after the first, in order (HTTP redirects followed).
    public var redirects: [String]?
    /// Echo statistics of a ping check.
    public var ping: PingStatistics?
    /// The public addresses a DNS check got back.
    public var answers: [String]?
    /// The TLS session of an https or TLS port check.
    public var tls: TLSDetails?

    /// Details as recorded; each is `nil` when the check type has none.
    public init(redirects: [String]? = nil, ping: PingStatistics? = nil, answers: [String]? = nil, tls: TLSDetails? = nil) {
        self.redirects = redirects
        self.ping = ping
        self.answers = answers
        self.tls = tls
    }

    /// Whether there is nothing to store.
    public var isEmpty: Bool { redirects == nil && ping == nil && answers == nil && tls == nil }
}

/// The leaf certificate and protocol of a TLS session.
public struct TLSDetails: Sendable, Hashable, Codable {
    /// When the leaf certificate expires.
    public var notAfter: EpochMilliseconds
    /// Whole days from the check to `notAfter` (negative once expired).
    public var daysLeft: Int
    /// `TLSv1.2`, `TLSv1.3`.
    public var version: String?
    /// Whether the chain and host name were validated (false when the monitor turned validation off).
    public var verified: Bool

    enum CodingKeys: String, CodingKey {
        case version, verified
        case notAfter = "not_after"
        case daysLeft = "days_left"
    }

    /// Details as recorded; each is `nil` when the check type has none.
    public init(notAfter: EpochMilliseconds, daysLeft: Int, version: String?, verified: Bool) {
        self.notAfter = notAfter
        self.daysLeft = daysLeft
        self.version = version
        self.verified = verified
    }
}

/// What a ping check sent and got back.
public struct PingStatistics: Sendable, Hashable, Codable {
    /// The address pinged.
    public var address: String
    /// Echo requests sent.
    public var sent: Int
    /// Echo replies received.
    public var received: Int
    /// Requests without a reply, in percent.
    public var lossPercent: Double
    /// Round-trip times in microseconds; `nil` without replies.
    public var rttMinMicroseconds: Int64?
    /// The mean round trip of the replies.
    public var rttAvgMicroseconds: Int64?
    /// The slowest round trip.
    public var rttMaxMicroseconds: Int64?

    enum CodingKeys: String, CodingKey {
        case address, sent, received
        case lossPercent = "loss_percent"
        case rttMinMicroseconds = "rtt_min_us"
        case rttAvgMicroseconds = "rtt_avg_us"
        case rttMaxMicroseconds = "rtt_max_us"
    }

    /// Details as recorded; each is `nil` when the check type has none.
    public init(address: String, sent: Int, roundTrips: [Int64]) {
        self.address = address
        self.sent = sent
        self.received = roundTrips.count
        self.lossPercent = sent == 0 ? 100 : Double(sent - roundTrips.count) * 100 / Double(sent)
        self.rttMinMicroseconds = roundTrips.min()
        self.rttMaxMicroseconds = roundTrips.max()
        self.rttAvgMicroseconds = roundTrips.isEmpty ? nil : roundTrips.reduce(0, +) / Int64(roundTrips.count)
    }
}
