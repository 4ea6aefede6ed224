import Logging
import UptickCore
import UptickEngine
import UptickStore

/// The deliverer's limits. Every one has a default; docs/alerting.md lists them.
public struct DeliveryConfiguration: Sendable {
    /// Outbox rows claimed per round.
    public var batchSize = 200
    /// Requests in flight at once to one channel.
    public var perChannelConcurrency = 4
    /// How long a claimed row is left to its deliverer before another may take it (longer than a send's timeout).
    public var lease: Duration = .seconds(60)
    /// An event still undelivered this long after it was recorded (or retried by hand) goes dead.
    public var giveUpAfter: Duration = .seconds(24 * 3600)
    /// The first retry's delay; each further one doubles, up to ``maxRetryDelay``. Jitter takes 0–50 % off.
    public var firstRetryDelay: Duration = .seconds(5)
    public var maxRetryDelay: Duration = .seconds(600)
    /// How often an idle daemon looks for due retries when nobody rings.
    public var idlePoll: Duration = .seconds(1)

    public init() {}
}

/// What a delivery run did.
public struct DeliveryReport: Sendable, Hashable {
    public var delivered = 0
    /// Delivered without sending: the channel type does not take this kind (PagerDuty and `degraded`).
    public var skipped = 0
    public var retrying = 0
    public var dead = 0
    public var storeErrors = 0

    public init() {}

    public var attempts: Int { delivered + skipped + retrying + dead }

    static func + (left: DeliveryReport, right: DeliveryReport) -> DeliveryReport {
        var sum = left
        sum.delivered += right.delivered
        sum.skipped += right.skipped
        sum.retrying += right.retrying
        sum.dead += right.dead
        sum.storeErrors += right.storeErrors
        return sum
    }
}

/// Reads due outbox rows, sends them, records what happened: at least once, in order per monitor
/// and channel, with exponential backoff and jitter between attempts, and `dead` after
/// ``DeliveryConfiguration/giveUpAfter`` or at the first permanent failure.
public struct Deliverer: Sendable {
    let store: any OutboxStore
    let notifier: Notifier
    let clock: any WallClock
    let configuration: DeliveryConfiguration
    let logger: Logger
    /// A factor in 0.5…1 applied to each retry delay; injectable for tests.
    let jitter: @Sendable () -> Double

    public init(store: any OutboxStore, notifier: Notifier, clock: any WallClock = SystemClock(), configuration: DeliveryConfiguration = DeliveryConfiguration(),
                logger: Logger, jitter: @escaping @Sendable () -> Double = { Double.random(in: 0.5...1) }) {
        self.store = store
        self.notifier = notifier
        self.clock = clock
        self.configuration = configuration
        self.logger = logger
        self.jitter = jitter
    }

    /// Delivers what is due until nothing is, or until `budget` has passed (a round already started
    /// finishes; each send is bounded by the notifier's timeout). For `uptick tick`.
    public func deliverDue(budget: Duration) async -> DeliveryReport {
        let end = ContinuousClock.now + budget
        var report = DeliveryReport()
        while ContinuousClock.now < end {
            let (round, claimed) = await self.round()
            report = report + round
            if claimed == 0 || round.storeErrors > 0 { break }
        }
        return report
    }

    /// Delivers until `stop`: a round whenever the doorbell rings or ``DeliveryConfiguration/idlePoll``
    /// passes, and again at once while rounds come back full. For `uptick run`.
    public func run(until stop: StopSignal, doorbell: Doorbell) async -> DeliveryReport {
        var report = DeliveryReport()
        while !stop.isStopped {
            let (round, claimed) = await self.round()
            report = report + round
            if claimed >= configuration.batchSize && round.storeErrors == 0 { continue }
            await withTaskGroup(of: Void.self) { group in
                group.addTask { await stop.wait() }
                group.addTask { await doorbell.wait() }
                group.addTask { [clock, poll = configuration.idlePoll] in
                    try? await clock.sleep(until: clock.now() + poll.wholeMilliseconds)
                }
                await group.next()
                group.cancelAll()
            }
        }
        return report
    }

