/// How a check judges TLS: whether to validate the certificate, and when its expiry is worth a warning.
public struct TLSCheck: Sendable, Hashable {
    /// Validate the chain against the trust roots and the certificate against the host name.
    public var verify: Bool
    /// Fewer days than this until expiry makes the check `expiryStatus`; 0 never does.
    public var expiryDays: Int
    /// `degraded` or `down`.
    public var expiryStatus: CheckStatus

    /// Defaults: verify, warn (degraded) below 14 days.
    public static let standard = TLSCheck(verify: true, expiryDays: 14, expiryStatus: .degraded)

    /// TLS expectations: chain validation, the days of validity that count as expiring, and the status then.
    public init(verify: Bool, expiryDays: Int, expiryStatus: CheckStatus) {
        self.verify = verify
        self.expiryDays = expiryDays
        self.expiryStatus = expiryStatus
    }

    /// From a monitor's settings.
    public init(settings: MonitorSettings) throws(CheckFailure) {
        let days = settings.tlsExpiryDays ?? Self.standard.expiryDays
        guard (0...3650).contains(days) else {
            throw CheckFailure(.invalidMonitor, "tls_expiry_days must be between 0 and 3650, got \(days)")
        }
        let status: CheckStatus
        switch settings.tlsExpiryStatus ?? "degraded" {
        case "degraded": status = .degraded
        case "down": status = .down
        case let other: throw CheckFailure(.invalidMonitor, "tls_expiry_status must be degraded or down, got '\(other)'")
        }
        self.init(verify: settings.tlsVerify ?? true, expiryDays: days, expiryStatus: status)
    }
}
