/// A monitor row as the runner reads it from `monitors` (see docs/schema.md).
///
/// Fields are kept as stored, untyped where the backend may write anything (`type`, `target`, `settings`):
/// ``CheckSpec/init(monitor:)`` turns them into a typed check or a clear error.
public struct Monitor: Sendable, Hashable, Codable {
    public var id: Int64
    /// Optional user-chosen key, unique; `import` upserts by it.
    public var key: String?
    public var name: String
    /// `http`, `ping` or `port`; anything else is an invalid monitor.
    public var type: String
    public var target: String
    public var intervalSeconds: Int64
    public var timeoutMilliseconds: Int64
    /// JSON object, see ``MonitorSettings``.
    public var settings: String
    public var enabled: Bool
    public var status: MonitorStatus
    public var lastCheckedAt: EpochMilliseconds?
    /// The next slot; `nil` until the runner assigns the monitor its phase.
    public var nextCheckAt: EpochMilliseconds?
    public var consecutiveFailures: Int64
    public var consecutiveSuccesses: Int64
    public var statusChangedAt: EpochMilliseconds?

    public init(
        id: Int64, key: String? = nil, name: String, type: String, target: String, intervalSeconds: Int64,
        timeoutMilliseconds: Int64, settings: String = "{}", enabled: Bool = true, status: MonitorStatus = .pending,
        lastCheckedAt: EpochMilliseconds? = nil, nextCheckAt: EpochMilliseconds? = nil,
        consecutiveFailures: Int64 = 0, consecutiveSuccesses: Int64 = 0, statusChangedAt: EpochMilliseconds? = nil
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
        self.status = status
        self.lastCheckedAt = lastCheckedAt
        self.nextCheckAt = nextCheckAt
        self.consecutiveFailures = consecutiveFailures
        self.consecutiveSuccesses = consecutiveSuccesses
        self.statusChangedAt = statusChangedAt
    }

    /// The state the status machine works on.
    public var state: MonitorState {
        MonitorState(
            status: status, consecutiveFailures: consecutiveFailures,
            consecutiveSuccesses: consecutiveSuccesses, statusChangedAt: statusChangedAt
        )
    }
}
