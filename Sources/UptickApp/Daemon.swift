import Foundation
import Logging
package import ServiceLifecycle
import Synchronization
package import UnixSignals
import UptickAlerts
package import UptickCore
package import UptickEngine
package import UptickAWS
package import UptickQueue
import UptickWeb

/// `uptick run`: the engine, the deliverer and the housekeeping as one ``ServiceGroup``; `uptick work` and
/// `uptick dispatch` are the same group in another ``Shape``.
///
/// SIGTERM or SIGINT shuts the group down gracefully, in reverse order of start: the engine stops claiming,
/// finishes its checks and commits them, then the deliverer sends what it holds, then the housekeeping
/// stops. A second signal at least a second after the first (an impatient Ctrl-C) cancels the group: checks
/// in flight are left to their leases and every result not yet committed goes to the spool. Repeats within
/// that second are the same request delivered twice (GNU `timeout` signals both the process and its group),
/// which is why the escalation is uptick's and not the group's `cancellationSignals`.
package struct Daemon: Sendable {
    let assembly: Assembly
    let shape: Shape
    let onCommit: @Sendable ([CheckOutcome]) -> Void
    let signals: [UnixSignal]
    let onListening: @Sendable (Int) -> Void

    /// What the group runs besides the signal handling.
    package enum Shape: Sendable {
        /// `uptick run`: housekeeping, delivery, and the engine on the database's own claims.
        case runner
        /// `uptick work`: delivery, and the engine on the queue's messages (kept invisible while held).
        case worker(SQSClient)
        /// `uptick dispatch`: housekeeping, and the dispatcher claiming into the queue.
        case dispatcher(SQSClient)
    }

    /// Signals closer than this to the first one are duplicates, not a second request.
    static let repeatWindow: Duration = .seconds(1)

    /// `signals`: the ones that stop it (none in tests, which shut it down with ``ServiceGroup`` calls).
    /// `onListening`: called with the web server's port once it listens (with `http`).
    package init(assembly: Assembly, shape: Shape = .runner, signals: [UnixSignal] = [.sigterm, .sigint],
                 onCommit: @escaping @Sendable ([CheckOutcome]) -> Void = { _ in }, onListening: @escaping @Sendable (Int) -> Void = { _ in }) {
        self.assembly = assembly
        self.shape = shape
        self.signals = signals
        self.onListening = onListening
        self.onCommit = onCommit
    }

    /// How the run ended.
    package struct Outcome: Sendable {
        package var report: EngineReport
        /// A second signal cancelled it.
        package var cancelled: Bool
        /// The spool could not be written, or results were left for it.
        package var failure: UptickError?
        /// A worker's messages.
        package var work: WorkReport?
        /// A dispatcher's run.
        package var dispatch: DispatchReport?
    }

    /// Runs until stopped; the results it could not commit are in the spool before it returns. `started` is
    /// called with the group once it exists (a test triggers its shutdown through it).
    package func run(started: @Sendable (ServiceGroup) async -> Void = { _ in }) async throws(UptickError) -> Outcome {
        // A dispatcher commits no results: it neither takes nor rewrites the spool another runner of this database left.
        let carried = shape.isDispatcher ? [] : try assembly.carriedOver()
        let doorbell = Doorbell()
        let finished = ReportBox()
        var services: [ServiceGroupConfiguration.ServiceConfiguration] = []
        if !signals.isEmpty {
            services.append(.init(service: SecondSignal(signals: signals, window: Self.repeatWindow, logger: assembly.logger)))
        }
        // Early in the group, so it stops last: /metrics and /readyz answer while the engine drains.
        let metrics = assembly.runnerMetrics()
        if let metrics {
            services.append(.init(service: try await assembly.webServer(metrics: metrics, watchesEngine: !shape.isDispatcher, onListening: onListening)))
        }
        if case let keep = assembly.configuration.retention, !keep.keepsEverything, !shape.isWorker {
            services.append(.init(service: RetentionService(retention: Retention(store: assembly.store), keep: keep, logger: assembly.logger)))
        }
        var source: QueueSource?
        switch shape {
        case .runner, .worker:
            if case .worker(let queue) = shape {
                let work = assembly.workSource(queue: queue)
                source = work
                // Before the engine, so it stops after it: messages stay invisible until the last commit.
                services.append(.init(service: VisibilityService(source: work)))
            }
            services.append(.init(service: DeliveryService(deliverer: assembly.deliverer(metrics: metrics), doorbell: doorbell)))
            let engine = EngineService(
                engine: assembly.engine(for: .daemon, source: source, doorbell: doorbell, observer: metrics ?? NoObserver(), onCommit: onCommit),
                carriedOver: carried
            ) { report in
                finished.set(report)
            }
            services.append(.init(service: engine, successTerminationBehavior: .gracefullyShutdownGroup))
        case .dispatcher(let queue):
            services.append(.init(service: DispatcherService(dispatcher: assembly.dispatcher(queue: queue), finished: finished),
                                  successTerminationBehavior: .gracefullyShutdownGroup))
        }
        let group = ServiceGroup(configuration: ServiceGroupConfiguration(services: services, gracefulShutdownSignals: signals,
                                                                          logger: assembly.logger))
        var cancelled = false
        var serverFailure: UptickError?
        do {
            try await withThrowingTaskGroup(of: Void.self) { tasks in
                tasks.addTask { try await group.run() }
                await started(group)
                try await tasks.waitForAll()
            }
        } catch let error as WebError {
            // The web server could not listen: the group stopped at once (a runtime failure, exit 1, not an interruption).
            serverFailure = UptickError(error.message, kind: .runtime)
        } catch {
            // Otherwise only the second-signal service throws: the group was cancelled.
            assembly.logger.debug("service group ended: \(error)")
            cancelled = true
        }
        let report = finished.get() ?? EngineReport()
        if !cancelled, serverFailure == nil, !shape.isDispatcher {
            // The last commits may have recorded alerts after the deliverer stopped: give them a moment.
            _ = await assembly.deliverer().deliverDue(budget: .seconds(5))
        }
        var failure = serverFailure
        do throws(UptickError) {
            if !shape.isDispatcher { try assembly.keep(report) }
        } catch {
            failure = failure ?? error
        }
        return Outcome(report: report, cancelled: cancelled, failure: failure, work: await source?.report, dispatch: finished.dispatch())
    }
}

