/// The hard limits every check obeys, whatever a monitor asks for.
public enum Limits {
    /// The longest a check may take, from the first DNS query to the last byte read.
    public static let maxTimeoutMilliseconds: Int64 = 10_000
    /// The shortest interval between two slots of one monitor.
    public static let minIntervalSeconds: Int64 = 1
    /// The most body bytes read from a response; the connection is closed after that.
    public static let maxBodyBytes = 10 * 1024
    /// The most bytes of response headers accepted (all fields together); a larger head is a `protocol` error.
    public static let maxResponseHeaderBytes = 16 * 1024
    /// The most response header fields accepted.
    public static let maxResponseHeaderFields = 100
    /// Echo requests per ping check: the default and the most.
    public static let defaultPingCount = 3
    /// Echo requests one ping check may send, at most.
    public static let maxPingCount = 10
    /// The most redirects followed.
    public static let maxRedirects = 3
}
