/// What kind of check a monitor runs. Stored as text in `monitors.type`.
public enum MonitorType: String, Sendable, Codable, CaseIterable {
    /// An HTTP(S) request: status, keyword, latency.
    case http
    /// An ICMP echo.
    case ping
    /// A TCP connect to host:port.
    case port
    /// A name lookup (A/AAAA), optionally required to return expected addresses.
    case dns
}
