package import Logging
import ServiceLifecycle
package import UptickAWS
package import UptickCore
package import UptickStore

/// How a worker takes messages.
package struct WorkConfiguration: Sendable {
    /// The long poll's wait (`ReceiveMessage` `WaitTimeSeconds`, at most 20 s).
    package var wait: Duration = .seconds(20)
    /// How long a received message stays invisible to other workers; held longer (a slow batch, a database that
    /// refuses commits), it is extended by this much again at half of it.
    package var visibility: Duration = .seconds(60)

    package init() {}
}

/// What a worker did with its messages.
package struct WorkReport: Sendable, Hashable, Encodable {
    package var received = 0
    /// Messages deleted because every slot in them was committed (or skipped).
    package var deleted = 0
    /// Messages that were not slot messages: logged and deleted.
    package var malformed = 0
    /// Slots too old to run (``SlotMessage/isStale(_:now:)``): their leases released, not run.
    package var skipped = 0
    /// Visibility extensions of messages held longer than planned.
    package var extended = 0
    /// Messages made visible again at shutdown, unfinished.
    package var handedBack = 0
    package var errors: [String] = []

    package init() {}
}

/// The worker's side of the engine: a ``Store`` whose claims are messages taken from the queue and whose commits go
/// to the database, after which the messages whose slots are all committed are deleted. The engine runs the checks
/// exactly as it does for slots it claims itself (bounded concurrency, hard deadlines, the guard, batched commits).
///
/// A message is deleted only once its results are committed; until then it is kept invisible (``keepVisible()``),
/// and if the worker dies it reappears after the visibility timeout for another worker. Committing is idempotent
/// (`checks` has one row per monitor and slot; the state update ignores older results), so a slot run twice after a
/// crash still has one result.
package actor QueueSource: SlotSource {
    let queue: SQSClient
    package nonisolated let database: any Store
    let clock: any WallClock
    let configuration: WorkConfiguration
    let logger: Logger

    struct SlotKey: Hashable {
        var monitor: Int64
        var slot: EpochMilliseconds
    }

    struct Held {
        var receiptHandle: String
        var remaining: Set<SlotKey>
        /// When it was received or last extended.
        var visibleFrom: EpochMilliseconds
    }

    /// Received slots not yet handed to the engine (a receive can bring more than its free capacity).
    private var buffer: [ClaimedMonitor] = []
    /// Messages taken and not yet deleted, by message id.
    private var held: [String: Held] = [:]
    /// Which held messages carry a slot (a redelivered duplicate can carry one already running).
    private var owners: [SlotKey: Set<String>] = [:]
    package private(set) var report = WorkReport()
    /// The last receive brought all it asked for: more are probably waiting.
    private var backlog = false

    package init(queue: SQSClient, database: any Store, clock: any WallClock = SystemClock(), configuration: WorkConfiguration = WorkConfiguration(), logger: Logger) {
        self.queue = queue
        self.database = database
        self.clock = clock
        self.configuration = configuration
        self.logger = logger
    }

    // MARK: Store

    /// Hands over up to `limit` received slots, long-polling the queue when none are waiting. A graceful shutdown
    /// ends the poll at once (anything SQS handed out meanwhile reappears after its visibility timeout).
    package func claimDue(now: EpochMilliseconds, limit: Int, leaseGrace: Duration, leaseIntervals: Int) async throws(StoreError) -> Claim {
        if buffer.isEmpty && !Task.isShuttingDownGracefully {
            var messages: [SQSClient.Message] = []
            do {
                // Enough messages to fill the free capacity; in a backlog (the last receive came back full), up to four
                // receives at once, since one receive's round trip bounds a worker at 250 slots per round trip. If one
                // of them fails, what the others received is not seen here and reappears after its visibility timeout.
                let wanted = min(10, max(1, limit / SlotMessage.maxSlots))
                let polls = backlog ? min(4, max(1, limit / (10 * SlotMessage.maxSlots))) : 1
                let (queue, wait, visibility) = (queue, configuration.wait, configuration.visibility)
                messages = try await cancelWhenGracefulShutdown {
                    try await withThrowingTaskGroup(of: [SQSClient.Message].self) { group in
                        for _ in 0..<polls { group.addTask { try await queue.receiveMessages(max: wanted, wait: wait, visibility: visibility) } }
                        var all: [SQSClient.Message] = []
                        for try await batch in group { all += batch }
                        return all
                    }
                }
                backlog = messages.count >= wanted * polls
            } catch {
                // Stopping: the poll was cut short on purpose.
                if Task.isShuttingDownGracefully || Task.isCancelled { return Claim(monitors: [], nextDue: nil) }
                throw StoreError(.unavailable, "queue: \(error)")
            }
            await take(messages)
        }
        let handed = Array(buffer.prefix(limit))
        buffer.removeFirst(handed.count)
        // `now`: claim again as soon as there is room (the poll itself is the wait).
        return Claim(monitors: handed, nextDue: clock.now())
    }

    /// Commits to the database, then deletes the messages whose every slot is now committed.
    package func persist(_ outcomes: [CheckOutcome]) async throws(StoreError) {
        try await database.persist(outcomes)
        var finished: Set<String> = []
        for outcome in outcomes {
            let key = SlotKey(monitor: outcome.monitorID, slot: outcome.scheduledAt)
            for id in owners.removeValue(forKey: key) ?? [] {
                held[id]?.remaining.remove(key)
                if held[id]?.remaining.isEmpty == true { finished.insert(id) }
            }
        }
        await delete(finished)
    }

    // MARK: Messages

    /// Decodes received messages: malformed ones are deleted, stale slots released, the rest buffered.
    func take(_ messages: [SQSClient.Message]) async {
        let now = clock.now()
        var finished: Set<String> = []
        var stale: [ClaimedMonitor] = []
        for message in messages {
            report.received += 1
            let decoded: SlotMessage
            do throws(MalformedMessage) {
                decoded = try SlotMessage.decode(message.body)
            } catch {
                report.malformed += 1
                logger.error("message \(message.id) dropped: \(error)")
                held[message.id] = Held(receiptHandle: message.receiptHandle, remaining: [], visibleFrom: now)
                finished.insert(message.id)
                continue
            }
            if let already = held[message.id] {
                // The same message again (its visibility ran out while we still run it): keep the newer receipt.
                held[message.id]?.receiptHandle = message.receiptHandle
                held[message.id]?.visibleFrom = now
                if already.remaining.isEmpty { finished.insert(message.id) }
                continue
            }
            var remaining: Set<SlotKey> = []
            for claimed in decoded.slots {
                if SlotMessage.isStale(claimed, now: now) {
                    stale.append(claimed)
                    continue
                }
                let key = SlotKey(monitor: claimed.monitor.id, slot: claimed.slot)
                remaining.insert(key)
                // A slot already running for another message is not run twice; both messages wait for its commit.
                if owners[key, default: []].isEmpty { buffer.append(claimed) }
                owners[key, default: []].insert(message.id)
            }
            held[message.id] = Held(receiptHandle: message.receiptHandle, remaining: remaining, visibleFrom: now)
            if remaining.isEmpty { finished.insert(message.id) }
        }
        if !stale.isEmpty {
            report.skipped += stale.count
            logger.warning("\(stale.count) slots more than \(SlotMessage.staleIntervals) intervals old skipped; their monitors are due at their next slot")
            do throws(StoreError) {
                try await database.release(stale, rescheduling: false)
            } catch {
                // Their leases end by themselves; the message is still done with.
                note("releasing skipped slots failed: \(error)")
            }
        }
        await delete(finished)
    }

    /// Deletes finished messages, ten per call, the calls at once (a commit waits for them; one call after another
    /// bounded a worker at about 700 results/s against moto's 150 ms per call). A failed delete is logged: the
    /// message reappears, and its slots, already committed, are committed again as no-ops.
    private func delete(_ ids: Set<String>) async {
        let entries = ids.compactMap { id in held[id].map { (id: id, receiptHandle: $0.receiptHandle) } }
        for id in ids { held[id] = nil }
        for result in await eachChunk(of: entries, { [queue] in try await queue.deleteMessageBatch($0) }) {
            if let error = result.error {
                note("deleting \(result.entries.count) messages failed: \(error)")
                continue
            }
            report.deleted += result.entries.count - result.refused.count
            if let first = result.refused.first {
                note("deleting \(result.refused.count) messages failed: \(first.code) \(first.message ?? "")")
            }
        }
    }

    typealias Entry = (id: String, receiptHandle: String)

    /// One batch call's entries and what came of them: the entries SQS refused, or why the call failed.
    struct ChunkResult: Sendable {
        var entries: [Entry]
        var refused: [SQSClient.BatchFailure] = []
        var error: String?
    }

    /// Runs `call` on every chunk of ten `entries` (ids replaced by their index in the chunk, as batch calls want),
    /// all at once.
    private nonisolated func eachChunk(
        of entries: [Entry], _ call: @escaping @Sendable ([Entry]) async throws -> [SQSClient.BatchFailure]
    ) async -> [ChunkResult] {
        let chunks = stride(from: 0, to: entries.count, by: SQSClient.maxBatchEntries).map {
            Array(entries[$0..<min($0 + SQSClient.maxBatchEntries, entries.count)])
        }
        return await withTaskGroup(of: ChunkResult.self) { group in
            for chunk in chunks {
                let indexed = chunk.enumerated().map { (id: String($0.offset), receiptHandle: $0.element.receiptHandle) }
                group.addTask {
                    do {
                        return ChunkResult(entries: chunk, refused: try await call(indexed))
                    } catch {
                        return ChunkResult(entries: chunk, error: "\(error)")
                    }
                }
            }
            var results: [ChunkResult] = []
            for await result in group { results.append(result) }
            return results
        }
    }

    /// Extends, every third of the visibility timeout, the messages held for more than half of it; returns on
    /// cancellation, or on graceful shutdown after handing back what is still held (``handBack()``).
    package func keepVisible() async {
        let period = configuration.visibility.wholeMilliseconds / 3
        while !Task.isCancelled && !Task.isShuttingDownGracefully {
            let (clock, wake) = (clock, clock.now() + max(period, 100))
            guard (try? await cancelWhenGracefulShutdown { try await clock.sleep(until: wake) }) != nil else { break }
            await extendOverdue()
        }
        if !Task.isCancelled { await handBack() }
    }

    /// Makes every message still held visible again at once, for another worker: called once the engine has stopped,
    /// when what is left is slots received but never started (a receive can bring more than the free capacity), or
    /// whose results could not be committed (spooled; committing them again is a no-op). Without this they would wait
    /// out their visibility timeout, long enough for a short interval's slots to go stale.
    func handBack() async {
        let entries = held.map { (id: $0.key, receiptHandle: $0.value.receiptHandle) }
        guard !entries.isEmpty else { return }
        var returned = 0
        for result in await eachChunk(of: entries, { [queue] in try await queue.changeMessageVisibilityBatch($0, visibility: .zero) }) {
            if let error = result.error {
                note("handing back \(result.entries.count) messages failed: \(error)")
                continue
            }
            returned += result.entries.count - result.refused.count
        }
        buffer = []
        held = [:]
        owners = [:]
        report.handedBack += returned
        logger.notice("\(returned) messages not finished here handed back to the queue")
    }

    /// One pass of ``keepVisible()``.
    func extendOverdue() async {
        let now = clock.now()
        let due = held.filter { now - $0.value.visibleFrom >= configuration.visibility.wholeMilliseconds / 2 }
        guard !due.isEmpty else { return }
        let entries = due.map { (id: $0.key, receiptHandle: $0.value.receiptHandle) }
        let visibility = configuration.visibility
        for result in await eachChunk(of: entries, { [queue] in try await queue.changeMessageVisibilityBatch($0, visibility: visibility) }) {
            if let error = result.error {
                note("extending the visibility of \(result.entries.count) messages failed: \(error)")
                continue
            }
            let refused = Set(result.refused.map(\.id))
            for (index, entry) in result.entries.enumerated() where !refused.contains(String(index)) {
                held[entry.id]?.visibleFrom = now
                report.extended += 1
            }
        }
    }

    private func note(_ error: String) {
        logger.error("\(error)")
        if report.errors.count == 100 { report.errors.removeFirst() }
        report.errors.append(error)
    }
}

/// A `Store` whose claims come from elsewhere (a queue, an event) and whose commits go to `database`; what it does
/// not change (releases, housekeeping) goes straight to the database.
package protocol SlotSource: Store {
    var database: any Store { get }
}

extension SlotSource {
    package func release(_ claims: [ClaimedMonitor], rescheduling: Bool) async throws(StoreError) {
        try await database.release(claims, rescheduling: rescheduling)
    }

    package func pruneChecks(startedBefore cutoff: EpochMilliseconds, limit: Int) async throws(StoreError) -> Int {
        try await database.pruneChecks(startedBefore: cutoff, limit: limit)
    }

    package func pruneOutbox(createdBefore cutoff: EpochMilliseconds, limit: Int) async throws(StoreError) -> Int {
        try await database.pruneOutbox(createdBefore: cutoff, limit: limit)
    }

    package func pruneRollups(_ resolution: Rollup.Resolution, before cutoff: EpochMilliseconds, limit: Int) async throws(StoreError) -> Int {
        try await database.pruneRollups(resolution, before: cutoff, limit: limit)
    }
}
