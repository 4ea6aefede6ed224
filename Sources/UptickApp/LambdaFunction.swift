package import Foundation
import Logging
import UptickAlerts
package import UptickCore
import UptickEngine
package import UptickLambda

/// Why an invocation failed, as Lambda reports it (`errorType`, `errorMessage`).
package struct InvocationFailure: Error, Sendable, Hashable {
    package var type: String
    package var message: String
}

/// The Lambda function: the store opened once at start-up (a cold start pays for it once), then one handler
/// call per invocation. `uptick lambda` only moves invocations between the runtime API and ``handle(_:)``.
package struct LambdaFunction: Sendable {
    let assembly: Assembly
    let clock: any WallClock
    /// Kept free at the end of an invocation: the longest check, then a commit.
    package static let reserve: Int64 = Limits.maxTimeoutMilliseconds + 3_000
    /// The most an invocation spends delivering alerts after each tick.
    static let deliveryBudget: Duration = .seconds(10)

    package init(assembly: Assembly, clock: any WallClock = SystemClock()) {
        self.assembly = assembly
        self.clock = clock
    }

    /// Configured from the environment alone (`UPTICK_DB` is required: a Lambda has no working directory
    /// with a database in it).
    package static func start(environment: [String: String]) async throws(UptickError) -> LambdaFunction {
        guard let location = environment["UPTICK_DB"], !location.isEmpty else {
            throw UptickError("UPTICK_DB is not set (a libsql:// URL, or a file path)")
        }
        let configuration = try RunnerConfiguration(Settings(environment: environment))
        return LambdaFunction(assembly: try await Assembly.open(configuration, role: .lambda))
    }

    /// Runs the ticks the event asks for, each claiming only while the rest of the invocation can cover a
    /// whole check and a commit, then delivers due alerts in what time is left. The answer is the ticks' summaries.
    package func handle(_ invocation: Invocation) async throws(InvocationFailure) -> Data {
        let request: ScheduleRequest
        do {
            request = try ScheduleRequest.parse(invocation.event, defaultTicks: assembly.configuration.ticksPerInvocation)
        } catch {
            throw InvocationFailure(type: "UnrecognizedEvent", message: "\(error)")
        }
        let start = clock.now()
        var summaries: [TickSummary] = []
        var skipped = 0
        var errors: [String] = []
        for index in 0..<request.ticks {
            let tickStart = start + Int64(index * request.spacingSeconds) * 1000
            guard tickStart + Self.reserve < invocation.deadline else {
                skipped = request.ticks - index
                break
            }
            if tickStart > clock.now() { try? await clock.sleep(until: tickStart) }
            let run: TickRun
            do throws(UptickError) {
                run = try await tick(before: invocation.deadline)
            } catch {
                // An unreadable spool in /tmp would fail every invocation of this execution environment, and
                // nobody can move it away by hand: it is kept aside, and the tick runs without it.
                let aside = assembly.spool.path + ".unreadable-\(clock.now())"
                try? FileManager.default.moveItem(atPath: assembly.spool.path, toPath: aside)
                assembly.logger.error("\(error.message); kept as \(aside)")
                do throws(UptickError) {
                    run = try await tick(before: invocation.deadline)
                } catch {
                    throw InvocationFailure(type: "SpoolError", message: error.message)
                }
            }
            summaries.append(TickSummary(run))
            errors += run.report.errors
            // A fault the engine did not report itself (the spool could not be written).
            if run.report.errors.isEmpty, let failure = run.failure { errors.append(failure.message) }
        }
        if let error = errors.last {
            throw InvocationFailure(type: "DatabaseError", message: error)
        }
        return Data(Output.json(LambdaAnswer(ticks: summaries, skippedTicks: skipped)).utf8)
    }

    /// One tick that claims only while a whole check and a commit still fit before `deadline`, then delivers
    /// alerts for at most ``deliveryBudget``, ending a second before the deadline.
    private func tick(before deadline: EpochMilliseconds) async throws(UptickError) -> TickRun {
        try await assembly.tick(deliverFor: Self.deliveryBudget, deliverUntil: deadline - 1_000, claimUntil: deadline - Self.reserve, clock: clock)
    }
}

/// What an invocation returns.
package struct LambdaAnswer: Encodable, Sendable {
    package var ticks: [TickSummary]
    /// Ticks the event asked for that did not fit before the deadline.
    package var skippedTicks: Int
}

/// One tick, as `uptick tick --json` prints it and an invocation answers it.
package struct TickSummary: Encodable, Sendable {
    package var claimed, up, degraded, down, statusChanges, spooled: Int
    package var alertsDelivered, alertsSkipped, alertsRetrying, alertsDead: Int
    package var durationMs: Int64
    package var errors: [String]

    package init(_ run: TickRun) {
        let report = run.report, delivery = run.delivery
        alertsDelivered = delivery.delivered
        alertsSkipped = delivery.skipped
        alertsRetrying = delivery.retrying
        alertsDead = delivery.dead
        claimed = report.claimed
        up = report.up
        degraded = report.degraded
        down = report.down
        statusChanges = report.transitions
        spooled = report.unpersisted.count
        durationMs = run.elapsedMilliseconds
        errors = report.errors
    }
}

/// One committed daemon result as JSON.
package struct OutcomeLine: Encodable, Sendable {
    var monitorId: Int64
    var name: String
    var scheduledAt, startedAt: EpochMilliseconds
    var result: CheckResult
    var transition: StatusTransition?

    package init(_ outcome: CheckOutcome) {
        monitorId = outcome.monitorID
        name = outcome.monitorName
        scheduledAt = outcome.scheduledAt
        startedAt = outcome.startedAt
        result = outcome.result
        transition = outcome.transition
    }
}
