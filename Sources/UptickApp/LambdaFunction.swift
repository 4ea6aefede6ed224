package import Foundation
import Logging
import UptickAlerts
package import UptickCore
import UptickEngine
import UptickStore
package import UptickLambda
package import UptickAWS
import UptickQueue

/// Why an invocation failed, as Lambda reports it (`errorType`, `errorMessage`).
package struct InvocationFailure: Error, Sendable, Hashable {
    package var type: String
    package var message: String
}

/// The Lambda function: the store opened once at start-up (a cold start pays for it once), then one handler
/// call per invocation. `uptick lambda` only moves invocations between the runtime API and ``handle(_:)``.
package struct LambdaFunction: Sendable {
    let assembly: Assembly
    let role: Role
    /// The dispatch role's queue client, made once (its connections are kept between invocations).
    let queue: SQSClient?
    let clock: any WallClock
    /// What the function does with an invocation, from `UPTICK_ROLE`; one `bootstrap` serves every role.
    package enum Role: String, Sendable, CaseIterable {
        /// Scheduled: one or more ticks (the default).
        case tick
        /// Scheduled: claims due monitors into the queue (`UPTICK_QUEUE_URL`), then delivers due alerts.
        case dispatch
        /// An SQS event: runs its slots, answers `batchItemFailures` with the records whose results were not committed.
        case work
    }
    /// Kept free at the end of an invocation: the longest check, then a commit.
    package static let reserve: Int64 = Limits.maxTimeoutMilliseconds + 3_000
    /// The most an invocation spends delivering alerts after each tick.
    static let deliveryBudget: Duration = .seconds(10)

    /// The most a dispatch invocation keeps free at its end for its last send and release.
    static let dispatchReserve: Int64 = 5_000

    package init(assembly: Assembly, role: Role = .tick, queue: SQSClient? = nil, clock: any WallClock = SystemClock()) {
        self.assembly = assembly
        self.role = role
        self.queue = queue
        self.clock = clock
    }

    /// Configured from the environment alone (`UPTICK_DB` is required: a Lambda has no working directory
    /// with a database in it).
    package static func start(environment: [String: String]) async throws(UptickError) -> LambdaFunction {
        guard let location = environment["UPTICK_DB"], !location.isEmpty else {
            throw UptickError("UPTICK_DB is not set (a libsql:// URL, or a file path)")
        }
        let name = environment["UPTICK_ROLE"].flatMap { $0.isEmpty ? nil : $0 } ?? "tick"
        guard let role = Role(rawValue: name) else {
            throw UptickError("UPTICK_ROLE '\(name)' is not one of \(Role.allCases.map(\.rawValue).joined(separator: ", "))")
        }
        let configuration = try RunnerConfiguration(Settings(environment: environment))
        let assembly = try await Assembly.open(configuration, role: .lambda)
        return LambdaFunction(assembly: assembly, role: role, queue: role == .dispatch ? try assembly.queueClient() : nil)
    }

    /// Runs the ticks the event asks for, each claiming only while the rest of the invocation can cover a
    /// whole check and a commit, then delivers due alerts in what time is left. The answer is the ticks' summaries.
    package func handle(_ invocation: Invocation) async throws(InvocationFailure) -> Data {
        switch role {
        case .tick: try await ticks(invocation)
        case .dispatch: try await dispatch(invocation)
        case .work: try await work(invocation)
        }
    }

    private func ticks(_ invocation: Invocation) async throws(InvocationFailure) -> Data {
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

    /// Runs the event's slots as one engine tick that claims only while a whole check and a commit still fit, then
    /// delivers due alerts. The answer names the records to retry: those with a slot not committed (the database
    /// refused, or the deadline came first). Malformed records and stale slots are not retried.
    private func work(_ invocation: Invocation) async throws(InvocationFailure) -> Data {
        guard let records = SQSRecord.records(in: invocation.event) else {
            throw InvocationFailure(type: "UnrecognizedEvent", message: "expected an SQS event (Records from aws:sqs)")
        }
        let source = EventSource(records: records, database: assembly.store, now: clock.now())
        for (id, reason) in source.malformed.sorted(by: { $0.key < $1.key }) { assembly.logger.error("message \(id) dropped: \(reason)") }
        if !source.stale.isEmpty {
            assembly.logger.warning("\(source.stale.count) slots more than \(SlotMessage.staleIntervals) intervals old skipped")
            try? await assembly.store.release(source.stale, rescheduling: false)
        }
        var engineConfiguration = assembly.configuration.engine(for: .lambda)
        engineConfiguration.claimUntil = invocation.deadline - Self.reserve
        let report = await assembly.engine(for: .lambda, configuration: engineConfiguration, source: source, clock: clock).tick()
        let budget = min(Self.deliveryBudget, .milliseconds(invocation.deadline - 1_000 - clock.now()))
        if budget > .zero { _ = await assembly.deliverer(clock: clock).deliverDue(budget: budget) }
        let failed = await source.failedMessages
        if !failed.isEmpty {
            assembly.logger.error("\(failed.count) of \(records.count) messages to retry: \(report.errors.last ?? "their slots did not fit before the deadline")")
        }
        // Lambda reads these exact keys (not snake_case, as uptick's other JSON).
        let answer = BatchResponse(batchItemFailures: failed.map { BatchResponse.Item(itemIdentifier: $0) })
        return (try? JSONEncoder().encode(answer)) ?? Data(#"{"batchItemFailures":[]}"#.utf8)
    }

    /// Dispatches the ticks the schedule asks for (a tick here is one dispatch of what is due), each followed by
    /// alert delivery. Fails, like a tick, when slots could not be sent (they were released and are due again).
    private func dispatch(_ invocation: Invocation) async throws(InvocationFailure) -> Data {
        let request: ScheduleRequest
        do {
            request = try ScheduleRequest.parse(invocation.event, defaultTicks: assembly.configuration.ticksPerInvocation)
        } catch {
            throw InvocationFailure(type: "UnrecognizedEvent", message: "\(error)")
        }
        guard let queue else { throw InvocationFailure(type: "InvalidConfiguration", message: "the dispatch role has no queue client") }
        let start = clock.now()
        var reports: [DispatchReport] = []
        for index in 0..<request.ticks {
            let tickStart = start + Int64(index * request.spacingSeconds) * 1000
            guard tickStart + Self.dispatchReserve < invocation.deadline else { break }
            if tickStart > clock.now() { try? await clock.sleep(until: tickStart) }
            let report = await assembly.dispatcher(queue: queue, clock: clock, claimUntil: invocation.deadline - Self.dispatchReserve).tick()
            reports.append(report)
            let budget = min(Self.deliveryBudget, .milliseconds(invocation.deadline - 1_000 - clock.now()))
            if budget > .zero { _ = await assembly.deliverer(clock: clock).deliverDue(budget: budget) }
        }
        if let failed = reports.last(where: { $0.released + $0.leftToLease > 0 }), let error = failed.errors.last {
            throw InvocationFailure(type: "QueueError", message: error)
        }
        return Data(Output.json(DispatchAnswer(dispatches: reports)).utf8)
    }

    /// One tick that claims only while a whole check and a commit still fit before `deadline`, then delivers
    /// alerts for at most ``deliveryBudget``, ending a second before the deadline.
    private func tick(before deadline: EpochMilliseconds) async throws(UptickError) -> TickRun {
        try await assembly.tick(deliverFor: Self.deliveryBudget, deliverUntil: deadline - 1_000, claimUntil: deadline - Self.reserve, clock: clock)
    }
}

/// A worker invocation's answer (`ReportBatchItemFailures`).
struct BatchResponse: Encodable {
    struct Item: Encodable {
        var itemIdentifier: String
    }

    var batchItemFailures: [Item]
}

/// A dispatch invocation's answer.
struct DispatchAnswer: Encodable {
    var dispatches: [DispatchReport]
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
