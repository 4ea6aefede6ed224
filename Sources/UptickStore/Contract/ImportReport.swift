/// What an idempotent bulk upsert did.
public struct ImportReport: Sendable, Hashable, Codable {
    public var created: [String] = []
    public var updated: [String] = []
    public var unchanged: [String] = []
    public init() {}
}
