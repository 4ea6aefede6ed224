import ArgumentParser
import Foundation
import UptickApp
import UptickLambda

struct Lambda: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Run as an AWS Lambda function: ticks, dispatches or queued checks per invocation (the zip's `bootstrap` runs this).",
        discussion: """
            Configuration comes from the environment: UPTICK_ROLE (tick, dispatch or work; default tick), UPTICK_DB \
            (required), UPTICK_DB_TOKEN or TURSO_AUTH_TOKEN, UPTICK_ALLOW_CIDR / UPTICK_DENY_CIDR, UPTICK_CONCURRENCY (500), \
            UPTICK_BATCH (500), UPTICK_TICKS_PER_INVOCATION (1, for EventBridge rule events), UPTICK_QUEUE_URL (dispatch). \
            See docs/deploy-aws.md.
            """
    )

    func run() async throws {
        let environment = ProcessInfo.processInfo.environment
        guard let api = environment["AWS_LAMBDA_RUNTIME_API"] else {
            throw UptickError("AWS_LAMBDA_RUNTIME_API is not set: `uptick lambda` runs inside AWS Lambda (see docs/deploy-aws.md)")
        }
        let runtime = try LambdaRuntimeClient(api: api)
        let function: LambdaFunction
        do {
            function = try await LambdaFunction.start(environment: environment)
        } catch {
            try await runtime.failInit(type: "InvalidConfiguration", message: "\(error)")
            throw UptickError("cannot start: \(error)", kind: .runtime)
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
