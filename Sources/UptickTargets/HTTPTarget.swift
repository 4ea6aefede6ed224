import NIOCore
import NIOHTTP1
import NIOPosix

extension LoopbackServer {
    /// An HTTP/1.1 server whose paths choose the behaviour:
    ///
    /// - `/` or anything else: `200 OK`, body `ok`
    /// - `/status/NNN`: status NNN
    /// - `/slow/MS`: `200` after MS milliseconds
    /// - `/hang`: reads the request and never answers
    /// - `/bytes/N`: `200` with N bytes of `a`
    /// - `/keyword/TEXT`: `200` with body `…TEXT…`
    public static func http(host: String = "127.0.0.1", port: Int = 0, group: any EventLoopGroup = MultiThreadedEventLoopGroup.singleton) async throws -> LoopbackServer {
        try await start(host: host, port: port, group: group) { channel in
            channel.eventLoop.makeCompletedFuture {
                try channel.pipeline.syncOperations.configureHTTPServerPipeline(withErrorHandling: true)
                try channel.pipeline.syncOperations.addHandler(Responder())
            }
        }
    }

    /// A TCP listener that accepts connections and closes them.
    public static func tcp(host: String = "127.0.0.1", port: Int = 0, group: any EventLoopGroup = MultiThreadedEventLoopGroup.singleton) async throws -> LoopbackServer {
        try await start(host: host, port: port, group: group) { $0.close() }
    }
}

private final class Responder: ChannelInboundHandler {
    typealias InboundIn = HTTPServerRequestPart
    typealias OutboundOut = HTTPServerResponsePart

    private var uri = "/"

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch unwrapInboundIn(data) {
        case .head(let head): uri = head.uri
        case .body: break
        case .end: respond(context)
        }
    }

    private func respond(_ context: ChannelHandlerContext) {
        let parts = uri.split(separator: "/").map(String.init)
        switch (parts.first, parts.count > 1 ? parts[1] : nil) {
        case ("hang", _):
            return
        case ("status", let code?):
            send(context, status: HTTPResponseStatus(statusCode: Int(code) ?? 500), body: "status \(code)")
        case ("slow", let milliseconds?):
            let loopBound = NIOLoopBound((self, context), eventLoop: context.eventLoop)
            context.eventLoop.scheduleTask(in: .milliseconds(Int64(milliseconds) ?? 0)) {
                let (responder, context) = loopBound.value
                responder.send(context, status: .ok, body: "slow ok")
            }
        case ("bytes", let count?):
            send(context, status: .ok, body: String(repeating: "a", count: Int(count) ?? 0))
        case ("keyword", let text?):
            send(context, status: .ok, body: "<html>before \(text) after</html>")
        default:
            send(context, status: .ok, body: "ok")
        }
    }

    private func send(_ context: ChannelHandlerContext, status: HTTPResponseStatus, body: String) {
        var headers = HTTPHeaders()
        headers.add(name: "Content-Length", value: String(body.utf8.count))
        headers.add(name: "Connection", value: "close")
        context.write(wrapOutboundOut(.head(HTTPResponseHead(version: .http1_1, status: status, headers: headers))), promise: nil)
        context.write(wrapOutboundOut(.body(.byteBuffer(context.channel.allocator.buffer(string: body)))), promise: nil)
        let channel = context.channel
        context.writeAndFlush(wrapOutboundOut(.end(nil))).whenComplete { _ in channel.close(promise: nil) }
    }
}
