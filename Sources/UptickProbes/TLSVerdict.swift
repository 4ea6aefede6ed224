import Foundation
import UptickCore
import UptickNet

/// Judges a TLS session's certificate expiry against a monitor's threshold.
enum TLSVerdict {
    /// Records the session in `result.details` and, if the certificate expires within the threshold, lowers an
    /// `up` or `degraded` result to the configured status. A result that is already `down` keeps its cause.
    static func apply(_ session: TLSSession, _ check: TLSCheck, to result: inout CheckResult, now: Date = Date()) {
        let secondsLeft = Double(session.notAfter) - now.timeIntervalSince1970
        let daysLeft = Int((secondsLeft / 86_400).rounded(.down))
        var details = result.details ?? CheckDetails()
        details.tls = TLSDetails(notAfter: session.notAfter * 1000, daysLeft: daysLeft, version: session.version, verified: session.verified)
        result.details = details
        guard result.status != .down, check.expiryDays > 0, daysLeft < check.expiryDays else { return }
        result.status = check.expiryStatus
        result.errorClass = .certificateExpiry
        result.message = daysLeft < 0
            ? "certificate expired \(-daysLeft) days ago (not validated)"
            : "certificate expires in \(daysLeft) days (threshold \(check.expiryDays))"
    }
}
