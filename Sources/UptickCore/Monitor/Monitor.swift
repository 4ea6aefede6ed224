/// A monitor row as the runner reads it from `monitors` (see docs/schema.md).
///
/// Fields are kept as stored, untyped where the backend may write anything (`type`, `target`, `settings`):
/// ``CheckSpec/init(monitor:)`` turns them into a typed check or a clear error.
public struct Monitor: Sendable, Hashable, Codable {
    /// The row id.
    public var id: Int64
    /// Optional user-chosen key, unique; `import` upserts by it.
    public var key: String?
    /// Shown in alerts and pages.
    public var name: String
    /// `http`, `ping` or `port`; anything else is an invalid monitor.
    public var type: String
    /// A URL for http, `host:port` for port, a host for ping and dns.
    public var target: String
    /// Seconds between slots.
    public var intervalSeconds: Int64
    /// The hard deadline of one check.
    public var timeoutMilliseconds: Int64
    /// JSON object, see ``MonitorSettings``.
    public var settings: String
    /// Disabled monitors are never claimed.
    public var enabled: Bool
    /// When the latest committed check started.
    public var lastCheckedAt: EpochMilliseconds?
    /// The next slot; `nil` until the runner assigns the monitor its phase.
    public var nextCheckAt: EpochMilliseconds?
    /// What the status logic works on: the confirmed status, counters, alerting memory.
    public var state: MonitorState

    /// A monitor as stored.
    public init(
        id: Int64, key: String? = nil, name: String, type: String, target: String, intervalSeconds: Int64,
        timeoutMilliseconds: Int64, settings: String = "{}", enabled: Bool = true, status: MonitorStatus = .pending,
        lastCheckedAt: EpochMilliseconds? = nil, nextCheckAt: EpochMilliseconds? = nil,
        consecutiveFailures: Int64 = 0, consecutiveSuccesses: Int64 = 0, statusChangedAt: EpochMilliseconds? = nil,
        state: MonitorState? = nil
    ) {
        self.id = id
        self.key = key
        self.name = name
        self.type = type
        self.target = target
        self.intervalSeconds = intervalSeconds
        self.timeoutMilliseconds = timeoutMilliseconds
        self.settings = settings
        self.enabled = enabled
        self.lastCheckedAt = lastCheckedAt
        self.nextCheckAt = nextCheckAt
        self.state = state ?? MonitorState(
            status: status, consecutiveFailures: consecutiveFailures,
            consecutiveSuccesses: consecutiveSuccesses, statusChangedAt: statusChangedAt
        )
    }

    enum CodingKeys: String, CodingKey {
        case id, key, name, type, target, intervalSeconds, timeoutMilliseconds, settings, enabled, lastCheckedAt, nextCheckAt
    }

    /// Flat: the state's fields sit beside the row's own.
    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        self.init(
            id: try container.decode(Int64.self, forKey: .id), key: try container.decodeIfPresent(String.self, forKey: .key),
            name: try container.decode(String.self, forKey: .name), type: try container.decode(String.self, forKey: .type),
            target: try container.decode(String.self, forKey: .target), intervalSeconds: try container.decode(Int64.self, forKey: .intervalSeconds),
            timeoutMilliseconds: try container.decode(Int64.self, forKey: .timeoutMilliseconds),
            settings: try container.decode(String.self, forKey: .settings), enabled: try container.decode(Bool.self, forKey: .enabled),
            lastCheckedAt: try container.decodeIfPresent(Int64.self, forKey: .lastCheckedAt),
            nextCheckAt: try container.decodeIfPresent(Int64.self, forKey: .nextCheckAt), state: try MonitorState(from: decoder)
        )
    }

    /// Encodes the monitor, its settings as a JSON object rather than text.
    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(id, forKey: .id)
        try container.encodeIfPresent(key, forKey: .key)
        try container.encode(name, forKey: .name)
        try container.encode(type, forKey: .type)
        try container.encode(target, forKey: .target)
        try container.encode(intervalSeconds, forKey: .intervalSeconds)
        try container.encode(timeoutMilliseconds, forKey: .timeoutMilliseconds)
        try container.encode(settings, forKey: .settings)
        try container.encode(enabled, forKey: .enabled)
        try container.encodeIfPresent(lastCheckedAt, forKey: .lastCheckedAt)
        try container.encodeIfPresent(nextCheckAt, forKey: .nextCheckAt)
        try state.encode(to: encoder)
    }

    /// The confirmed status.
    public var status: MonitorStatus {
        get { state.status }
        set { state.status = newValue }
    }
}
