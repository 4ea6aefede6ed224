package import Logging
import ServiceLifecycle
package import UptickCore
package import UptickProbes
package import UptickStore

/// Claim → probe → persist → hand over transitions, as a pipeline.
///
/// Claims happen whenever there is free capacity and something is due, checks run concurrently up to
/// ``EngineConfiguration/concurrency``, and results are committed in batches while later checks still
/// run. `tick` drives the pipeline until nothing more is due; `run` drives it until stopped.
package struct Engine: Sendable {
    let store: any Store
    let probe: any Probe
    let clock: any WallClock
    let sink: any TransitionSink
    let configuration: EngineConfiguration
    let logger: Logger
    /// Called with every batch of committed outcomes, in commit order.
    let onCommit: @Sendable ([CheckOutcome]) -> Void
    let observer: any EngineObserver
    let specs = SpecCache()
    /// Monitors whose probe has not returned yet, deadline or not.
    let running = RunningChecks()

    package init(
        store: any Store, probe: any Probe, clock: any WallClock = SystemClock(), sink: any TransitionSink,
        configuration: EngineConfiguration, logger: Logger, observer: any EngineObserver = NoObserver(),
        onCommit: @escaping @Sendable ([CheckOutcome]) -> Void = { _ in }
    ) {
        self.store = store
        self.probe = probe
        self.clock = clock
        self.sink = sink
        self.configuration = configuration
        self.logger = logger
        self.onCommit = onCommit
        self.observer = observer
    }

    /// Runs every monitor due now, commits the results, and returns. `carriedOver` are results a
    /// previous run could not commit; they are committed first.
    package func tick(carriedOver: [CheckOutcome] = []) async -> EngineReport {
        await drive(.tick(at: clock.now()), carriedOver: carriedOver)
    }

    /// Runs as a daemon until a graceful shutdown (of the ``ServiceGroup`` it runs in), then stops claiming,
    /// lets in-flight checks finish (each is bounded by its deadline), commits everything and returns.
    ///
    /// Cancelled, it returns at once: checks in flight are left to their leases, and every result not yet
    /// known to be committed (waiting, or in a commit that has not answered) is in the report's
    /// ``EngineReport/unpersisted``, for the spool. Committing is idempotent, so one that did land is harmless.
    package func run(carriedOver: [CheckOutcome] = []) async -> EngineReport {
        await drive(.daemon, carriedOver: carriedOver)
    }

    enum Mode {
        /// Claim what is due at the given time, then finish.
        case tick(at: EpochMilliseconds)
        case daemon

        var isTick: Bool {
            if case .tick = self { true } else { false }
        }
    }

    enum Event: Sendable {
        /// A claim started at the given time answered.
        case claimed(Result<Claim, StoreError>, limit: Int, at: EpochMilliseconds, took: Duration)
        case checked(CheckOutcome)
        case committed([CheckOutcome], StoreError?, Duration)
        /// The wake-up task with this number ended.
        case woke(Int)
        case stopRequested
    }

    /// Every event reaches the loop through one stream: checks, commits, wake-ups and the stop waiter
    /// each post theirs when they end. No task waits for a check: a check is a task started on an event
    /// loop (see ``CheckRunner/start(_:deliver:)``) that posts its outcome, or its hard-deadline
    /// fallback, exactly once.
    private func drive(_ mode: Mode, carriedOver: [CheckOutcome]) async -> EngineReport {
        let (events, post) = AsyncStream<Event>.makeStream()
        guard case .daemon = mode else { return await loop(mode, carriedOver: carriedOver, events: events, post: post) }
        return await withGracefulShutdownHandler {
            await loop(mode, carriedOver: carriedOver, events: events, post: post)
        } onGracefulShutdown: {
            post.yield(.stopRequested)
        }
    }

    private func loop(
        _ mode: Mode, carriedOver: [CheckOutcome], events: AsyncStream<Event>, post: AsyncStream<Event>.Continuation
    ) async -> EngineReport {
        var pipeline = Pipeline(configuration: configuration, pending: carriedOver, now: clock.now())
        var iterator = events.makeAsyncIterator()
        // Wake-ups by number: cancelled when the run ends.
        var helpers: [Int: Task<Void, Never>] = [:]
        var nextHelper = 0
        while true {
            // Cancelled: no more claims. The events already posted are still read (a cancelled stream hands
            // over what it holds, then ends), so no result that reached the engine is lost.
            if Task.isCancelled { pipeline.stopRequested() }
            let now = clock.now()
            pipeline.enforceClaimDeadline(now: now)
            if pipeline.shouldClaim(now: now) {
                claim(&pipeline, mode: mode, now: now, post: post)
            }
            if let batch = pipeline.batchToCommit(now: now) {
                Task {
                    let started = ContinuousClock.now
                    do throws(StoreError) {
                        try await store.persist(batch)
                        post.yield(.committed(batch, nil, ContinuousClock.now - started))
                    } catch {
                        post.yield(.committed(batch, error, ContinuousClock.now - started))
                    }
                }
            }
            if pipeline.isFinished { break }
            if let wake = pipeline.nextWake(now: now), pipeline.armWake(at: wake) {
                let number = nextHelper
                nextHelper += 1
                helpers[number] = Task { [clock] in
                    guard (try? await clock.sleep(until: wake)) != nil else { return }
                    post.yield(.woke(number))
                }
            }
            // `nil` only once this task is cancelled and the events posted before are read.
            guard let event = await iterator.next() else { break }
            if case .woke(let number) = event { helpers[number] = nil }
            await handle(event, &pipeline, mode: mode, post: post)
            observer.load(inFlight: pipeline.inFlight, pending: pipeline.pendingCount)
        }
        if Task.isCancelled {
            logger.notice("cancelled: \(pipeline.inFlight) checks in flight left to their leases")
            pipeline.cancelled()
        }
        for helper in helpers.values { helper.cancel() }
        post.finish()
        return pipeline.report
    }

    /// Starts a claim; its answer comes back as a `.claimed` event, so commits and results go on meanwhile (a
    /// queue's claim is a long poll).
    private func claim(_ pipeline: inout Pipeline, mode: Mode, now: EpochMilliseconds, post: AsyncStream<Event>.Continuation) {
        let limit = pipeline.claimLimit
        let claimTime: EpochMilliseconds
        if case .tick(let start) = mode { claimTime = start } else { claimTime = now }
        pipeline.claimStarted()
        // A tick claims at its start time (slots due then), but leases from now: a long tick's later claims would
        // otherwise lease for less than a check.
        let (store, grace) = (store, configuration.leaseGrace + .milliseconds(now - claimTime))
        Task {
            let started = ContinuousClock.now
            do throws(StoreError) {
                let claim = try await store.claimDue(now: claimTime, limit: limit, leaseGrace: grace)
                post.yield(.claimed(.success(claim), limit: limit, at: now, took: ContinuousClock.now - started))
            } catch {
                post.yield(.claimed(.failure(error), limit: limit, at: now, took: ContinuousClock.now - started))
            }
        }
    }

    private func handle(_ event: Event, _ pipeline: inout Pipeline, mode: Mode, post: AsyncStream<Event>.Continuation) async {
        switch event {
        case .claimed(.success(let claim), let limit, let at, let took):
            observer.claimed(claim.monitors.count, took: took, at: clock.now())
            // A claim ends an outage only when no results wait: otherwise the commit that lands them does.
            if pipeline.pendingCount == 0, let line = pipeline.outage.succeeded(now: clock.now(), committed: 0) { logger.notice("\(line)") }
            // Cancelled meanwhile: these are left to their leases, as checks in flight are.
            guard !Task.isCancelled else { return pipeline.claimAbandoned() }
            // A claim that answered so late that a check would outlive its lease (the database was slow): those
            // monitors are handed back due at their slot, for the next claim (ours or another runner's).
            // A monitor whose check still runs here within its timeout had its lease end early (the wall clock stepped
            // forward): that check answers for it, and this slot is skipped. Past its timeout the check's result is in
            // (the hard deadline), and a probe still running then is stuck: that slot is a "still running" failure.
            let checkStart = clock.now()
            var fitting: [ClaimedMonitor] = [], late: [ClaimedMonitor] = [], busy: [ClaimedMonitor] = []
            for claimed in claim.monitors {
                if !claimed.leaseCovers(checkStartingAt: checkStart) {
                    late.append(claimed)
                } else if running.isRunning(claimed.monitor.id, startedWithin: .milliseconds(claimed.checkTimeout)) {
                    busy.append(claimed)
                } else {
                    fitting.append(claimed)
                    start(claimed) { post.yield(.checked($0)) }
                }
            }
            if !late.isEmpty {
                logger.warning("the claim answered after \(took): \(late.count) monitors handed back unchecked (their lease could not cover a check)")
                // Awaited (a rare path), so the claim that follows at once sees them due; if it fails, they come back
                // when their (short) leases end.
                try? await store.release(late, rescheduling: true)
            }
            if !busy.isEmpty {
                logger.notice("\(busy.count) monitors claimed while their check still runs here (their leases ended early): this slot skipped")
                try? await store.release(busy, rescheduling: false)
            }
            pipeline.claimed(Claim(monitors: fitting, nextDue: claim.nextDue), limit: limit, now: at, tickMode: mode.isTick, handedBack: !late.isEmpty)
        case .claimed(.failure(let error), _, _, let took):
            observer.claimed(nil, took: took, at: clock.now())
            if let line = pipeline.outage.failed("claim", error, now: clock.now(), pending: pipeline.pendingCount) { logger.error("\(line)") }
            // The backoff counts from the failure, not from the start of a claim that may have waited out a
            // busy timeout longer than the backoff: otherwise the loop claims again at once, forever, and
            // never commits nor reads a result while the database stays locked.
            pipeline.claimFailed(error, now: clock.now(), tickMode: mode.isTick)
        case .checked(let outcome):
            pipeline.checked(outcome, now: clock.now())
        case .committed(let batch, nil, let took):
            observer.committed(batch.count, failed: false, took: took, at: clock.now())
            pipeline.committed(batch, took: took)
            if let line = pipeline.outage.succeeded(now: clock.now(), committed: batch.count) { logger.notice("\(line)") }
            onCommit(batch)
            let changes = batch.filter { $0.transition != nil || $0.alerts != nil }
            if !changes.isEmpty { await sink.statusChanged(changes) }
        case .committed(let batch, let error?, let took):
            observer.committed(batch.count, failed: true, took: took, at: clock.now())
            if let line = pipeline.outage.failed("committing \(batch.count) results", error, now: clock.now(), pending: pipeline.pendingCount) {
                logger.error("\(line)")
            }
            pipeline.commitFailed(batch, error: error, now: clock.now())
        case .woke:
            pipeline.woke()
        case .stopRequested:
            logger.notice("stop requested: no new claims; finishing \(pipeline.inFlight) checks in flight")
            pipeline.stopRequested()
        }
    }

    /// Starts one claimed monitor's check (see ``CheckRunner``); `deliver` gets the outcome, with the
    /// monitor's next state worked out, on the check's event loop thread.
    ///
    /// A monitor whose previous probe overran its deadline and is still running (a target or name server
    /// that holds a probe past cancellation) is not probed again: its slot gets a `timeout` at once, so a
    /// stuck target costs its owner one probe at a time, never a growing pile of them.
    func start(_ claimed: ClaimedMonitor, deliver: @escaping @Sendable (CheckOutcome) -> Void) {
        let startedAt = clock.now()
        let id = claimed.monitor.id
        let decoded = specs.spec(for: claimed.monitor)
        let began = running.begin(id)
        let spec = began ? decoded : .failure(CheckFailure(.timeout, "the previous check of this monitor is still running"))
        // A monitor whose settings cannot be decoded alerts under the default policy.
        let policy = (try? decoded.get())?.alerts ?? AlertPolicy()
        let runner = configuration.runnerID
        CheckRunner(probe: probe).start(spec, ended: { [running] in if began { running.end(id) } }) { [observer] result in
            let outcome = claimed.outcome(result, startedAt: startedAt, policy: policy, runner: runner)
            observer.checked(claimed, outcome)
            deliver(outcome)
        }
    }
}

extension ClaimedMonitor {
    /// The outcome of this slot's check: `result`, with the monitor's next state and alert effects worked out.
    package func outcome(_ result: CheckResult, startedAt: EpochMilliseconds, policy: AlertPolicy, runner: String) -> CheckOutcome {
        let decision = monitor.state.applying(result, at: startedAt, policy: policy)
        return CheckOutcome(
            monitorID: monitor.id, monitorName: monitor.name, scheduledAt: slot, startedAt: startedAt,
            result: result, runner: runner, state: decision.state, transition: decision.transition,
            alerts: decision.effects(monitor: monitor, slot: slot, startedAt: startedAt, result: result)
        )
    }
}
