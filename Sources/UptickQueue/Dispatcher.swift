package import Logging
import ServiceLifecycle
package import UptickAWS
package import UptickCore
import UptickEngine
package import UptickStore

/// How the dispatcher paces itself.
package struct DispatchConfiguration: Sendable {
    /// Most slots claimed per claim statement (`batch`).
    package var batch = 500
    /// Added to every lease, as for the engine.
    package var leaseGrace: Duration = .seconds(60)
    /// Daemon: the longest sleep without asking the database.
    package var idleRecheck: Duration = .seconds(1)
    /// Daemon: claims at least this far apart, so that a round fills its messages: with the engine's 20 ms, 600 slots/s
    /// went out as 12-slot messages and cost 171 SQS requests per 1 000 checks; with 1 s, ≈ 25-slot messages
    /// (BENCHMARKS.md, "Dispatcher and workers"). Slots wait up to this long for their claim.
    package var claimWindow: Duration = .seconds(1)
    /// Batch calls in flight at once.
    package var sendConcurrency = 8
    /// The longest pause after the queue failed.
    package var maxBackoff: Duration = .seconds(30)
    /// Tick: no claim at or after this time.
    package var claimUntil: EpochMilliseconds?
    /// Written to `checks.runner` for slots the dispatcher itself records (a monitor too large to queue).
    package var runnerID: String

    package init(runnerID: String) {
        self.runnerID = runnerID
    }
}

/// What a dispatcher run did.
package struct DispatchReport: Sendable, Hashable, Encodable {
    package var claimed = 0
    /// Slots in messages SQS accepted.
    package var sent = 0
    package var messages = 0
    /// `SendMessageBatch` calls made (each with its retries counted once).
    package var sendCalls = 0
    /// Slots given back to the database because they could not be sent.
    package var released = 0
    /// Slots whose monitor is too large for a message, recorded as `invalid_monitor` checks.
    package var oversized = 0
    /// Claimed slots neither sent nor released (the database was gone too): they come back when their lease ends.
    package var leftToLease = 0
    package var errors: [String] = []

    package init() {}

    mutating func add(_ other: DispatchReport) {
        claimed += other.claimed
        sent += other.sent
        messages += other.messages
        sendCalls += other.sendCalls
        released += other.released
        oversized += other.oversized
        leftToLease += other.leftToLease
        errors = Array((errors + other.errors).suffix(100))
    }
}

