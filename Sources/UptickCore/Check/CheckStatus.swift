/// The verdict of one check.
public enum CheckStatus: String, Sendable, Codable, CaseIterable {
    case up
    /// Reachable and correct, but slower than the monitor's threshold.
    case degraded
    case down
}
