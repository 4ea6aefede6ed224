package import Logging
package import UptickCore
import ServiceLifecycle
package import UptickStore

/// The deliverer's limits. Every one has a default; docs/alerting.md lists them.
package struct DeliveryConfiguration: Sendable {
    /// Outbox rows claimed at once, at most.
    package var batchSize = 200
    /// Requests in flight at once to one channel.
    package var perChannelConcurrency = 4
    /// Requests in flight at once in all.
    package var maxInFlight = 256
    /// How long a claimed row is left to its deliverer before another may take it: it must outlast the row's
    /// wait in its lane, its send and the write of its outcome. A lane therefore holds only as many rows as it
    /// can surely send within the lease (see ``Deliverer``); a lease under twice the notifier's timeout plus
    /// 30 s is raised to that.
    package var lease: Duration = .seconds(60)
    /// An event still undelivered this long after it was recorded (or retried by hand) goes dead.
    package var giveUpAfter: Duration = .seconds(24 * 3600)
    /// The first retry's delay; each further one doubles, up to ``maxRetryDelay``. Jitter takes 0–50 % off.
    package var firstRetryDelay: Duration = .seconds(5)
    package var maxRetryDelay: Duration = .seconds(600)
    /// How often an idle daemon looks for due retries when nobody rings.
    package var idlePoll: Duration = .seconds(1)

    package init() {}
}

/// What a delivery run did.
package struct DeliveryReport: Sendable, Hashable {
    package var delivered = 0
    /// Delivered without sending: the channel type does not take this kind (PagerDuty and `degraded`).
    package var skipped = 0
    package var retrying = 0
    package var dead = 0
    /// Still in flight when the run had to end: released, due again at once.
    package var released = 0
    package var storeErrors = 0

    package init() {}

    package var attempts: Int { delivered + skipped + retrying + dead }

    mutating func count(_ outcome: DeliveryOutcome) {
        switch outcome.verdict {
        case .delivered: if outcome.error == nil { delivered += 1 } else { skipped += 1 }
        case .retry: retrying += 1
        case .dead: dead += 1
        case .released: released += 1
        }
    }
}

