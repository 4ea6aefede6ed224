/// What one check of one target found. Target faults are data here, never thrown errors.
public struct CheckResult: Sendable, Hashable, Codable {
    /// The verdict.
    public var status: CheckStatus
    /// Set whenever `status` is not `up`.
    public var errorClass: ErrorClass?
    /// A short human explanation.
    public var message: String?
    /// The final HTTP status code, for HTTP checks that got one.
    public var httpStatus: Int?
    /// Where the time went, phase by phase.
    public var timings: PhaseTimings
    /// The whole check, in microseconds.
    public var durationMicroseconds: Int64
    /// Redirects followed and other findings; `nil` when there are none.
    public var details: CheckDetails?

    /// A result as a probe reports it.
    public init(
        status: CheckStatus, errorClass: ErrorClass? = nil, message: String? = nil, httpStatus: Int? = nil,
        timings: PhaseTimings = PhaseTimings(), durationMicroseconds: Int64, details: CheckDetails? = nil
    ) {
        self.status = status
        self.errorClass = errorClass
        self.message = message
        self.httpStatus = httpStatus
        self.timings = timings
        self.durationMicroseconds = durationMicroseconds
        self.details = details
    }

    /// A `down` result of class `errorClass`.
    public static func down(_ errorClass: ErrorClass, _ message: String, durationMicroseconds: Int64 = 0) -> CheckResult {
        CheckResult(status: .down, errorClass: errorClass, message: message, durationMicroseconds: durationMicroseconds)
    }
}
