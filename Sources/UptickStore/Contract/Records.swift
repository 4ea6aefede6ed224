public import UptickCore

/// A notification channel as stored in `channels`. `config` holds the channel's JSON settings,
/// secrets included: it is never printed (the CLI shows `ChannelConfiguration.redacted` instead).
public struct ChannelRecord: Sendable, Hashable, Codable {
    public var id: Int64
    public var name: String
    /// `webhook`, `slack`, `discord`, `pagerduty` or `email`.
    public var type: String
    public var config: String
    /// Used by monitors that name no channel.
    public var isDefault: Bool
    public var enabled: Bool

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
    public var id: Int64
    public var eventID: String
    public var monitorID: Int64?
    public var kind: String
    public var payload: String
    public var channelID: Int64
    public var createdAt: EpochMilliseconds
    /// Attempts started so far, this one included when just claimed.
    public var attempts: Int64
    public var nextAttemptAt: EpochMilliseconds
    public var deliveredAt: EpochMilliseconds?
    public var deadAt: EpochMilliseconds?
    public var lastError: String?
    /// Set by `uptick outbox retry`: the give-up time counts from here instead of from `createdAt`.
    public var retriedAt: EpochMilliseconds?
}

/// An incident as stored in `incidents`.
public struct IncidentRecord: Sendable, Hashable, Codable {
    public var id: Int64
    public var monitorID: Int64
    public var monitorName: String?
    public var openedAt: EpochMilliseconds
    public var resolvedAt: EpochMilliseconds?
    public var causeClass: String?
    public var causeMessage: String?
}
