import Foundation
package import Logging
package import UptickAlerts
package import UptickCore
package import UptickEngine
package import UptickNet
package import UptickProbes
package import UptickStore
package import UptickAWS
package import UptickQueue
package import UptickWeb

/// The composition root: the one place where the engine, the deliverer and the housekeeping are wired to a
/// store, the guarded network, the probes, the clock and the logger. The command line, the Lambda handler,
/// the benchmarks and the tests all build their runners here, so each measures and tests what production runs.
package struct Assembly: Sendable {
    package let configuration: RunnerConfiguration
    package let store: any StoreBackend
    package let network: Network
    package let logger: Logger
    /// Where results that could not be committed wait for the next run.
    package let spool: Spool

    /// Wires the given parts; ``open(_:role:)`` is the production way in.
    package init(configuration: RunnerConfiguration, store: any StoreBackend, network: Network, spool: Spool, logger: Logger = Assembly.logger()) {
        self.configuration = configuration
        self.store = store
        self.network = network
        self.spool = spool
        self.logger = logger
    }

    /// Opens the configured database (it must exist and be migrated) and builds the network, after raising
    /// the open-files limit that `concurrency` needs. The Lambda role keeps its spool in `/tmp`, its only
    /// writable place.
    package static func open(_ configuration: RunnerConfiguration, role: RunnerConfiguration.Role) async throws(UptickError) -> Assembly {
        // Each check in flight holds a socket; leave room for the database and the process itself.
        let files = ResourceLimits.raiseOpenFiles()
        guard configuration.concurrency + 64 <= files else {
            throw UptickError("--concurrency \(configuration.concurrency) needs more open files than the limit of \(files) (raise `ulimit -n`)")
        }
        let network = try configuration.policy.network()
        let store = try await Database.open(configuration.database, token: configuration.token, writable: true)
        let spool = role == .lambda
            ? Database.spool(for: configuration.database, directory: NSTemporaryDirectory())
            : Database.spool(for: configuration.database)
        return Assembly(configuration: configuration, store: store, network: network, spool: spool)
    }

    /// uptick's logger: notices and above.
    package static func logger() -> Logger {
        var logger = Logger(label: "uptick")
        logger.logLevel = .notice
        return logger
    }

    /// The engine for a role. `doorbell` is rung after each commit that recorded alerts; `onCommit` sees every
    /// committed batch. Tests replace the probe, the clock or the sink; nothing else differs from production.
    /// `source`: where claims come from and commits go, when not the database itself (a worker's queue).
    package func engine(
        for role: RunnerConfiguration.Role, configuration engineConfiguration: EngineConfiguration? = nil, source: (any Store)? = nil,
        probe: (any Probe)? = nil, clock: any WallClock = SystemClock(), sink: (any TransitionSink)? = nil,
        doorbell: Doorbell? = nil, observer: any EngineObserver = NoObserver(), onCommit: @escaping @Sendable ([CheckOutcome]) -> Void = { _ in }
    ) -> Engine {
        let next = sink ?? LoggingTransitionSink(logger: logger)
        return Engine(
            store: source ?? store, probe: probe ?? StandardProbe(network: network), clock: clock,
            sink: doorbell.map { DeliveryTrigger(next: next, doorbell: $0) } ?? next,
            configuration: engineConfiguration ?? configuration.engine(for: role), logger: logger, observer: observer, onCommit: onCommit
        )
    }

    /// The metrics a run with `http` exports (`nil` without it).
    package func runnerMetrics() -> RunnerMetrics? {
        configuration.servesHTTP ? RunnerMetrics(monitorSeries: configuration.web.monitorSeries, version: Runner.version) : nil
    }

    /// The web server, on a database connection of its own (on SQLite, reads then never queue behind the engine's
    /// commits). `watchesEngine`: readiness includes the engine's heartbeat in `metrics`. Its address is bound once
    /// first (``WebServer/checkAddress()``): one that is taken fails here, before anything has started.
    package func webServer(metrics: RunnerMetrics, watchesEngine: Bool, clock: any WallClock = SystemClock(),
                           onListening: @escaping @Sendable (Int) -> Void = { _ in }) async throws(UptickError) -> WebServer {
        let reader = try await Database.open(configuration.database, token: configuration.token)
        var bounds = Readiness.Bounds()
        bounds.maxPending = configuration.engine(for: .daemon).maxPending
        let network = network
        let server = WebServer(catalogue: reader, metrics: metrics, watchesEngine: watchesEngine, spoolPath: spool.path, configuration: configuration.web,
                               bounds: bounds, clock: clock, logger: logger, resolverCounts: {
                                   network.resolverStatistics.map {
                                       RunnerMetrics.ResolverCounts(cache: $0.cacheHits, joined: $0.joined, network: $0.misses, queries: $0.queries,
                                                                    failures: $0.failures)
                                   }
                               }, onListening: onListening)
        do throws(WebError) {
            try await server.checkAddress()
        } catch {
            throw UptickError(error.message, kind: .runtime)
        }
        return server
    }

    /// The SQS client for the configured queue (`queue`, `sqs-endpoint`), signing with the environment's AWS credentials
    /// and region.
    package func queueClient() throws(UptickError) -> SQSClient {
        guard let url = configuration.queue.url else { throw UptickError("no queue: give --queue URL (or UPTICK_QUEUE_URL)") }
        do throws(AWSConfigurationError) {
            let environment = configuration.environment
            return try SQSClient(queueURL: url, endpoint: configuration.queue.endpoint, region: try SQSClient.region(environment: environment, queueURL: url),
                                 credentials: try AWSCredentials.environment(environment))
        } catch {
            throw UptickError(error.description)
        }
    }

    /// The dispatcher: the configured `batch` per claim, on `queue`.
    package func dispatcher(queue: SQSClient, clock: any WallClock = SystemClock(), claimUntil: EpochMilliseconds? = nil) -> Dispatcher {
        var dispatch = DispatchConfiguration(runnerID: Runner.identity)
        dispatch.batch = configuration.batch
        dispatch.claimWindow = configuration.queue.dispatchWindow
        dispatch.claimUntil = claimUntil
        return Dispatcher(store: store, queue: queue, clock: clock, configuration: dispatch, logger: logger)
    }

    /// A worker's message source on `queue`, committing to this assembly's database.
    package func workSource(queue: SQSClient, clock: any WallClock = SystemClock()) -> QueueSource {
        QueueSource(queue: queue, database: store, clock: clock, configuration: configuration.queue.work, logger: logger)
    }

    /// The alert deliverer, sending through the same guarded network as the probes.
    package func deliverer(clock: any WallClock = SystemClock(), metrics: RunnerMetrics? = nil,
                           onRecorded: @escaping @Sendable ([DeliveryOutcome]) -> Void = { _ in }) -> Deliverer {
        Deliverer(store: store, notifier: Notifier(network: network), clock: clock, configuration: configuration.delivery,
                  logger: logger, onRecorded: onRecorded, onAttempt: { type, outcome in metrics?.delivered(channelType: type, outcome) })
    }

    /// The results the last run could not commit, to be committed first.
    package func carriedOver() throws(UptickError) -> [CheckOutcome] {
        try spool.load()
    }

    /// The spool policy: what a run could not commit is saved (a clean run removes the spool), and reported as
    /// a runtime fault naming the spool, so a cron job or a supervisor sees it.
    package func keep(_ report: EngineReport) throws(UptickError) {
        try spool.save(report.unpersisted)
        if !report.unpersisted.isEmpty {
            throw UptickError(
                "\(report.unpersisted.count) results could not be committed and were spooled to \(spool.path): " + (report.errors.last ?? "database error"),
                kind: .runtime
            )
        }
    }

    /// One tick: runs every monitor due now, commits, keeps what could not be committed, then delivers due
    /// alerts for at most `deliverFor` (`nil`: the configuration's), and not past `deliverUntil`. An unreadable spool stops it before it
    /// starts (saving over it would lose it); a later fault is in ``TickRun/failure``, once the results are safe.
    package func tick(
        deliverFor: Duration? = nil, deliverUntil: EpochMilliseconds? = nil, claimUntil: EpochMilliseconds? = nil,
        clock: any WallClock = SystemClock()
    ) async throws(UptickError) -> TickRun {
        let started = clock.now()
        var engineConfiguration = configuration.engine(for: .tick)
        engineConfiguration.claimUntil = claimUntil
        let carried = try carriedOver()
        var failure: UptickError?
        let report = await engine(for: .tick, configuration: engineConfiguration, clock: clock).tick(carriedOver: carried)
        var budget = deliverFor ?? configuration.deliverFor
        if let deliverUntil { budget = min(budget, .milliseconds(deliverUntil - clock.now())) }
        let delivery = budget > .zero ? await deliverer(clock: clock).deliverDue(budget: budget) : DeliveryReport()
        do throws(UptickError) {
            try keep(report)
        } catch {
            failure = error
        }
        if failure == nil, let error = report.errors.last { failure = UptickError(error, kind: .runtime) }
        return TickRun(report: report, delivery: delivery, elapsedMilliseconds: clock.now() - started, failure: failure)
    }
}

/// What one tick did, and the fault to report, if any, once its results are safe.
package struct TickRun: Sendable {
    package var report: EngineReport
    package var delivery: DeliveryReport
    package var elapsedMilliseconds: Int64
    package var failure: UptickError?
}
