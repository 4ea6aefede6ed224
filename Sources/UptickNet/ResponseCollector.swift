import NIOCore
import NIOHTTP1
import NIOSSL
import NIOTLS
import UptickCore

/// What one exchange collected: the response's status, headers and at most `limit` body bytes, and when
/// each phase ended.
struct CollectedResponse: Sendable {
    var status: Int
    var location: String?
    var body: [UInt8]
    var connectedAt: NIODeadline
    /// When the request could go out: at connect for HTTP, once the handshake finished for HTTPS.
    var sentAt: NIODeadline
    var firstByteAt: NIODeadline
    var tls: (session: TLSSession, finishedAt: NIODeadline)?
}

/// An exchange that failed after connecting: why, and the phases that had finished.
struct ExchangeFailure: Error {
    var error: any Error
    var connectedAt: NIODeadline?
    var tlsFinishedAt: NIODeadline?
}

/// Drives one HTTP/1.1 exchange on its channel's event loop: arms the deadline when added, writes the
/// request when the connection is up (TLS holds it until the handshake is done), reads the response
/// with ``HTTPResponseParser`` up to `limit` body bytes, completes `promise` once, and closes the connection.
final class ResponseCollector: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = ByteBuffer
    typealias OutboundOut = HTTPClientRequestPart

    private let promise: EventLoopPromise<CollectedResponse>
    private let requestHead: HTTPRequestHead
    private let requestBody: String?
    private let limit: Int
    private let deadline: NIODeadline
    /// `verify` for HTTPS; `nil` for plain HTTP.
    private let tlsVerify: Bool?

    private var timeout: Scheduled<Void>?
    private var connectedAt: NIODeadline?
    private var sentAt: NIODeadline?
    private var tls: (session: TLSSession, finishedAt: NIODeadline)?
    private var parser: HTTPResponseParser
    private var firstByteAt: NIODeadline?
    /// Set once the promise is completed; later events cost nothing.
    private var completed = false

    init(promise: EventLoopPromise<CollectedResponse>, head: HTTPRequestHead, body: String?, limit: Int, deadline: NIODeadline, tls: Bool?) {
        self.promise = promise
        self.requestHead = head
        self.requestBody = body
        self.limit = limit
        self.parser = HTTPResponseParser(bodyLimit: limit, headRequest: head.method == .HEAD)
        self.deadline = deadline
        self.tlsVerify = tls
    }

    func handlerAdded(context: ChannelHandlerContext) {
        let bound = NIOLoopBound((self, context), eventLoop: context.eventLoop)
        timeout = context.eventLoop.scheduleTask(deadline: deadline) {
            let (handler, context) = bound.value
            let phase = handler.connectedAt == nil ? "connection" : (handler.tlsVerify != nil && handler.tls == nil ? "TLS handshake" : "complete response")
            handler.fail(context, CheckFailure(.timeout, "no \(phase) before the deadline"))
        }
        if context.channel.isActive { channelActive(context: context) }
    }

    /// Also when a connect fails and the channel never became active: the deadline timer goes with it.
    func handlerRemoved(context: ChannelHandlerContext) {
        timeout?.cancel()
    }

    func channelActive(context: ChannelHandlerContext) {
        guard connectedAt == nil else { return }
        connectedAt = .now()
        if tlsVerify == nil { sentAt = connectedAt }
        context.write(wrapOutboundOut(.head(requestHead)), promise: nil)
        if let requestBody {
            context.write(wrapOutboundOut(.body(.byteBuffer(context.channel.allocator.buffer(string: requestBody)))), promise: nil)
        }
        context.writeAndFlush(wrapOutboundOut(.end(nil)), promise: nil)
        context.fireChannelActive()
    }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if case TLSUserEvent.handshakeCompleted = event {
            let now = NIODeadline.now()
            let operations = context.pipeline.syncOperations
            let certificate = try? operations.nioSSL_peerCertificate()
            let version = (try? operations.nioSSL_tlsVersion()).flatMap { $0 }.map(TLSSession.describe)
            tls = (TLSSession(notAfter: Int64(certificate?.notValidAfter ?? 0), version: version, verified: tlsVerify ?? false), now)
            sentAt = now
        }
        context.fireUserInboundEventTriggered(event)
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        guard !completed else { return }
        if firstByteAt == nil { firstByteAt = .now() }
        let buffer = unwrapInboundIn(data)
        do {
            try parser.feed(buffer.readableBytesView)
        } catch {
            switch error {
            case .headTooLarge:
                return fail(context, CheckFailure(.protocol, "response headers larger than \(Limits.maxResponseHeaderBytes / 1024) KB or more than \(Limits.maxResponseHeaderFields) fields"))
            case .malformed(let reason):
                return fail(context, CheckFailure(.protocol, "not a valid HTTP response: \(reason)"))
            }
        }
        if parser.isFinished { finish(context) }
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        fail(context, error)
    }

    func channelInactive(context: ChannelHandlerContext) {
        // A server may end an unframed body by closing: what was read is the response.
        if parser.closed() { finish(context) }
        fail(context, CheckFailure(.reset, tls == nil && tlsVerify != nil ? "connection closed during the TLS handshake" : "connection closed before a response"))
        context.fireChannelInactive()
    }

    private func finish(_ context: ChannelHandlerContext) {
        guard !completed, let status = parser.status, let firstByteAt, let connectedAt else { return }
        completed = true
        timeout?.cancel()
        promise.succeed(CollectedResponse(
            status: status, location: parser.location, body: parser.body,
            connectedAt: connectedAt, sentAt: sentAt ?? connectedAt, firstByteAt: firstByteAt, tls: tls
        ))
        context.close(promise: nil)
    }

    private func fail(_ context: ChannelHandlerContext, _ error: any Error) {
        guard !completed else { return }
        completed = true
        timeout?.cancel()
        promise.fail(ExchangeFailure(error: error, connectedAt: connectedAt, tlsFinishedAt: tls?.finishedAt))
        context.close(promise: nil)
    }
}
