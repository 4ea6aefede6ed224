import Foundation
import Logging
package import ServiceLifecycle
import Synchronization
package import UnixSignals
import UptickAlerts
package import UptickCore
package import UptickEngine

/// `uptick run`: the engine, the deliverer and the housekeeping as one ``ServiceGroup``.
///
/// SIGTERM or SIGINT shuts the group down gracefully, in reverse order of start: the engine stops claiming,
/// finishes its checks and commits them, then the deliverer sends what it holds, then the housekeeping
/// stops. A second signal at least a second after the first (an impatient Ctrl-C) cancels the group: checks
/// in flight are left to their leases and every result not yet committed goes to the spool. Repeats within
/// that second are the same request delivered twice (GNU `timeout` signals both the process and its group),
/// which is why the escalation is uptick's and not the group's `cancellationSignals`.
package struct Daemon: Sendable {
    let assembly: Assembly
    let onCommit: @Sendable ([CheckOutcome]) -> Void
    let signals: [UnixSignal]

    /// Signals closer than this to the first one are duplicates, not a second request.
    static let repeatWindow: Duration = .seconds(1)

    /// `signals`: the ones that stop it (none in tests, which shut it down with ``ServiceGroup`` calls).
    package init(assembly: Assembly, signals: [UnixSignal] = [.sigterm, .sigint], onCommit: @escaping @Sendable ([CheckOutcome]) -> Void = { _ in }) {
        self.assembly = assembly
        self.signals = signals
        self.onCommit = onCommit
    }

    /// How the run ended.
    package struct Outcome: Sendable {
        package var report: EngineReport
        /// A second signal cancelled it.
        package var cancelled: Bool
        /// The spool could not be written, or results were left for it.
        package var failure: UptickError?
    }

    /// Runs until stopped; the results it could not commit are in the spool before it returns. `started` is
    /// called with the group once it exists (a test triggers its shutdown through it).
    package func run(started: @Sendable (ServiceGroup) async -> Void = { _ in }) async throws(UptickError) -> Outcome {
        let carried = try assembly.carriedOver()
        let doorbell = Doorbell()
        let finished = ReportBox()
        let engine = EngineService(
            engine: assembly.engine(for: .daemon, doorbell: doorbell, onCommit: onCommit), carriedOver: carried
        ) { report in
            finished.set(report)
        }
        var services: [ServiceGroupConfiguration.ServiceConfiguration] = []
        if !signals.isEmpty {
            services.append(.init(service: SecondSignal(signals: signals, window: Self.repeatWindow, logger: assembly.logger)))
        }
        if let keep = assembly.configuration.retention {
            services.append(.init(service: RetentionService(retention: Retention(store: assembly.store), keep: keep, logger: assembly.logger)))
        }
        services.append(.init(service: DeliveryService(deliverer: assembly.deliverer(), doorbell: doorbell)))
        services.append(.init(service: engine, successTerminationBehavior: .gracefullyShutdownGroup))
        let group = ServiceGroup(configuration: ServiceGroupConfiguration(services: services, gracefulShutdownSignals: signals,
                                                                          logger: assembly.logger))
        var cancelled = false
        do {
            try await withThrowingTaskGroup(of: Void.self) { tasks in
                tasks.addTask { try await group.run() }
                await started(group)
                try await tasks.waitForAll()
            }
        } catch {
            // Only the second-signal service throws: the group was cancelled.
            assembly.logger.debug("service group ended: \(error)")
            cancelled = true
        }
        let report = finished.get() ?? EngineReport()
        if !cancelled {
            // The last commits may have recorded alerts after the deliverer stopped: give them a moment.
            _ = await assembly.deliverer().deliverDue(budget: .seconds(5))
        }
        var failure: UptickError?
        do throws(UptickError) {
            try assembly.keep(report)
        } catch {
            failure = error
        }
        return Outcome(report: report, cancelled: cancelled, failure: failure)
    }
}

/// The engine's report, set once by the engine service when it ends.
private final class ReportBox: Sendable {
    private let report = Mutex<EngineReport?>(nil)
    func set(_ value: EngineReport) { report.withLock { $0 = value } }
    func get() -> EngineReport? { report.withLock { $0 } }
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
