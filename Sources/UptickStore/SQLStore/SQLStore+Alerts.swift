public import UptickCore

extension SQLStore {
    static let outboxColumns = """
        id, event_id, monitor_id, kind, payload, channel_id, created_at, attempts, next_attempt_at, delivered_at, dead_at, last_error, retried_at
        """
    static let channelColumns = "id, name, type, config, is_default, enabled"

    /// SQLite's delivery claim. ?1 now, ?2 lease end, ?3 limit, ?4 rows per channel, ?5 a JSON array of the
    /// channels to leave out.
    static let sqliteClaimDeliveries = """
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

    package func claimDeliveries(now: EpochMilliseconds, limit: Int, perChannel: Int, excluding: Set<Int64>,
                                lease: Duration) async throws(StoreError) -> DeliveryClaim {
        let request = DeliveryRequest(now: now, limit: limit, perChannel: perChannel, excluding: excluding, lease: lease)
        return Self.claim(from: try await executor.execute(claimStatements(request), transaction: true)[...])
    }

    package func record(_ outcomes: [DeliveryOutcome]) async throws(StoreError) {
        guard !outcomes.isEmpty else { return }
        _ = try await executor.execute(outcomes.map(statement), transaction: true)
    }

    package func record(_ outcomes: [DeliveryOutcome], thenClaiming request: DeliveryRequest) async throws(StoreError) -> DeliveryClaim {
        let results = try await executor.execute(outcomes.map(statement) + claimStatements(request), transaction: true)
        return Self.claim(from: results.suffix(2))
    }

    func claimStatements(_ request: DeliveryRequest) -> [SQLStatement] {
        let full = "[" + request.excluding.map(String.init).joined(separator: ",") + "]"
        return [
            SQLStatement(dialect.claimDeliveries, [.integer(request.now), .integer(request.now + request.lease.wholeMilliseconds),
                                              .integer(Int64(request.limit)), .integer(Int64(request.perChannel)), .text(full)]),
            SQLStatement("SELECT \(Self.channelColumns) FROM channels WHERE enabled = 1"),
        ]
    }

    /// The claim from the results of ``claimStatements(_:)``.
    static func claim(from results: ArraySlice<SQLRows>) -> DeliveryClaim {
        var channels: [Int64: ChannelRecord] = [:]
        for row in results[results.startIndex + 1].named {
            let channel = channel(row)
            channels[channel.id] = channel
        }
        return DeliveryClaim(rows: results[results.startIndex].named.map(outbox).sorted { $0.id < $1.id }, channels: channels)
    }

    func statement(_ outcome: DeliveryOutcome) -> SQLStatement {
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
                UPDATE outbox SET next_attempt_at = ?2, attempts = \(dialect.greatest)(0, attempts - 1)
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
        )], transaction: true)[0].named
        guard let row = rows.first else { throw StoreError(.failed, "insert returned no row") }
        return Self.channel(row)
    }

    /// Every channel, by id.
    public func channels() async throws(StoreError) -> [ChannelRecord] {
        try await executor.execute([SQLStatement("SELECT \(Self.channelColumns) FROM channels ORDER BY id")], transaction: false)[0]
            .named.map(Self.channel)
    }

    /// The channel with this name.
    public func channel(_ name: String) async throws(StoreError) -> ChannelRecord {
        let rows = try await executor.execute([SQLStatement(
            "SELECT \(Self.channelColumns) FROM channels WHERE name = ?", [.text(name)]
        )], transaction: false)[0].named
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
        let own = results[0].named.map(Self.channel)
        return own.isEmpty ? (results[1].named.map(Self.channel), true) : (own, false)
    }

    // MARK: Incidents and outbox

    /// Incidents, newest first; only open ones with `openOnly`.
    public func incidents(openOnly: Bool, limit: Int) async throws(StoreError) -> [IncidentRecord] {
        try await incidents(scope: .all, openOnly: openOnly, before: nil, limit: limit)
    }

    /// Outbox rows, newest first; only dead ones with `deadOnly`.
    public func outbox(deadOnly: Bool, limit: Int) async throws(StoreError) -> [OutboxRecord] {
        try await executor.execute([SQLStatement("""
            SELECT \(Self.outboxColumns) FROM outbox \(deadOnly ? "WHERE dead_at IS NOT NULL" : "") ORDER BY id DESC LIMIT ?
            """, [.integer(Int64(limit))])], transaction: false)[0].named.map(Self.outbox)
    }

    /// Makes a dead (or failing) outbox row due again now, with a fresh give-up time.
    public func retryOutbox(id: Int64, now: EpochMilliseconds) async throws(StoreError) {
        let results = try await executor.execute([SQLStatement("""
            UPDATE outbox SET dead_at = NULL, next_attempt_at = ?2, retried_at = ?2 WHERE id = ?1 AND delivered_at IS NULL
            """, [.integer(id), .integer(now)])], transaction: true)
        guard results[0].changes == 1 else { throw StoreError(.notFound, "no undelivered outbox row with id \(id)") }
    }

    static func channel(_ row: SQLRow) -> ChannelRecord {
        ChannelRecord(id: row["id"].integer ?? 0, name: row["name"].text ?? "", type: row["type"].text ?? "", config: row["config"].text ?? "{}",
                      isDefault: row["is_default"].integer == 1, enabled: row["enabled"].integer == 1)
    }

    static func outbox(_ row: SQLRow) -> OutboxRecord {
        OutboxRecord(id: row["id"].integer ?? 0, eventID: row["event_id"].text ?? "", monitorID: row["monitor_id"].integer,
                     kind: row["kind"].text ?? "", payload: row["payload"].text ?? "{}", channelID: row["channel_id"].integer ?? 0,
                     createdAt: row["created_at"].integer ?? 0, attempts: row["attempts"].integer ?? 0,
                     nextAttemptAt: row["next_attempt_at"].integer ?? 0, deliveredAt: row["delivered_at"].integer,
                     deadAt: row["dead_at"].integer, lastError: row["last_error"].text, retriedAt: row["retried_at"].integer)
    }
}