/// Reads due outbox rows, sends them, records what happened: at least once, in order per monitor
/// and channel, with exponential backoff and jitter between attempts, and `dead` after
/// ``DeliveryConfiguration/giveUpAfter`` or at the first permanent failure.
///
/// Each channel is a lane of its own. A lane sends ``DeliveryConfiguration/perChannelConcurrency`` rows at once
/// and queues the rest; a claim fills only lanes whose queue is empty, with at most ``laneDepth`` rows each: as
/// many as the lane can send within its lease even if every send takes the whole timeout (with the defaults,
/// 60 s and 10 s: 8 rows, two rounds of 4, then 30 s to spare). Each outcome is written as soon as it is known
/// (outcomes that finish together share a transaction, which also claims the next rows). A receiver that
/// answers after 9.9 s holds only its own lane; the others' events are claimed, sent and recorded meanwhile,
/// and no row outlives its lease, so none is sent twice while its deliverer lives.
package struct Deliverer: Sendable {
    let store: any OutboxStore
    let notifier: Notifier
    let clock: any WallClock
    let configuration: DeliveryConfiguration
    let logger: Logger
    /// A factor in 0.5…1 applied to each retry delay; injectable for tests.
    let jitter: @Sendable () -> Double
    /// Called with every batch of outcomes once it is written.
    let onRecorded: @Sendable ([DeliveryOutcome]) -> Void
    /// Called with each attempt's outcome as soon as it is known, and the channel's type (`nil`: the channel is gone).
    let onAttempt: @Sendable (_ channelType: String?, DeliveryOutcome) -> Void
    /// Rows one claim gives a lane: its concurrency times the rounds of sends that fit in the lease, after one
    /// send of its own and 30 s for writing outcomes.
    let laneDepth: Int

    package init(store: any OutboxStore, notifier: Notifier, clock: any WallClock = SystemClock(), configuration: DeliveryConfiguration = DeliveryConfiguration(),
                logger: Logger, jitter: @escaping @Sendable () -> Double = { Double.random(in: 0.5...1) },
                onRecorded: @escaping @Sendable ([DeliveryOutcome]) -> Void = { _ in },
                onAttempt: @escaping @Sendable (_ channelType: String?, DeliveryOutcome) -> Void = { _, _ in }) {
        self.store = store
        self.notifier = notifier
        self.clock = clock
        var configuration = configuration
        configuration.lease = max(configuration.lease, notifier.timeout * 2 + .seconds(30))
        self.configuration = configuration
        let rounds = (configuration.lease - .seconds(30)) / notifier.timeout - 1
        self.laneDepth = configuration.perChannelConcurrency * max(1, Int(rounds))
        self.logger = logger
        self.jitter = jitter
        self.onRecorded = onRecorded
        self.onAttempt = onAttempt
    }

    /// Delivers what is due until nothing is, or until `budget` has passed: sends still in flight then are
    /// cancelled and their rows released, due again at once (for `uptick tick` and the Lambda's deadline).
    package func deliverDue(budget: Duration) async -> DeliveryReport {
        let (events, post) = AsyncStream<Event>.makeStream()
        return await drive(until: .budget(ContinuousClock.now + budget), events: events, post: post)
    }

    /// Delivers until a graceful shutdown: claims whenever the doorbell rings, a write of outcomes ends (it
    /// claims in the same transaction), or ``DeliveryConfiguration/idlePoll`` passes. At the shutdown, sends in
    /// flight finish (each is bounded by the notifier's timeout) and are recorded. Cancelled, it returns at once;
    /// the rows it held come back when their lease ends. For `uptick run` (see ``DeliveryService``).
    package func run(doorbell: Doorbell) async -> DeliveryReport {
        let (events, post) = AsyncStream<Event>.makeStream()
        return await withGracefulShutdownHandler {
            await drive(until: .shutdown(doorbell), events: events, post: post)
        } onGracefulShutdown: {
            post.yield(.stop)
        }
    }

    enum Mode {
        case budget(ContinuousClock.Instant)
        case shutdown(Doorbell)
    }

    enum Event: Sendable {
        case sent(channel: Int64, DeliveryOutcome)
        /// A write of outcomes ended; with a claim when it also claimed (in the same transaction), and whether
        /// that claim came back full (more may be due).
        case recorded([DeliveryOutcome], DeliveryClaim?, full: Bool, StoreError?)
        case wake
        case stop
    }

    /// The lanes' bookkeeping: the loop below is its only user.
    struct Lanes {
        /// Sends in flight, by channel.
        var inFlight: [Int64: Int] = [:]
        /// Claimed rows waiting for a free slot of their channel, oldest first.
        var queued: [Int64: [(OutboxRecord, ChannelRecord?)]] = [:]
        var sends: [Int64: Task<Void, Never>] = [:]
        var unrecorded: [DeliveryOutcome] = []
        var recording = false
        /// Rows claimed and not yet finished.
        var held = 0
    }

    private func drive(until mode: Mode, events: AsyncStream<Event>, post: AsyncStream<Event>.Continuation) async -> DeliveryReport {
        var report = DeliveryReport()
        var lanes = Lanes()
        var iterator = events.makeAsyncIterator()
        var helpers: [Task<Void, Never>] = []
        switch mode {
        case .budget(let end):
            helpers.append(Task {
                try? await Task.sleep(until: end, clock: .continuous)
                post.yield(.stop)
            })
        case .shutdown(let doorbell):
            helpers.append(Task { [clock, poll = configuration.idlePoll] in
                while !Task.isCancelled {
                    await withTaskGroup(of: Void.self) { group in
                        group.addTask { await doorbell.wait() }
                        group.addTask { try? await clock.sleep(until: clock.now() + poll.wholeMilliseconds) }
                        await group.next()
                        group.cancelAll()
                    }
                    post.yield(.wake)
                }
            })
        }
        var stopping = false
        var claimAgain = true
        loop: while true {
            // Cancelled: claim nothing more (what is held comes back when its lease ends).
            if Task.isCancelled { stopping = true }
            if claimAgain, !stopping, lanes.held < configuration.maxInFlight {
                if let full = await claim(&lanes, &report, post: post) {
                    claimAgain = full
                } else {
                    claimAgain = false  // the database failed: a daemon tries at its next wake-up, a budgeted run ends
                    if mode.endsWhenIdle { stopping = true }
                }
            }
            if !lanes.recording, !lanes.unrecorded.isEmpty {
                let batch = lanes.unrecorded
                lanes.unrecorded = []
                lanes.recording = true
                // The write also claims what the lanes can take next, in one transaction and round trip.
                let request = stopping || lanes.held >= configuration.maxInFlight ? nil : request(lanes)
                Task {
                    do throws(StoreError) {
                        if let request {
                            let claim = try await store.record(batch, thenClaiming: request)
                            post.yield(.recorded(batch, claim, full: claim.rows.count == request.limit, nil))
                        } else {
                            try await store.record(batch)
                            post.yield(.recorded(batch, nil, full: false, nil))
                        }
                    } catch {
                        post.yield(.recorded(batch, nil, full: false, error))
                    }
                }
            }
            let idle = lanes.sends.isEmpty && !lanes.recording && lanes.unrecorded.isEmpty
            if idle, stopping || (!claimAgain && mode.endsWhenIdle) { break loop }
            // `nil` only when this task is cancelled.
            guard let event = await iterator.next() else { break loop }
            switch event {
            case .sent(let channel, let outcome):
                if lanes.sends.removeValue(forKey: outcome.outboxID) != nil {
                    lanes.inFlight[channel, default: 1] -= 1
                    lanes.held -= 1
                    report.count(outcome)
                    lanes.unrecorded.append(outcome)
                    startQueued(channel, &lanes, post: post)
                } else if outcome.verdict == .delivered {
                    // Released at the end of the budget, yet it got through: worth recording (a release never
                    // undoes a delivery). Its failure would only be our own cancellation: the row stays due.
                    lanes.unrecorded.append(outcome)
                }
                // The slot is claimed again once this outcome is written (below): a monitor's next event only
                // becomes claimable then, and one claim per write, not per send, keeps claims few.
            case .recorded(let batch, let claim, let full, nil):
                lanes.recording = false
                onRecorded(batch)
                if let claim, stopping, mode.endsWhenIdle {
                    // Claimed as the budget ended: given back at once, unsent.
                    lanes.unrecorded += claim.rows.map { DeliveryOutcome(outboxID: $0.id, verdict: .released, at: clock.now(), error: nil) }
                } else if let claim {
                    take(claim, &lanes, post: post)  // a daemon that is stopping sends them: they are leased to it
                    claimAgain = full
                } else {
                    claimAgain = true
                }
            case .recorded(let batch, _, _, let error?):
                // Kept for the next write; if none succeeds the rows come back after the lease, and delivered
                // ones are sent again, which at-least-once allows and the event id lets receivers notice.
                logger.error("recording \(batch.count) delivery outcomes failed: \(error)")
                report.storeErrors += 1
                lanes.recording = false
                lanes.unrecorded = batch + lanes.unrecorded
                if stopping, mode.endsWhenIdle { break loop }
                try? await Task.sleep(for: .milliseconds(250))
            case .wake:
                claimAgain = true
            case .stop:
                stopping = true
                if mode.endsWhenIdle { release(&lanes, &report) }
            }
        }
        for helper in helpers { helper.cancel() }
        post.finish()
        return report
    }

    /// What the lanes can take now: at most ``laneDepth`` rows of each channel whose queue is empty.
    private func request(_ lanes: Lanes) -> DeliveryRequest {
        let queued = Set(lanes.queued.filter { !$0.value.isEmpty }.keys)
        return DeliveryRequest(now: clock.now(), limit: min(configuration.batchSize, configuration.maxInFlight - lanes.held),
                               perChannel: laneDepth, excluding: queued, lease: configuration.lease)
    }

    /// Claims what the lanes can take and puts it in them. Returns whether claiming again at once could find
    /// more (the claim came back full), or `nil` when the database failed.
    private func claim(_ lanes: inout Lanes, _ report: inout DeliveryReport, post: AsyncStream<Event>.Continuation) async -> Bool? {
        let request = request(lanes)
        let claim: DeliveryClaim
        do {
            claim = try await store.claimDeliveries(now: request.now, limit: request.limit, perChannel: request.perChannel,
                                                    excluding: request.excluding, lease: request.lease)
        } catch {
            logger.error("claiming outbox rows failed: \(error)")
            report.storeErrors += 1
            return nil
        }
        take(claim, &lanes, post: post)
        return claim.rows.count == request.limit
    }

    /// Puts claimed rows in their lanes and starts what the lanes' free slots allow.
    private func take(_ claim: DeliveryClaim, _ lanes: inout Lanes, post: AsyncStream<Event>.Continuation) {
        for row in claim.rows {
            lanes.queued[row.channelID, default: []].append((row, claim.channels[row.channelID]))
            lanes.held += 1
        }
        for channel in Set(claim.rows.map(\.channelID)) { startQueued(channel, &lanes, post: post) }
    }

    /// Starts the queued sends of `channel` while it has free slots.
    private func startQueued(_ channel: Int64, _ lanes: inout Lanes, post: AsyncStream<Event>.Continuation) {
        while lanes.inFlight[channel, default: 0] < configuration.perChannelConcurrency, var queue = lanes.queued[channel], !queue.isEmpty {
            let (row, record) = queue.removeFirst()
            lanes.queued[channel] = queue.isEmpty ? nil : queue
            lanes.inFlight[channel, default: 0] += 1
            lanes.sends[row.id] = Task {
                let outcome = await attempt(row, record)
                if outcome.verdict != .released, !Task.isCancelled { onAttempt(record?.type, outcome) }
                post.yield(.sent(channel: channel, outcome))
            }
        }
        if lanes.inFlight[channel] == 0 { lanes.inFlight[channel] = nil }
    }

    /// At the end of a budget: cancels the sends in flight and releases their rows and the queued ones, due
    /// again at once. A send that got through just before would be sent again: at least once.
    private func release(_ lanes: inout Lanes, _ report: inout DeliveryReport) {
        let now = clock.now()
        for send in lanes.sends.values { send.cancel() }
        for id in Array(lanes.sends.keys) + lanes.queued.values.flatMap({ $0.map(\.0.id) }) {
            let outcome = DeliveryOutcome(outboxID: id, verdict: .released, at: now, error: nil)
            lanes.unrecorded.append(outcome)
            report.count(outcome)
        }
        lanes = Lanes(unrecorded: lanes.unrecorded, recording: lanes.recording)
    }

    private func attempt(_ row: OutboxRecord, _ channel: ChannelRecord?) async -> DeliveryOutcome {
        guard let channel else {
            return DeliveryOutcome(outboxID: row.id, verdict: .dead, at: clock.now(), error: "channel no longer exists")
        }
        let result = await notifier.send(row.payload, to: channel)
        let now = clock.now()
        switch result {
        case .delivered(let note):
            return DeliveryOutcome(outboxID: row.id, verdict: .delivered, at: now, error: note)
        case .failed(let failure):
            // A send cancelled at the end of a budget is released, not failed: nothing to warn about.
            if !Task.isCancelled {
                logger.warning("delivering \(row.eventID) to channel \(channel.name) failed (attempt \(row.attempts)): \(failure.message)")
            }
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

extension Deliverer.Mode {
    /// A budgeted run ends once nothing more is due; a daemon waits for more.
    var endsWhenIdle: Bool {
        if case .budget = self { true } else { false }
    }
}
