import UptickCore

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

/// What one delivery attempt came to.
public struct DeliveryOutcome: Sendable, Hashable {
    public enum Verdict: Sendable, Hashable {
        case delivered
        /// Try again at the given time.
        case retry(at: EpochMilliseconds)
        /// Give up: the error is permanent or the event is too old.
        case dead
        /// Not sent after all (the run ended while it was in flight): due again now, the attempt not counted.
        case released
    }

    public var outboxID: Int64
    public var verdict: Verdict
    public var at: EpochMilliseconds
    /// Why it failed; for a delivered event, a note such as "skipped" (or `nil`).
    public var error: String?

    public init(outboxID: Int64, verdict: Verdict, at: EpochMilliseconds, error: String?) {
        self.outboxID = outboxID
        self.verdict = verdict
        self.at = at
        self.error = error
    }
}

/// What the deliverer needs from a database.
public protocol OutboxStore: Sendable {
    /// Claims up to `limit` due outbox rows of enabled channels, only the oldest undelivered row of each
    /// (channel, monitor) pair so events arrive in order per monitor, at most `perChannel` rows of each
    /// channel (its oldest), none of the channels in `excluding` (their lanes are full); leases them for
    /// `lease` (another deliverer skips them meanwhile; a crashed one's rows come back when it ends). Counts
    /// the attempt. Also returns the channels they go to.
    func claimDeliveries(now: EpochMilliseconds, limit: Int, perChannel: Int, excluding: Set<Int64>,
                         lease: Duration) async throws(StoreError) -> DeliveryClaim

    /// Records attempts' outcomes in one transaction.
    func record(_ outcomes: [DeliveryOutcome]) async throws(StoreError)

    /// Records outcomes and, in the same transaction (one round trip), claims as ``claimDeliveries(now:limit:perChannel:excluding:lease:)``.
    func record(_ outcomes: [DeliveryOutcome], thenClaiming request: DeliveryRequest) async throws(StoreError) -> DeliveryClaim
}

/// The arguments of a delivery claim (see ``OutboxStore/claimDeliveries(now:limit:perChannel:excluding:lease:)``).
public struct DeliveryRequest: Sendable, Hashable {
    public var now: EpochMilliseconds
    public var limit: Int
    public var perChannel: Int
    public var excluding: Set<Int64>
    public var lease: Duration

    public init(now: EpochMilliseconds, limit: Int, perChannel: Int, excluding: Set<Int64>, lease: Duration) {
        self.now = now
        self.limit = limit
        self.perChannel = perChannel
        self.excluding = excluding
        self.lease = lease
    }
}

/// The answer to ``OutboxStore/claimDeliveries(now:limit:perChannel:excluding:lease:)``.
public struct DeliveryClaim: Sendable {
    public var rows: [OutboxRecord]
    public var channels: [Int64: ChannelRecord]
}

extension SQLStore: OutboxStore {
    static let outboxColumns = """
        id, event_id, monitor_id, kind, payload, channel_id, created_at, attempts, next_attempt_at, delivered_at, dead_at, last_error, retried_at
        """
    static let channelColumns = "id, name, type, config, is_default, enabled"

    /// ?1 now, ?2 lease end, ?3 limit, ?4 rows per channel, ?5 a JSON array of the channels to leave out.
    static let claimDeliveriesSQL = """
        WITH lanes AS (
            -- Each channel's lane: its oldest due rows (idx_outbox_lane), at most ?4, as a JSON array. Driven
            -- from channels, so a claim costs a few index probes per channel, not a scan of the outbox.
            SELECT (SELECT json_group_array(id) FROM (
                        SELECT p.id FROM outbox p
                        WHERE p.channel_id = c.id AND p.delivered_at IS NULL AND p.dead_at IS NULL AND p.next_attempt_at <= ?1
                          AND NOT EXISTS (
                              SELECT 1 FROM outbox q
                              WHERE q.channel_id = p.channel_id AND q.monitor_id IS p.monitor_id AND q.id < p.id
                                AND q.delivered_at IS NULL AND q.dead_at IS NULL)
                        ORDER BY p.id LIMIT ?4)) AS ids
            FROM channels c
            WHERE c.enabled = 1 AND c.id NOT IN (SELECT value FROM json_each(?5)))
        UPDATE outbox SET attempts = attempts + 1, next_attempt_at = ?2
        WHERE id IN (SELECT lane.value FROM lanes, json_each(lanes.ids) lane ORDER BY lane.value LIMIT ?3)
        RETURNING \(Self.outboxColumns)
        """