    /// One claim, its sends, one write of the outcomes. Returns the report and how many rows were claimed.
    func round() async -> (DeliveryReport, Int) {
        var report = DeliveryReport()
        let claim: DeliveryClaim
        do {
            claim = try await store.claimDeliveries(now: clock.now(), limit: configuration.batchSize, lease: configuration.lease)
        } catch {
            logger.error("claiming outbox rows failed: \(error)")
            report.storeErrors += 1
            return (report, 0)
        }
        guard !claim.rows.isEmpty else { return (report, 0) }
        let byChannel = Dictionary(grouping: claim.rows, by: \.channelID)
        let outcomes = await withTaskGroup(of: [DeliveryOutcome].self) { group in
            for (channelID, rows) in byChannel {
                let channel = claim.channels[channelID]
                group.addTask { await deliver(rows, to: channel) }
            }
            var all: [DeliveryOutcome] = []
            for await outcomes in group { all += outcomes }
            return all
        }
        for outcome in outcomes {
            switch outcome.verdict {
            case .delivered: if outcome.error == nil { report.delivered += 1 } else { report.skipped += 1 }
            case .retry: report.retrying += 1
            case .dead: report.dead += 1
            }
        }
        do {
            try await store.record(outcomes)
        } catch {
            // The rows stay leased and come back after the lease: delivered ones are sent again,
            // which at-least-once allows and the event id lets receivers notice.
            logger.error("recording \(outcomes.count) delivery outcomes failed: \(error)")
            report.storeErrors += 1
        }
        return (report, claim.rows.count)
    }

    /// Sends one channel's rows, at most ``DeliveryConfiguration/perChannelConcurrency`` at once.
    private func deliver(_ rows: [OutboxRecord], to channel: ChannelRecord?) async -> [DeliveryOutcome] {
        guard let channel else {
            return rows.map { DeliveryOutcome(outboxID: $0.id, verdict: .dead, at: clock.now(), error: "channel no longer exists") }
        }
        return await withTaskGroup(of: DeliveryOutcome.self) { group in
            var pending = rows[...]
            var outcomes: [DeliveryOutcome] = []
            for _ in 0..<configuration.perChannelConcurrency {
                guard let row = pending.popFirst() else { break }
                group.addTask { await attempt(row, channel) }
            }
            for await outcome in group {
                outcomes.append(outcome)
                if let row = pending.popFirst() { group.addTask { await attempt(row, channel) } }
            }
            return outcomes
        }
    }

    private func attempt(_ row: OutboxRecord, _ channel: ChannelRecord) async -> DeliveryOutcome {
        let result = await notifier.send(row.payload, to: channel)
        let now = clock.now()
        switch result {
        case .delivered(let note):
            return DeliveryOutcome(outboxID: row.id, verdict: .delivered, at: now, error: note)
        case .failed(let failure):
            logger.warning("delivering \(row.eventID) to channel \(channel.name) failed (attempt \(row.attempts)): \(failure.message)")
            if failure.permanent {
                return DeliveryOutcome(outboxID: row.id, verdict: .dead, at: now, error: failure.message)
            }
            let retryAt = now + retryDelay(afterAttempt: row.attempts)
            if retryAt - (row.retriedAt ?? row.createdAt) >= configuration.giveUpAfter.wholeMilliseconds {
                return DeliveryOutcome(outboxID: row.id, verdict: .dead, at: now, error: "gave up after \(row.attempts) attempts: \(failure.message)")
            }
            return DeliveryOutcome(outboxID: row.id, verdict: .retry(at: retryAt), at: now, error: failure.message)
        }
    }

    /// min(max, first × 2^(attempt−1)) × jitter, in milliseconds.
    func retryDelay(afterAttempt attempt: Int64) -> Int64 {
        let first = Double(configuration.firstRetryDelay.wholeMilliseconds)
        let exponential = first * pow2(max(0, attempt - 1))
        let capped = min(Double(configuration.maxRetryDelay.wholeMilliseconds), exponential)
        return Int64(capped * jitter())
    }

    private func pow2(_ exponent: Int64) -> Double {
        exponent >= 62 ? .infinity : Double(Int64(1) << exponent)
    }
}