/// Claims due slots with the engine's atomic claim, packs them into messages (``SlotPacking``) and sends them to
/// the queue. A claimed slot is sent, or released (due again at once), never dropped: a batch call that failed after
/// its retries, or an entry SQS refused, gives its slots back to the database.
package struct Dispatcher: Sendable {
    let store: any Store
    let queue: SQSClient
    let clock: any WallClock
    let configuration: DispatchConfiguration
    let logger: Logger

    package init(store: any Store, queue: SQSClient, clock: any WallClock = SystemClock(), configuration: DispatchConfiguration, logger: Logger) {
        self.store = store
        self.queue = queue
        self.clock = clock
        self.configuration = configuration
        self.logger = logger
    }

    /// Sends everything due now (claiming again while claims come back full), then returns.
    package func tick() async -> DispatchReport {
        var report = DispatchReport()
        while true {
            let now = clock.now()
            if let until = configuration.claimUntil, now >= until { break }
            let round = await dispatchRound(now: now)
            report.add(round.report)
            guard round.full, !round.queueFailed, !round.claimFailed else { break }
        }
        return report
    }

    /// Dispatches until a graceful shutdown or cancellation; a round in progress is finished (its slots sent or
    /// released) first. After a failure of the queue or the database it pauses, doubling up to ``DispatchConfiguration/maxBackoff``.
    package func run() async -> DispatchReport {
        var report = DispatchReport()
        var failures = 0
        while !Task.isShuttingDownGracefully && !Task.isCancelled {
            let now = clock.now()
            let round = await dispatchRound(now: now)
            report.add(round.report)
            failures = round.failed ? failures + 1 : 0
            if failures > 0 { logger.warning("dispatch paused after \(failures) failed rounds: \(round.report.errors.last ?? "")") }
            guard let wake = Self.nextRound(after: round, started: now, ended: clock.now(), failures: failures, configuration) else { continue }
            try? await cancelWhenGracefulShutdown { [clock] in try await clock.sleep(until: wake) }
        }
        return report
    }

    /// When the daemon's next round starts (`nil`: at once) after a round that started at `started` and ended at
    /// `ended`, `failures` failed rounds in a row included: a failure backs off from its end, 0.5 s doubling up to
    /// ``DispatchConfiguration/maxBackoff``; a full claim goes on at once; otherwise the next due slot, within the
    /// idle recheck, and at least a claim window after the last claim.
    static func nextRound(after round: Round, started: EpochMilliseconds, ended: EpochMilliseconds, failures: Int,
                          _ configuration: DispatchConfiguration) -> EpochMilliseconds? {
        if failures > 0 { return ended + min(250 << min(failures, 10), configuration.maxBackoff.wholeMilliseconds) }
        if round.full { return nil }
        let wake = min(round.nextDue ?? .max, started + configuration.idleRecheck.wholeMilliseconds)
        return max(wake, started + configuration.claimWindow.wholeMilliseconds)
    }

    struct Round {
        var report = DispatchReport()
        var full = false
        var nextDue: EpochMilliseconds?
        var queueFailed = false
        var claimFailed = false
        var failed: Bool { queueFailed || claimFailed }
    }

    /// One claim, its messages sent, what could not be sent released.
    func dispatchRound(now: EpochMilliseconds) async -> Round {
        var round = Round()
        let claim: Claim
        do {
            claim = try await store.claimDue(now: now, limit: configuration.batch, leaseGrace: configuration.leaseGrace,
                                             leaseIntervals: Int(SlotMessage.staleIntervals))
        } catch {
            round.claimFailed = true
            round.report.errors.append("claim failed: \(error)")
            logger.error("claim failed: \(error)")
            return round
        }
        round.full = claim.monitors.count == configuration.batch
        round.nextDue = claim.nextDue
        round.report.claimed = claim.monitors.count
        guard !claim.monitors.isEmpty else { return round }
        let packing = SlotPacking(claim.monitors, dispatchedAt: now)
        if !packing.oversized.isEmpty { await recordOversized(packing.oversized, report: &round.report) }
        let calls = packing.calls()
        var unsent: [ClaimedMonitor] = []
        await withTaskGroup(of: CallResult.self) { group in
            var next = 0
            func startNext() {
                guard next < calls.count else { return }
                let call = calls[next]
                next += 1
                group.addTask { await send(call) }
            }
            for _ in 0..<min(configuration.sendConcurrency, calls.count) { startNext() }
            for await result in group {
                round.report.sendCalls += 1
                round.report.sent += result.sent
                round.report.messages += result.messages
                unsent += result.unsent
                if let error = result.error {
                    round.queueFailed = true
                    round.report.errors.append(error)
                }
                startNext()
            }
        }
        guard !unsent.isEmpty else { return round }
        do {
            try await store.release(unsent, rescheduling: true)
            round.report.released = unsent.count
            logger.warning("released \(unsent.count) slots that could not be sent; they are due again")
        } catch {
            round.report.leftToLease = unsent.count
            round.report.errors.append("release failed: \(error)")
            logger.error("\(unsent.count) unsent slots could not be released (\(error)); they come back when their leases end")
        }
        return round
    }

    struct CallResult: Sendable {
        var sent = 0
        var messages = 0
        var unsent: [ClaimedMonitor] = []
        var error: String?
    }

    /// One `SendMessageBatch` (retried by the client); entries SQS refused, or the whole call if it failed, are unsent.
    func send(_ call: [SlotPacking.Packed]) async -> CallResult {
        var result = CallResult()
        let entries = call.enumerated().map { (id: String($0.offset), body: $0.element.body) }
        do {
            let failed = try await queue.sendMessageBatch(entries)
            let refused = Set(failed.map(\.id))
            for (index, message) in call.enumerated() {
                if refused.contains(String(index)) {
                    result.unsent += message.slots
                } else {
                    result.sent += message.slots.count
                    result.messages += 1
                }
            }
            if let first = failed.first {
                result.error = "SQS refused \(failed.count) of \(call.count) messages: \(first.code) \(first.message ?? "")"
                logger.error("\(result.error ?? "")")
            }
        } catch {
            result.unsent = call.flatMap(\.slots)
            result.error = "send failed: \(error)"
            logger.error("sending \(call.count) messages failed: \(error)")
        }
        return result
    }

    /// A monitor too large for any message cannot be run by a worker: its slot is recorded as an `invalid_monitor`
    /// check (through the status logic, so its owner is told), and it stays claimable.
    private func recordOversized(_ oversized: [(claimed: ClaimedMonitor, bytes: Int)], report: inout DispatchReport) async {
        let now = clock.now()
        let outcomes = oversized.map { item in
            item.claimed.outcome(
                .down(.invalidMonitor, "the monitor's definition (\(item.bytes) bytes) is larger than a queue message (\(SlotMessage.maxBytes) bytes)"),
                startedAt: now, policy: (try? CheckSpec(monitor: item.claimed.monitor))?.alerts ?? AlertPolicy(), runner: configuration.runnerID)
        }
        do {
            try await store.persist(outcomes)
            report.oversized = outcomes.count
        } catch {
            report.leftToLease += outcomes.count
            report.errors.append("recording oversized monitors failed: \(error)")
        }
        logger.error("\(oversized.count) monitors are too large to queue; recorded as invalid_monitor")
    }
}
