public import UptickCore

/// What people and the backend API manage and read: the schema, monitors, channels, incidents, the outbox,
/// history and summaries. A backend written in Swift uses this protocol to agree with the runner on what a
/// valid monitor is and where it is kept (see docs/library.md).
///
/// Every call is one round trip on a network database; errors are ``StoreError``s, with ``StoreError/Code/notFound``
/// for a missing row and ``StoreError/Code/constraint`` for a taken key or name.
public protocol Catalogue: Sendable {
    // MARK: Schema

    /// Applies the migrations this database lacks; returns the versions applied.
    @discardableResult
    func migrate(now: EpochMilliseconds) async throws(StoreError) -> [Int64]

    /// Fails with ``StoreError/Code/schema`` unless the database has every migration this build needs.
    func requireSchema() async throws(StoreError)

    // MARK: Monitors

    /// Inserts a new monitor; the runner gives it its first slot at its next claim.
    func addMonitor(_ draft: MonitorDraft, now: EpochMilliseconds) async throws(StoreError) -> Monitor

    /// Every monitor, by id.
    func monitors() async throws(StoreError) -> [Monitor]

    /// The monitor with `id`.
    func monitor(id: Int64) async throws(StoreError) -> Monitor

    /// Deletes a monitor with its checks, rollups, incidents and channel attachments.
    func removeMonitor(id: Int64) async throws(StoreError)

    /// Enables (afresh: `pending`, counters cleared, a new slot) or disables a monitor.
    func setEnabled(id: Int64, _ enabled: Bool, now: EpochMilliseconds) async throws(StoreError)

    /// Creates or updates monitors by `key` in one transaction; drafts equal to the stored monitor are left alone.
    func upsert(_ drafts: [MonitorDraft], now: EpochMilliseconds) async throws(StoreError) -> ImportReport

    // MARK: Channels

    /// Adds a channel (`config` is its JSON settings, secrets included).
    func addChannel(name: String, type: String, config: String, isDefault: Bool, now: EpochMilliseconds) async throws(StoreError) -> ChannelRecord

    /// Every channel, by id.
    func channels() async throws(StoreError) -> [ChannelRecord]

    /// The channel with this name.
    func channel(_ name: String) async throws(StoreError) -> ChannelRecord

    /// Removes a channel and its attachments; its undelivered events become dead.
    func removeChannel(id: Int64, now: EpochMilliseconds) async throws(StoreError)

    /// Makes `channelIDs` the monitor's channels (none: the default channels again).
    func setChannels(monitorID: Int64, channelIDs: [Int64]) async throws(StoreError)

    /// The channels a monitor's events go to: its own, or the defaults (`defaults` true) when it names none.
    func channels(monitorID: Int64) async throws(StoreError) -> (channels: [ChannelRecord], defaults: Bool)

    // MARK: Incidents, outbox, history

    /// Incidents, newest first; only open ones with `openOnly`.
    func incidents(openOnly: Bool, limit: Int) async throws(StoreError) -> [IncidentRecord]

    /// Outbox rows, newest first; only dead ones with `deadOnly`.
    func outbox(deadOnly: Bool, limit: Int) async throws(StoreError) -> [OutboxRecord]

    /// Makes a dead (or failing) outbox row due again now, with a fresh give-up time.
    func retryOutbox(id: Int64, now: EpochMilliseconds) async throws(StoreError)

    /// The latest `limit` checks of a monitor, newest first.
    func history(monitorID: Int64, limit: Int) async throws(StoreError) -> [CheckRecord]

    /// Every monitor with its latest latency, its uptime over the hours since `windowStart` (from the hourly
    /// rollups, so the window starts at the top of its hour) and those hours' rollups.
    func summaries(since windowStart: EpochMilliseconds) async throws(StoreError) -> [MonitorSummary]

    /// A monitor's checks that ran for a slot before `before` (`nil`: the latest), newest first, at most `limit`.
    func history(monitorID: Int64, before: EpochMilliseconds?, limit: Int) async throws(StoreError) -> [CheckRecord]

    // MARK: Status page and API

    /// One page of monitors in `scope` with their rollups and recent incidents (see ``Board``).
    func board(scope: BoardScope, offset: Int, limit: Int, dailyFrom: EpochMilliseconds, hourlyFrom: EpochMilliseconds,
               incidentsFrom: EpochMilliseconds, incidentLimit: Int) async throws(StoreError) -> Board

    /// The monitor with `id` if it is in `scope`; ``StoreError/Code/notFound`` otherwise.
    func monitor(id: Int64, scope: BoardScope) async throws(StoreError) -> Monitor

    /// Incidents of monitors in `scope` opened before `before` (`nil`: any time), newest first.
    func incidents(scope: BoardScope, openOnly: Bool, before: EpochMilliseconds?, limit: Int) async throws(StoreError) -> [IncidentRecord]

    /// Alert events pending delivery, and given up.
    func outboxCounts() async throws(StoreError) -> (pending: Int, dead: Int)

    /// A monitor's rollups at `resolution` whose period starts in `from..<until`, oldest first, at most `limit`.
    func rollups(monitorID: Int64, resolution: Rollup.Resolution, from: EpochMilliseconds, until: EpochMilliseconds,
                 limit: Int) async throws(StoreError) -> [Rollup]

    /// The rollups at `resolution` of the monitors `ids` whose period starts at or after `from`, by monitor.
    func rollups(monitorIDs ids: [Int64], resolution: Rollup.Resolution, from: EpochMilliseconds) async throws(StoreError) -> [Int64: [Rollup]]
}

/// Everything one database does for uptick: the runner's claim and persist (``Store``), the deliverer's
/// outbox (``OutboxStore``) and the ``Catalogue``. Each backend (SQLite, libSQL; PostgreSQL next) is one, and
/// passes the same conformance suite (Tests/UptickStoreTests).
package typealias StoreBackend = Store & OutboxStore & Catalogue
