/// What a check found beyond its verdict and timings; stored as JSON in `checks.details`.
public struct CheckDetails: Sendable, Hashable, Codable {
    /// Every URL requested after the first, in order (HTTP redirects followed).
    public var redirects: [String]?

    public init(redirects: [String]? = nil) {
        self.redirects = redirects
    }

    /// Whether there is nothing to store.
    public var isEmpty: Bool { redirects == nil }
}
