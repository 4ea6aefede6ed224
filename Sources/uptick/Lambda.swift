import ArgumentParser
import Foundation
import UptickAlerts
import UptickApp
import UptickCore
import UptickEngine
import UptickLambda
import UptickLibSQL
import UptickNet
import UptickStore

struct Lambda: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Run as an AWS Lambda function: one or more ticks per invocation (the zip's `bootstrap` runs this).",
        discussion: """
            Configuration comes from the environment: UPTICK_DB (required), UPTICK_DB_TOKEN or TURSO_AUTH_TOKEN, \
            UPTICK_ALLOW_CIDR / UPTICK_DENY_CIDR, UPTICK_CONCURRENCY (500), UPTICK_BATCH (500), \
            UPTICK_TICKS_PER_INVOCATION (1, for EventBridge rule events). See docs/deploy-aws.md.
            """
    )

    func run() async throws {
        let environment = ProcessInfo.processInfo.environment
        guard let api = environment["AWS_LAMBDA_RUNTIME_API"] else {
            throw CLIFailure("AWS_LAMBDA_RUNTIME_API is not set: `uptick lambda` runs inside AWS Lambda (see docs/deploy-aws.md)")
        }
        let runtime = try LambdaRuntimeClient(api: api)
        let function: LambdaFunction
        do {
            function = try await LambdaFunction(environment: environment)
        } catch {
            try await runtime.failInit(type: "InvalidConfiguration", message: "\(error)")
            throw CLIFailure("cannot start: \(error)", exitCode: CLIFailure.runtime)
        }
        while true {
            let invocation = try await runtime.next()
            if let trace = invocation.traceID { setenv("_X_AMZN_TRACE_ID", trace, 1) }
            do {
                try await runtime.respond(invocation, with: try await function.handle(invocation))
            } catch let failure as InvocationFailure {
                try await runtime.fail(invocation, type: failure.type, message: failure.message)
            }
        }
    }
}

/// Why an invocation failed, as Lambda reports it (`errorType`, `errorMessage`).
struct InvocationFailure: Error {
    var type: String
    var message: String
}

/// The function: the store opened once at start-up (a cold start pays for it once), then one handler call
/// per invocation.
struct LambdaFunction {
    let location: String
    let store: SQLStore
    let network: Network
    let engine: EngineConfiguration
    let defaultTicks: Int
    /// Kept free at the end of an invocation: the longest check, then a commit.
    static let reserve: Int64 = Limits.maxTimeoutMilliseconds + 3_000

    init(environment: [String: String]) async throws {
        guard let location = environment["UPTICK_DB"], !location.isEmpty else {
            throw CLIFailure("UPTICK_DB is not set (a libsql:// URL, or a file path)")
        }
        self.location = location
        store = try await Database.open(location, token: Database.token(nil))
        network = Network(policy: try Policy.make(allow: [], deny: []),
                          resolver: DNSResolver(configuration: try Policy.resolver(nameservers: [], lookupsPerZone: nil)))
        var configuration = EngineConfiguration(runnerID: Runner.identity)
        configuration.concurrency = try Self.number(environment, "UPTICK_CONCURRENCY", default: 500, in: 1...10_000)
        configuration.claimBatch = try Self.number(environment, "UPTICK_BATCH", default: 500, in: 1...10_000)
        if LibSQLDatabase.handles(location) {
            configuration.flushSize = configuration.claimBatch
            configuration.flushDelay = .seconds(3600)
        }
        engine = configuration
        defaultTicks = try Self.number(environment, "UPTICK_TICKS_PER_INVOCATION", default: 1, in: 1...ScheduleRequest.maxTicks)
        _ = ResourceLimits.raiseOpenFiles()
    }

    static func number(_ environment: [String: String], _ name: String, default value: Int, in range: ClosedRange<Int>) throws -> Int {
        guard let text = environment[name] else { return value }
        guard let number = Int(text), range.contains(number) else {
            throw CLIFailure("\(name) must be a whole number from \(range.lowerBound) to \(range.upperBound), got '\(text)'")
        }
        return number
    }

    /// Runs the ticks the event asks for, each claiming only while the rest of the invocation can cover a
    /// whole check and a commit, then delivers due alerts in what time is left. The answer is the ticks' summaries.
    func handle(_ invocation: Invocation) async throws(InvocationFailure) -> Data {
        let request: ScheduleRequest
        do {
            request = try ScheduleRequest.parse(invocation.event, defaultTicks: defaultTicks)
        } catch {
            throw InvocationFailure(type: "UnrecognizedEvent", message: "\(error)")
        }
        let clock = SystemClock()
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
            var configuration = engine
            configuration.claimUntil = invocation.deadline - Self.reserve
            let spool = Database.spool(for: location, directory: NSTemporaryDirectory())
            let began = clock.now()
            let report = await makeEngine(store: store, configuration: configuration, network: network).tick(carriedOver: (try? spool.load()) ?? [])
            try? spool.save(report.unpersisted)
            let budget = min(10_000, invocation.deadline - clock.now() - 1_000)
            let delivery = budget > 0
                ? await makeDeliverer(store: store, network: network, configuration: DeliveryConfiguration()).deliverDue(budget: .milliseconds(budget))
                : DeliveryReport()
            summaries.append(TickSummary(report: report, delivery: delivery, elapsedMilliseconds: clock.now() - began))
            errors += report.errors
        }
        if let error = errors.last {
            throw InvocationFailure(type: "DatabaseError", message: error)
        }
        let answer = LambdaAnswer(ticks: summaries, skippedTicks: skipped)
        return Data(Output.json(answer).utf8)
    }
}

/// What an invocation returns.
struct LambdaAnswer: Encodable {
    var ticks: [TickSummary]
    /// Ticks the event asked for that did not fit before the deadline.
    var skippedTicks: Int
}
