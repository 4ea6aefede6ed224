/// A monitor as a user or the backend describes it, before it has an id or any runner state.
public struct MonitorDraft: Sendable, Hashable, Codable {
    /// The backend's stable key, by which `import` upserts (optional).
    public var key: String?
    /// Shown in alerts and pages.
    public var name: String
    /// `http`, `port`, `ping` or `dns`.
    public var type: String
    /// A URL for http, `host:port` for port, a host for ping and dns.
    public var target: String
    /// Seconds between slots.
    public var intervalSeconds: Int64
    /// The hard deadline of one check, at most 10 s.
    public var timeoutMilliseconds: Int64
    /// JSON object, see ``MonitorSettings``.
    public var settings: String
    /// Whether the runner claims it.
    public var enabled: Bool

    /// A draft; ``validated()`` says whether the runner can check it.
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