extension Assembly {
    /// `uptick serve`: the web server alone, until SIGTERM or SIGINT.
    package func serve(signals: [UnixSignal] = [.sigterm, .sigint], onListening: @escaping @Sendable (Int) -> Void) async throws(UptickError) {
        let metrics = RunnerMetrics(monitorSeries: 0, version: Runner.version)
        let server = try await webServer(metrics: metrics, watchesEngine: false, onListening: onListening)
        let group = ServiceGroup(configuration: ServiceGroupConfiguration(services: [.init(service: server)], gracefulShutdownSignals: signals,
                                                                          logger: logger))
        do {
            try await group.run()
        } catch let error as WebError {
            throw UptickError(error.message, kind: .runtime)
        } catch {
            throw UptickError("\(error)", kind: .runtime)
        }
    }
}

extension Daemon.Shape {
    var isWorker: Bool {
        if case .worker = self { true } else { false }
    }

    var isDispatcher: Bool {
        if case .dispatcher = self { true } else { false }
    }
}

/// The engine's (or the dispatcher's) report, set once by its service when it ends.
private final class ReportBox: Sendable {
    private let report = Mutex<EngineReport?>(nil)
    private let dispatched = Mutex<DispatchReport?>(nil)
    func set(_ value: EngineReport) { report.withLock { $0 = value } }
    func get() -> EngineReport? { report.withLock { $0 } }
    func set(_ value: DispatchReport) { dispatched.withLock { $0 = value } }
    func dispatch() -> DispatchReport? { dispatched.withLock { $0 } }
}

/// The dispatcher as a lifecycle service.
private struct DispatcherService: Service {
    let dispatcher: Dispatcher
    let finished: ReportBox

    func run() async {
        finished.set(await dispatcher.run())
    }
}

/// Keeps a worker's held messages invisible until the group stops.
private struct VisibilityService: Service {
    let source: QueueSource

    func run() async {
        await source.keepVisible()
    }
}

/// Cancels the group at a second stop signal that comes at least `window` after the first. It is the first
/// service, so the group shuts it down last, once everything else has finished.
struct SecondSignal: Service {
    struct Escalation: Error {}

    let signals: [UnixSignal]
    let window: Duration
    let logger: Logger

    func run() async throws {
        let sequence = await UnixSignalsSequence(trapping: signals)
        try await cancelWhenGracefulShutdown {
            var first: ContinuousClock.Instant?
            for await _ in sequence {
                guard let at = first else {
                    first = .now
                    continue
                }
                if ContinuousClock.now - at >= window {
                    logger.notice("second signal: stopping now, checks in flight are left to their leases")
                    throw Escalation()
                }
            }
        }
    }
}