    public func claimDeliveries(now: EpochMilliseconds, limit: Int, perChannel: Int, excluding: Set<Int64>,
                                lease: Duration) async throws(StoreError) -> DeliveryClaim {
        let request = DeliveryRequest(now: now, limit: limit, perChannel: perChannel, excluding: excluding, lease: lease)
        return Self.claim(from: try await executor.execute(Self.claimStatements(request), transaction: true)[...])
    }

    public func record(_ outcomes: [DeliveryOutcome]) async throws(StoreError) {
        guard !outcomes.isEmpty else { return }
        _ = try await executor.execute(outcomes.map(Self.statement), transaction: true)
    }

    public func record(_ outcomes: [DeliveryOutcome], thenClaiming request: DeliveryRequest) async throws(StoreError) -> DeliveryClaim {
        let results = try await executor.execute(outcomes.map(Self.statement) + Self.claimStatements(request), transaction: true)
        return Self.claim(from: results.suffix(2))
    }

    static func claimStatements(_ request: DeliveryRequest) -> [SQLStatement] {
        let full = "[" + request.excluding.map(String.init).joined(separator: ",") + "]"
        return [
            SQLStatement(claimDeliveriesSQL, [.integer(request.now), .integer(request.now + request.lease.wholeMilliseconds),
                                              .integer(Int64(request.limit)), .integer(Int64(request.perChannel)), .text(full)]),
            SQLStatement("SELECT \(channelColumns) FROM channels WHERE enabled = 1"),
        ]
    }

    /// The claim from the results of ``claimStatements(_:)``.
    static func claim(from results: ArraySlice<SQLRows>) -> DeliveryClaim {
        var channels: [Int64: ChannelRecord] = [:]
        for row in results[results.startIndex + 1].rows {
            let channel = channel(row)
            channels[channel.id] = channel
        }
        return DeliveryClaim(rows: results[results.startIndex].rows.map(outbox).sorted { $0.id < $1.id }, channels: channels)
    }

    static func statement(_ outcome: DeliveryOutcome) -> SQLStatement {
        let id = SQLValue.integer(outcome.outboxID), at = SQLValue.integer(outcome.at), error = SQLValue(outcome.error)
        return switch outcome.verdict {
        case .delivered:
            SQLStatement("UPDATE outbox SET delivered_at = ?2, last_error = ?3 WHERE id = ?1", [id, at, error])
        case .retry(let next):
            SQLStatement("UPDATE outbox SET next_attempt_at = ?2, last_error = ?3 WHERE id = ?1", [id, .integer(next), error])
        case .dead:
            SQLStatement("UPDATE outbox SET dead_at = ?2, last_error = ?3 WHERE id = ?1", [id, at, error])
        case .released:
            SQLStatement("""
                UPDATE outbox SET next_attempt_at = ?2, attempts = max(0, attempts - 1)
                WHERE id = ?1 AND delivered_at IS NULL AND dead_at IS NULL
                """, [id, at])
        }
    }

    // MARK: Channels

    /// Adds a channel; a name already taken is a `.constraint` error.
    public func addChannel(name: String, type: String, config: String, isDefault: Bool, now: EpochMilliseconds) async throws(StoreError) -> ChannelRecord {
        let rows = try await executor.execute([SQLStatement(
            "INSERT INTO channels (name, type, config, is_default, created_at) VALUES (?, ?, ?, ?, ?) RETURNING \(Self.channelColumns)",
            [.text(name), .text(type), .text(config), .integer(isDefault ? 1 : 0), .integer(now)]
        )], transaction: true)[0].rows
        guard let row = rows.first else { throw StoreError(.failed, "insert returned no row") }
        return Self.channel(row)
    }

    /// Every channel, by id.
    public func channels() async throws(StoreError) -> [ChannelRecord] {
        try await executor.execute([SQLStatement("SELECT \(Self.channelColumns) FROM channels ORDER BY id")], transaction: false)[0]
            .rows.map(Self.channel)
    }

    /// The channel with this name.
    public func channel(_ name: String) async throws(StoreError) -> ChannelRecord {
        let rows = try await executor.execute([SQLStatement(
            "SELECT \(Self.channelColumns) FROM channels WHERE name = ?", [.text(name)]
        )], transaction: false)[0].rows
        guard let row = rows.first else { throw StoreError(.notFound, "no channel named '\(name)'") }
        return Self.channel(row)
    }

    /// Removes a channel and its attachments; its undelivered events become dead ("channel removed").
    public func removeChannel(id: Int64, now: EpochMilliseconds) async throws(StoreError) {
        let results = try await executor.execute([
            SQLStatement("DELETE FROM channels WHERE id = ?", [.integer(id)]),
            SQLStatement("DELETE FROM monitor_channels WHERE channel_id = ?", [.integer(id)]),
            SQLStatement("""
                UPDATE outbox SET dead_at = ?2, last_error = 'channel removed'
                WHERE channel_id = ?1 AND delivered_at IS NULL AND dead_at IS NULL
                """, [.integer(id), .integer(now)]),
        ], transaction: true)
        guard results[0].changes == 1 else { throw StoreError(.notFound, "no channel with id \(id)") }
    }

