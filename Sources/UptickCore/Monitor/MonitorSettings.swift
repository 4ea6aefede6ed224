/// The JSON object in `monitors.settings`. Every field is optional; unknown fields are ignored so the
/// backend can add its own without breaking the runner.
public struct MonitorSettings: Sendable, Hashable, Codable {
    /// HTTP method; default `GET`.
    public var method: String?
    /// Request headers, in order.
    public var headers: [Header]?
    /// Request body, sent as is.
    public var body: String?
    /// Acceptable status codes after redirects; default `200-299`.
    public var expectedStatus: StatusCodeSet?
    /// Text that must appear in the first 10 KB of the body.
    public var keyword: String?
    /// Text that must not appear in the first 10 KB of the body.
    public var keywordAbsent: String?
    /// Slower than this (milliseconds) is `degraded`; for ping, the average round trip.
    public var degradedAfterMilliseconds: Int64?
    /// Echo requests per ping check (1…10, default 3).
    public var pingCount: Int?
    /// Validate the certificate chain and host name (default true). Off accepts any certificate.
    public var tlsVerify: Bool?
    /// Below this many days until the certificate expires, the check is `tls_expiry_status` (default 14; 0: never).
    public var tlsExpiryDays: Int?
    /// `degraded` (default) or `down`, for a certificate that expires within `tls_expiry_days`.
    public var tlsExpiryStatus: String?
    /// Port checks: also make a TLS handshake after connecting.
    public var tls: Bool?
    /// DNS check: `A`, `AAAA` or `ANY` (default).
    public var dnsRecord: String?
    /// DNS check: addresses that must all be among the answers.
    public var dnsExpect: [String]?
    /// Alerting (see ``AlertPolicy``): checks at least this bad before the status gets worse (default 2).
    public var failureThreshold: Int?
    /// Checks at least this good before the status gets better (default 1).
    public var recoveryThreshold: Int?
    /// Announce `degraded` (default true).
    public var notifyDegraded: Bool?
    /// More than this many status changes within `flap_window_minutes` is flapping (default 5; 0: off).
    public var flapThreshold: Int?
    /// The window in which changes count for flapping (`flap_window`).
    public var flapWindowMinutes: Int?
    /// Remind of an open incident this often (default: never).
    public var reminderMinutes: Int?
    /// Periods during which alerts are held.
    public var maintenance: [MaintenanceWindow]?
    /// Shown on the status page, its badges and the unauthenticated JSON API (default false: nothing is shown).
    public var isPublic: Bool?

    /// One request header.
    public struct Header: Sendable, Hashable, Codable {
        /// The header name.
        public var name: String
        /// The header value.
        public var value: String
        /// The header `name: value`.
        public init(name: String, value: String) {
            self.name = name
            self.value = value
        }
    }

    enum CodingKeys: String, CodingKey {
        case method, headers, body, keyword
        case expectedStatus = "expected_status"
        case keywordAbsent = "keyword_absent"
        case degradedAfterMilliseconds = "degraded_after_ms"
        case pingCount = "ping_count"
        case tls
        case tlsVerify = "tls_verify"
        case tlsExpiryDays = "tls_expiry_days"
        case tlsExpiryStatus = "tls_expiry_status"
        case dnsRecord = "dns_record"
        case dnsExpect = "dns_expect"
        case failureThreshold = "failure_threshold"
        case recoveryThreshold = "recovery_threshold"
        case notifyDegraded = "notify_degraded"
        case flapThreshold = "flap_threshold"
        case flapWindowMinutes = "flap_window_minutes"
        case reminderMinutes = "reminder_minutes"
        case maintenance
        case isPublic = "public"
    }

    /// Settings as stored; every field is optional and `nil` means the default.
    public init(
        method: String? = nil, headers: [Header]? = nil, body: String? = nil, expectedStatus: StatusCodeSet? = nil,
        keyword: String? = nil, keywordAbsent: String? = nil, degradedAfterMilliseconds: Int64? = nil, pingCount: Int? = nil,
        dnsRecord: String? = nil, dnsExpect: [String]? = nil, tls: Bool? = nil, tlsVerify: Bool? = nil,
        tlsExpiryDays: Int? = nil, tlsExpiryStatus: String? = nil, failureThreshold: Int? = nil, recoveryThreshold: Int? = nil,
        notifyDegraded: Bool? = nil, flapThreshold: Int? = nil, flapWindowMinutes: Int? = nil, reminderMinutes: Int? = nil,
        maintenance: [MaintenanceWindow]? = nil, isPublic: Bool? = nil
    ) {
        self.method = method
        self.headers = headers
        self.body = body
        self.expectedStatus = expectedStatus
        self.keyword = keyword
        self.keywordAbsent = keywordAbsent
        self.degradedAfterMilliseconds = degradedAfterMilliseconds
        self.pingCount = pingCount
        self.dnsRecord = dnsRecord
        self.dnsExpect = dnsExpect
        self.tls = tls
        self.tlsVerify = tlsVerify
        self.tlsExpiryDays = tlsExpiryDays
        self.tlsExpiryStatus = tlsExpiryStatus
        self.failureThreshold = failureThreshold
        self.recoveryThreshold = recoveryThreshold
        self.notifyDegraded = notifyDegraded
        self.flapThreshold = flapThreshold
        self.flapWindowMinutes = flapWindowMinutes
        self.reminderMinutes = reminderMinutes
        self.maintenance = maintenance
        self.isPublic = isPublic
    }
}
