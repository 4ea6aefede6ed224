import Foundation

extension Monitor {
    /// The target as it may be shown outside the runner (metrics labels, the authenticated API): an HTTP URL keeps
    /// its scheme, host, port and path, never credentials, a query or a fragment (they often carry tokens); other
    /// targets are host names or addresses with a port. A target that does not parse is shown as `invalid`.
    public var displayTarget: String {
        guard MonitorType(rawValue: type) == .http else {
            return target.allSatisfy({ !$0.isWhitespace && $0 != "@" && $0 != "/" && $0 != "?" }) ? target : "invalid"
        }
        guard var components = URLComponents(string: target), components.scheme != nil, components.host != nil else { return "invalid" }
        components.user = nil
        components.password = nil
        components.query = nil
        components.fragment = nil
        return components.string ?? "invalid"
    }

    /// The type for labels and pages: one of ``MonitorType``'s, or `invalid` (a stored type is the backend's text, and
    /// unbounded text must never become a metric label).
    public var displayType: String { MonitorType(rawValue: type)?.rawValue ?? "invalid" }
}
