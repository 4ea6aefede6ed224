/// What an idempotent bulk upsert did.
public struct ImportReport: Sendable, Hashable, Codable {
    /// Keys of the monitors created.
    public var created: [String] = []
    /// Keys of the monitors changed.
    public var updated: [String] = []
    /// Keys of the monitors left as they were.
    public var unchanged: [String] = []
    /// An empty report.
    public init() {}
}