    /// Makes `channelIDs` the monitor's channels (an empty list: the default channels again).
    public func setChannels(monitorID: Int64, channelIDs: [Int64]) async throws(StoreError) {
        var statements = [SQLStatement("DELETE FROM monitor_channels WHERE monitor_id = ?", [.integer(monitorID)])]
        for channel in Set(channelIDs).sorted() {
            statements.append(SQLStatement("INSERT INTO monitor_channels (monitor_id, channel_id) VALUES (?, ?)", [.integer(monitorID), .integer(channel)]))
        }
        _ = try await executor.execute(statements, transaction: true)
    }

    /// The channels a monitor's events go to: its own, or the defaults when it names none.
    public func channels(monitorID: Int64) async throws(StoreError) -> (channels: [ChannelRecord], defaults: Bool) {
        let results = try await executor.execute([
            SQLStatement("""
                SELECT \(Self.channelColumns) FROM channels WHERE id IN (SELECT channel_id FROM monitor_channels WHERE monitor_id = ?) ORDER BY id
                """, [.integer(monitorID)]),
            SQLStatement("SELECT \(Self.channelColumns) FROM channels WHERE is_default = 1 ORDER BY id"),
        ], transaction: false)
        let own = results[0].rows.map(Self.channel)
        return own.isEmpty ? (results[1].rows.map(Self.channel), true) : (own, false)
    }

    // MARK: Incidents and outbox

    /// Incidents, newest first; only open ones with `openOnly`.
    public func incidents(openOnly: Bool, limit: Int) async throws(StoreError) -> [IncidentRecord] {
        let rows = try await executor.execute([SQLStatement("""
            SELECT i.id, i.monitor_id, m.name, i.opened_at, i.resolved_at, i.cause_class, i.cause_message
            FROM incidents i LEFT JOIN monitors m ON m.id = i.monitor_id
            \(openOnly ? "WHERE i.resolved_at IS NULL" : "")
            ORDER BY i.opened_at DESC, i.id DESC LIMIT ?
            """, [.integer(Int64(limit))])], transaction: false)[0].rows
        return rows.map { row in
            IncidentRecord(id: row[0].integer ?? 0, monitorID: row[1].integer ?? 0, monitorName: row[2].text, openedAt: row[3].integer ?? 0,
                           resolvedAt: row[4].integer, causeClass: row[5].text, causeMessage: row[6].text)
        }
    }

    /// Outbox rows, newest first; only dead ones with `deadOnly`.
    public func outbox(deadOnly: Bool, limit: Int) async throws(StoreError) -> [OutboxRecord] {
        try await executor.execute([SQLStatement("""
            SELECT \(Self.outboxColumns) FROM outbox \(deadOnly ? "WHERE dead_at IS NOT NULL" : "") ORDER BY id DESC LIMIT ?
            """, [.integer(Int64(limit))])], transaction: false)[0].rows.map(Self.outbox)
    }

    /// Makes a dead (or failing) outbox row due again now, with a fresh give-up time.
    public func retryOutbox(id: Int64, now: EpochMilliseconds) async throws(StoreError) {
        let results = try await executor.execute([SQLStatement("""
            UPDATE outbox SET dead_at = NULL, next_attempt_at = ?2, retried_at = ?2 WHERE id = ?1 AND delivered_at IS NULL
            """, [.integer(id), .integer(now)])], transaction: true)
        guard results[0].changes == 1 else { throw StoreError(.notFound, "no undelivered outbox row with id \(id)") }
    }

    static func channel(_ row: [SQLValue]) -> ChannelRecord {
        ChannelRecord(id: row[0].integer ?? 0, name: row[1].text ?? "", type: row[2].text ?? "", config: row[3].text ?? "{}",
                      isDefault: row[4].integer == 1, enabled: row[5].integer == 1)
    }

    static func outbox(_ row: [SQLValue]) -> OutboxRecord {
        OutboxRecord(id: row[0].integer ?? 0, eventID: row[1].text ?? "", monitorID: row[2].integer, kind: row[3].text ?? "",
                     payload: row[4].text ?? "{}", channelID: row[5].integer ?? 0, createdAt: row[6].integer ?? 0, attempts: row[7].integer ?? 0,
                     nextAttemptAt: row[8].integer ?? 0, deliveredAt: row[9].integer, deadAt: row[10].integer, lastError: row[11].text,
                     retriedAt: row[12].integer)
    }
}
