import Foundation

/// A validated HTTP(S) check: where to send what, and what counts as success.
public struct HTTPCheck: Sendable, Hashable {
    /// `http` or `https`.
    public var scheme: String
    /// The URL's host.
    public var host: String
    /// The URL's port, or the scheme's.
    public var port: Int
    /// Path and query, starting with `/`.
    public var path: String
    /// The request method (`GET` unless set).
    public var method: String
    /// Request headers set by the monitor.
    public var headers: [MonitorSettings.Header]
    /// The request body.
    public var body: String?
    /// Status codes that count as up.
    public var expectedStatus: StatusCodeSet
    /// Text the first 10 KB of the body must contain.
    public var keyword: String?
    /// Text the first 10 KB of the body must not contain.
    public var keywordAbsent: String?
    /// How https is judged (unused for http).
    public var tls: TLSCheck

    /// Validates `url` and `settings`.
    public init(url: String, settings: MonitorSettings) throws(CheckFailure) {
        guard let components = URLComponents(string: url), let scheme = components.scheme?.lowercased(),
              scheme == "http" || scheme == "https" else {
            throw CheckFailure(.invalidTarget, "'\(url)' is not an http:// or https:// URL")
        }
        guard components.user == nil, components.password == nil else {
            throw CheckFailure(.invalidTarget, "'\(url)': credentials in the URL are not allowed; send an Authorization header")
        }
        // The ASCII form DNS is asked for: an IDNA name becomes its xn-- A-label (`host` would give Unicode).
        // Bracketed IPv6 literals come from the decoded form, which turns a %25 zone separator into %.
        var host = components.encodedHost ?? ""
        if host.hasPrefix("["), let literal = components.host, literal.hasPrefix("["), literal.hasSuffix("]") {
            host = String(literal.dropFirst().dropLast())
        }
        guard !host.isEmpty else { throw CheckFailure(.invalidTarget, "'\(url)' has no host") }
        let port = components.port ?? (scheme == "https" ? 443 : 80)
        guard (1...65535).contains(port) else { throw CheckFailure(.invalidTarget, "'\(url)' has an invalid port") }
        let method = (settings.method ?? "GET").uppercased()
        guard !method.isEmpty, method.allSatisfy({ $0.isLetter && $0.isASCII }) else {
            throw CheckFailure(.invalidMonitor, "'\(settings.method ?? "")' is not an HTTP method")
        }
        for header in settings.headers ?? [] {
            if !HeaderRules.isValidName(header.name) || !HeaderRules.isValidValue(header.value) {
                throw CheckFailure(.invalidMonitor, "header '\(header.name)' is not a valid HTTP header")
            }
            if let refusal = HeaderRules.refusal(header.name) { throw CheckFailure(.invalidMonitor, refusal) }
        }
        if settings.body != nil, HeaderRules.bodiless.contains(method) {
            throw CheckFailure(.invalidMonitor, "a \(method) request cannot have a body")
        }
        var path = components.percentEncodedPath
        if path.isEmpty { path = "/" }
        if let query = components.percentEncodedQuery { path += "?" + query }
        self.scheme = scheme
        self.host = try Endpoint.validHost(host)
        self.port = port
        self.path = path
        self.method = method
        self.headers = settings.headers ?? []
        self.body = settings.body
        self.expectedStatus = settings.expectedStatus ?? .success
        self.keyword = settings.keyword
        self.keywordAbsent = settings.keywordAbsent
        self.tls = try TLSCheck(settings: settings)
    }
}
