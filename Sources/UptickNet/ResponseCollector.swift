import NIOCore
import NIOHTTP1
import UptickCore

/// The parts of a response the exchange keeps.
struct CollectedResponse: Sendable {
    var status: Int
    var headers: [(name: String, value: String)]
    var body: [UInt8]
    /// When the request was handed to the socket, and when the response head arrived.
    var sentAt: NIODeadline
    var firstByteAt: NIODeadline
}

/// Reads the response head and at most `limit` body bytes into `promise`, then closes the connection.
final class ResponseCollector: ChannelInboundHandler {
    typealias InboundIn = HTTPClientResponsePart

    private let promise: EventLoopPromise<CollectedResponse>
    private let limit: Int
    private var head: HTTPResponseHead?
    private var firstByteAt: NIODeadline?
    private var body: [UInt8] = []
    /// Set once the promise is completed; later events cost nothing.
    private var completed = false
    /// Created on the event loop right before the request is written.
    private let sentAt = NIODeadline.now()

    init(promise: EventLoopPromise<CollectedResponse>, limit: Int) {
        self.promise = promise
        self.limit = limit
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        guard !completed else { return }
        switch unwrapInboundIn(data) {
        case .head(let head):
            self.head = head
            firstByteAt = .now()
        case .body(var buffer):
            let room = limit - body.count
            body += buffer.readBytes(length: min(room, buffer.readableBytes)) ?? []
            if body.count >= limit { finish(context) }
        case .end:
            finish(context)
        }
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        guard !completed else { return }
        completed = true
        switch error as? HTTPParserError {
        case .headerOverflow?:
            promise.fail(CheckFailure(.protocol, "response headers larger than \(Limits.maxResponseHeaderBytes / 1024) KB or more than \(Limits.maxResponseHeaderFields) fields"))
        case let parserError?:
            promise.fail(CheckFailure(.protocol, "not a valid HTTP response: \(parserError)"))
        case nil:
            promise.fail(error)
        }
    }

    func channelInactive(context: ChannelHandlerContext) {
        // A server may end an unframed body by closing: what was read is the response.
        if !completed, head != nil { finish(context) }
        if !completed {
            completed = true
            promise.fail(CheckFailure(.reset, "connection closed before a response"))
        }
        context.fireChannelInactive()
    }

    /// Completes the promise with what was read; the exchange closes the connection when it sees that.
    private func finish(_ context: ChannelHandlerContext) {
        guard !completed, let head, let firstByteAt else { return }
        completed = true
        promise.succeed(CollectedResponse(
            status: Int(head.status.code), headers: head.headers.map { ($0.name, $0.value) },
            body: body, sentAt: sentAt, firstByteAt: firstByteAt
        ))
    }
}
