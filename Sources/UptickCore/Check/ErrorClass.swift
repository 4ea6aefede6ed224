/// Why a check was not `up`: a stable code that alerting, dashboards and users can switch on.
/// Stored in `checks.error_class`; the list is documented in docs/schema.md.
public enum ErrorClass: String, Sendable, Codable, CaseIterable {
    /// The monitor row cannot be turned into a check (unknown type, bad settings JSON, bad interval or timeout).
    case invalidMonitor = "invalid_monitor"
    /// The target cannot be parsed (malformed URL or host:port).
    case invalidTarget = "invalid_target"
    /// The address policy forbids every address the target resolves to (SSRF guard; docs/security.md).
    case blocked
    /// The name did not resolve.
    case dns
    /// A DNS check's answers did not include every expected address.
    case dnsMismatch = "dns_mismatch"
    /// The connection was refused.
    case refused
    /// No answer within the deadline.
    case timeout
    /// The network or host is unreachable.
    case unreachable
    /// The peer reset or closed the connection before answering.
    case reset
    /// The TLS handshake failed (no common protocol or cipher, not TLS at all, aborted).
    case tls
    /// The certificate is not valid: untrusted or self-signed chain, expired, or not for this host name.
    case certificate
    /// The certificate is valid but expires within the monitor's `tls_expiry_days`.
    case certificateExpiry = "certificate_expiry"
    /// The peer spoke something that is not the expected protocol.
    case `protocol`
    /// The HTTP status was not an expected one.
    case httpStatus = "http_status"
    /// Too many redirects, or a redirect to something that is not an http(s) URL.
    case redirects
    /// A required keyword was missing, or a forbidden one present.
    case keyword
    /// Some echo requests of a ping check got no reply (status `degraded`; none back is `timeout`).
    case packetLoss = "packet_loss"
    /// Slower than the monitor's degraded threshold (status `degraded`).
    case slow
    /// This runner cannot run this kind of check (for example ICMP where sockets are denied).
    case unsupported
    /// Any other failure, with details in the message.
    case other
}
