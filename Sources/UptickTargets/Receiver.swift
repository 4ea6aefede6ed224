package import Foundation
import NIOConcurrencyHelpers
package import NIOCore
import NIOHTTP1
import NIOPosix

/// An HTTP server that records every request it receives and answers with a status the test sets:
/// a webhook receiver (Slack, Discord, PagerDuty and generic webhooks all POST to one), or a
/// monitored target that can be switched down and up again.
package final class Receiver: Sendable {
    /// One request as received.
    package struct Request: Sendable {
        package var method: String
        package var uri: String
        /// Header names in lower case.
        package var headers: [String: String]
        package var body: [UInt8]
        package var receivedAt: Date
        /// The status it was answered with.
        package var status: Int

        package var text: String { String(decoding: body, as: UTF8.self) }
        /// The body as a JSON object, or `nil`.
        package var json: [String: Any]? { try? JSONSerialization.jsonObject(with: Data(body)) as? [String: Any] }
    }

    struct State {
        var status = 200
        /// Every answer waits this long first.
        var delay: TimeAmount = .zero
        /// While holding, answers wait here (one closure per request) until ``release()``.
        var holding = false
        var held: [@Sendable () -> Void] = []
        var requests: [Request] = []
        var waiters: [(id: Int, count: Int, continuation: CheckedContinuation<[Request], Never>)] = []
        var nextWaiter = 0
    }

    package let server: LoopbackServer
    private let state: NIOLockedValueBox<State>

    private init(server: LoopbackServer, state: NIOLockedValueBox<State>) {
        self.server = server
        self.state = state
    }

    package static func start(host: String = "127.0.0.1", group: any EventLoopGroup = MultiThreadedEventLoopGroup.singleton) async throws -> Receiver {
        let state = NIOLockedValueBox(State())
        let server = try await LoopbackServer.start(host: host, port: 0, group: group) { channel in
            channel.eventLoop.makeCompletedFuture {
                try channel.pipeline.syncOperations.configureHTTPServerPipeline(withErrorHandling: true)
                try channel.pipeline.syncOperations.addHandler(Recorder(state: state))
            }
        }
        return Receiver(server: server, state: state)
    }

    /// `http://host:port` + `path`.
    package func url(_ path: String = "/") -> String { server.url(path) }

    /// The status later requests get (200 by default).
    package func respond(with status: Int) {
        state.withLockedValue { $0.status = status }
    }

    /// Answers later requests only after `delay`, as a slow receiver does.
    package func delay(_ delay: TimeAmount) {
        state.withLockedValue { $0.delay = delay }
    }

    /// Holds every later answer until ``release()``: requests are recorded but stay open, as with a
    /// slow receiver, so a client's requests in flight can be counted.
    package func hold() {
        state.withLockedValue { $0.holding = true }
    }

    /// Sends the held answers and stops holding.
    package func release() {
        let held = state.withLockedValue { state in
            state.holding = false
            defer { state.held = [] }
            return state.held
        }
        for answer in held { answer() }
    }

    /// Every request so far.
    package var requests: [Request] { state.withLockedValue { $0.requests } }

    /// Returns once at least `count` requests have arrived (all of them, in arrival order), or after `limit`
    /// with those that did: a test whose requests never come fails on its own expectations, never hangs.
    package func requests(count: Int, within limit: Duration = .seconds(30)) async -> [Request] {
        await withCheckedContinuation { continuation in
            let waiter = state.withLockedValue { state -> Int? in
                if state.requests.count >= count { return nil }
                defer { state.nextWaiter += 1 }
                state.waiters.append((state.nextWaiter, count, continuation))
                return state.nextWaiter
            }
            guard let waiter else { return continuation.resume(returning: requests) }
            Task { [state] in
                try? await Task.sleep(for: limit)
                let late = state.withLockedValue { state -> (CheckedContinuation<[Request], Never>, [Request])? in
                    guard let index = state.waiters.firstIndex(where: { $0.id == waiter }) else { return nil }
                    return (state.waiters.remove(at: index).continuation, state.requests)
                }
                if let (continuation, requests) = late { continuation.resume(returning: requests) }
            }
        }
    }

    package func stop() async throws {
        try await server.stop()
    }

    private final class Recorder: WholeRequestHandler {
        let state: NIOLockedValueBox<State>

        init(state: NIOLockedValueBox<State>) {
            self.state = state
        }

        override func received(_ head: HTTPRequestHead, body: [UInt8], context: ChannelHandlerContext) {
            var headers: [String: String] = [:]
            for (name, value) in head.headers { headers[name.lowercased()] = value }
            let bound = NIOLoopBound((self, context), eventLoop: context.eventLoop)
            let loop = context.eventLoop
            let (status, ready, held, delay) = state.withLockedValue { state in
                state.requests.append(Request(method: head.method.rawValue, uri: head.uri, headers: headers, body: body,
                                              receivedAt: Date(), status: state.status))
                let all = state.requests
                var ready: [(CheckedContinuation<[Request], Never>, [Request])] = []
                state.waiters.removeAll { waiter in
                    guard all.count >= waiter.count else { return false }
                    ready.append((waiter.continuation, all))
                    return true
                }
                let status = state.status
                if state.holding {
                    state.held.append {
                        loop.execute {
                            let (handler, context) = bound.value
                            handler.answer(context, status: status)
                        }
                    }
                }
                return (status, ready, state.holding, state.delay)
            }
            if !held {
                if delay == .zero {
                    answer(context, status: status)
                } else {
                    loop.scheduleTask(in: delay) {
                        let (handler, context) = bound.value
                        handler.answer(context, status: status)
                    }
                }
            }
            for (continuation, requests) in ready { continuation.resume(returning: requests) }
        }

        func answer(_ context: ChannelHandlerContext, status: Int) {
            reply(context, status: HTTPResponseStatus(statusCode: status), body: status < 300 ? "ok" : "not now", contentType: "text/plain", close: true)
        }
    }
}
