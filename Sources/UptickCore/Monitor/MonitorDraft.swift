/// A monitor as a user or the backend describes it, before it has an id or any runner state.
public struct MonitorDraft: Sendable, Hashable, Codable {
    public var key: String?
    public var name: String
    public var type: String
    public var target: String
    public var intervalSeconds: Int64
    public var timeoutMilliseconds: Int64
    /// JSON object, see ``MonitorSettings``.
    public var settings: String
    public var enabled: Bool

    public init(key: String? = nil, name: String, type: String, target: String, intervalSeconds: Int64 = 60,
                timeoutMilliseconds: Int64 = Limits.maxTimeoutMilliseconds, settings: String = "{}", enabled: Bool = true) {
        self.key = key
        self.name = name
        self.type = type
        self.target = target
        self.intervalSeconds = intervalSeconds
        self.timeoutMilliseconds = timeoutMilliseconds
        self.settings = settings
        self.enabled = enabled
    }

    /// Checks the draft the way the runner will read it, so bad input is refused before it is stored.
    public func validated() throws(CheckFailure) -> CheckSpec {
        try CheckSpec(monitor: Monitor(
            id: 1, name: name, type: type, target: target, intervalSeconds: intervalSeconds,
            timeoutMilliseconds: timeoutMilliseconds, settings: settings
        ))
    }
}
