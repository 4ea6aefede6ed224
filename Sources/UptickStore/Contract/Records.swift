public import UptickCore

/// A notification channel as stored in `channels`. `config` holds the channel's JSON settings,
/// secrets included: it is never printed (the CLI shows `ChannelConfiguration.redacted` instead).
public struct ChannelRecord: Sendable, Hashable, Codable {
    /// The row id.
    public var id: Int64
    /// The channel's unique name.
    public var name: String
    /// `webhook`, `slack`, `discord`, `pagerduty` or `email`.
    public var type: String
    /// The channel's JSON settings, secrets included.
    public var config: String
    /// Used by monitors that name no channel.
    public var isDefault: Bool
    /// Disabled channels receive nothing.
    public var enabled: Bool

    /// A channel as stored.
    public init(id: Int64, name: String, type: String, config: String, isDefault: Bool, enabled: Bool) {
        self.id = id
        self.name = name
        self.type = type
        self.config = config
        self.isDefault = isDefault
        self.enabled = enabled
    }
}

/// One outbox row: an event addressed to one channel.
public struct OutboxRecord: Sendable, Hashable, Codable {
    /// The row id.
    public var id: Int64
    /// The event's id, the same for every channel it goes to (receivers deduplicate by it).
    public var eventID: String
    /// The monitor it is about, if any.
    public var monitorID: Int64?
    /// `down`, `up`, `degraded`, `flapping`, `reminder` or `test`.
    public var kind: String
    /// The webhook body (JSON).
    public var payload: String
    /// The channel it goes to.
    public var channelID: Int64
    /// When the check that caused it started.
    public var createdAt: EpochMilliseconds
    /// Attempts started so far, this one included when just claimed.
    public var attempts: Int64
    /// When it is due (again).
    public var nextAttemptAt: EpochMilliseconds
    /// When a send succeeded.
    public var deliveredAt: EpochMilliseconds?
    /// When it was given up.
    public var deadAt: EpochMilliseconds?
    /// Why the latest attempt failed.
    public var lastError: String?
    /// Set by `uptick outbox retry`: the give-up time counts from here instead of from `createdAt`.
    public var retriedAt: EpochMilliseconds?
}

/// An incident as stored in `incidents`.
public struct IncidentRecord: Sendable, Hashable, Codable {
    /// The row id.
    public var id: Int64
    /// The monitor that went down.
    public var monitorID: Int64
    /// Its name, if it still exists.
    public var monitorName: String?
    /// When the confirming check started.
    public var openedAt: EpochMilliseconds
    /// When the recovering check started; `nil` while open.
    public var resolvedAt: EpochMilliseconds?
    /// The error class of the confirming check.
    public var causeClass: String?
    /// Its message.
    public var causeMessage: String?

    /// An incident as stored.
    public init(id: Int64, monitorID: Int64, monitorName: String?, openedAt: EpochMilliseconds, resolvedAt: EpochMilliseconds?,
                causeClass: String?, causeMessage: String?) {
        self.id = id
        self.monitorID = monitorID
        self.monitorName = monitorName
        self.openedAt = openedAt
        self.resolvedAt = resolvedAt
        self.causeClass = causeClass
        self.causeMessage = causeMessage
    }
}
