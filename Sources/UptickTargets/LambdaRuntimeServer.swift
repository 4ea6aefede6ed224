import Foundation
import NIOConcurrencyHelpers
import NIOCore
import NIOHTTP1
import NIOPosix

/// The documented AWS Lambda Runtime API (2018-06-01) on loopback, for driving a real `bootstrap`
/// process in tests: invocations are queued by the test, `next` long-polls until there is one, and
/// responses, invocation errors and init errors are recorded. (AWS's runtime interface emulator is not
/// installable here.)
package final class LambdaRuntimeServer: Sendable {
    /// How an invocation ended.
    package enum Outcome: Sendable, Equatable {
        case response(String)
        case error(type: String, body: String)
    }

    struct Queued: Sendable {
        var id: String
        var event: String
        /// Milliseconds the function has, from the moment it takes the invocation (as Lambda counts them).
        var timeout: Int64
    }

    struct State {
        var queue: [Queued] = []
        var pollers: [@Sendable (Queued) -> Void] = []
        var outcomes: [String: Outcome] = [:]
        var outcomeWaiters: [String: [CheckedContinuation<Outcome, Never>]] = [:]
        var initError: String?
        var initWaiters: [CheckedContinuation<String, Never>] = []
        var nextID = 0
    }

    package let server: LoopbackServer
    private let state: NIOLockedValueBox<State>

    private init(server: LoopbackServer, state: NIOLockedValueBox<State>) {
        self.server = server
        self.state = state
    }

    package static func start() async throws -> LambdaRuntimeServer {
        let state = NIOLockedValueBox(State())
        let server = try await LoopbackServer.start(host: "127.0.0.1", port: 0, group: MultiThreadedEventLoopGroup.singleton) { channel in
            channel.eventLoop.makeCompletedFuture {
                try channel.pipeline.syncOperations.configureHTTPServerPipeline(withErrorHandling: true)
                try channel.pipeline.syncOperations.addHandler(RuntimeHandler(state: state))
            }
        }
        return LambdaRuntimeServer(server: server, state: state)
    }

    /// `host:port`, the value of `AWS_LAMBDA_RUNTIME_API`.
    package var api: String { server.target }

    /// Queues an invocation of `event` that must end `timeout` milliseconds after the function takes it (its
    /// `Lambda-Runtime-Deadline-Ms` is set then, so a slow start-up does not eat the function's time); returns its
    /// request id.
    @discardableResult
    package func invoke(_ event: String, timeout: Int64) -> String {
        let (queued, poller) = state.withLockedValue { state -> (Queued, (@Sendable (Queued) -> Void)?) in
            state.nextID += 1
            let queued = Queued(id: "req-\(state.nextID)", event: event, timeout: timeout)
            if state.pollers.isEmpty {
                state.queue.append(queued)
                return (queued, nil)
            }
            return (queued, state.pollers.removeFirst())
        }
        poller?(queued)
        return queued.id
    }

    /// Waits for the invocation's response or error.
    package func outcome(of id: String) async -> Outcome {
        await withCheckedContinuation { continuation in
            let ready = state.withLockedValue { state -> Outcome? in
                if let outcome = state.outcomes[id] { return outcome }
                state.outcomeWaiters[id, default: []].append(continuation)
                return nil
            }
            if let ready { continuation.resume(returning: ready) }
        }
    }

    /// Waits for an init error and returns its body.
    package func initError() async -> String {
        await withCheckedContinuation { continuation in
            let ready = state.withLockedValue { state -> String? in
                if let error = state.initError { return error }
                state.initWaiters.append(continuation)
                return nil
            }
            if let ready { continuation.resume(returning: ready) }
        }
    }

    package func stop() async throws {
        try await server.stop()
    }

    private final class RuntimeHandler: WholeRequestHandler {
        let state: NIOLockedValueBox<State>

        init(state: NIOLockedValueBox<State>) {
            self.state = state
        }

        override func received(_ head: HTTPRequestHead, body: [UInt8], context: ChannelHandlerContext) {
            route(head, String(decoding: body, as: UTF8.self), context)
        }

        private func route(_ head: HTTPRequestHead, _ text: String, _ context: ChannelHandlerContext) {
            let prefix = "/2018-06-01/runtime"
            let path = head.uri
            if head.method == .GET && path == prefix + "/invocation/next" {
                let bound = NIOLoopBound((self, context), eventLoop: context.eventLoop)
                let loop = context.eventLoop
                let poller: @Sendable (Queued) -> Void = { queued in
                    loop.execute {
                        let (handler, context) = bound.value
                        let deadline = Int64(Date().timeIntervalSince1970 * 1000) + queued.timeout
                        handler.reply(context, status: .ok, body: queued.event, headers: [
                            ("Lambda-Runtime-Aws-Request-Id", queued.id), ("Lambda-Runtime-Deadline-Ms", String(deadline)),
                            ("Lambda-Runtime-Trace-Id", "Root=1-00000000-000000000000000000000000;Sampled=0"),
                            ("Lambda-Runtime-Invoked-Function-Arn", "arn:aws:lambda:eu-west-1:000000000000:function:uptick"),
                        ])
                    }
                }
                let queued = state.withLockedValue { state -> Queued? in
                    if state.queue.isEmpty {
                        state.pollers.append(poller)
                        return nil
                    }
                    return state.queue.removeFirst()
                }
                if let queued { poller(queued) }
                return
            }
            guard head.method == .POST, path.hasPrefix(prefix) else { return reply(context, status: .notFound, body: "{}") }
            let rest = path.dropFirst(prefix.count)
            if rest == "/init/error" {
                let waiters = state.withLockedValue { state -> [CheckedContinuation<String, Never>] in
                    state.initError = text
                    defer { state.initWaiters = [] }
                    return state.initWaiters
                }
                for waiter in waiters { waiter.resume(returning: text) }
                return reply(context, status: .accepted, body: #"{"status":"OK"}"#)
            }
            let parts = rest.split(separator: "/")
            guard parts.count == 3, parts[0] == "invocation", parts[2] == "response" || parts[2] == "error" else {
                return reply(context, status: .notFound, body: "{}")
            }
            let id = String(parts[1])
            let outcome: Outcome = parts[2] == "response"
                ? .response(text)
                : .error(type: head.headers.first(name: "Lambda-Runtime-Function-Error-Type") ?? "", body: text)
            let waiters = state.withLockedValue { state -> [CheckedContinuation<Outcome, Never>] in
                state.outcomes[id] = outcome
                return state.outcomeWaiters.removeValue(forKey: id) ?? []
            }
            for waiter in waiters { waiter.resume(returning: outcome) }
            reply(context, status: .accepted, body: #"{"status":"OK"}"#)
        }
    }
}
