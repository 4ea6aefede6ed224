import Foundation
package import NIOCore
import NIOHTTP1
import NIOPosix
import NIOSSL

extension LoopbackServer {
    /// An HTTP/1.1 server whose paths choose the behaviour:
    ///
    /// - `/` or anything else: `200 OK`, body `ok`
    /// - `/status/NNN`: status NNN
    /// - `/slow/MS`: `200` after MS milliseconds
    /// - `/hang`: reads the request and never answers
    /// - `/bytes/N`: `200` with N bytes of `a`
    /// - `/keyword/TEXT`: `200` with body `…TEXT…`
    /// - `/redirect/N`: `302` to `/redirect/N-1`; `/redirect/0` is `200`
    /// - `/loop`: `302` to itself
    /// - `/redirect-to?URL`: `302` to URL (any scheme, any host)
    /// - `/echo-headers`: the request's headers, one `name: value` a line (names lower-cased)
    /// - `/see-other/303` (or 307, 308): that status to `/echo-method`, which answers with the method used
    /// - `/head-only`: a head announcing 1 000 bytes, no body, connection left open (right for a HEAD request;
    ///   a client that does not know it sent HEAD waits for the body)
    package static func http(host: String = "127.0.0.1", port: Int = 0, group: any EventLoopGroup = MultiThreadedEventLoopGroup.singleton) async throws -> LoopbackServer {
        try await start(host: host, port: port, group: group) { channel in
            channel.eventLoop.makeCompletedFuture {
                try channel.pipeline.syncOperations.configureHTTPServerPipeline(withErrorHandling: true)
                try channel.pipeline.syncOperations.addHandler(Responder())
            }
        }
    }

    /// The same HTTP server behind TLS, presenting `identity` (see ``TestCertificateAuthority``).
    package static func https(identity: TestIdentity, host: String = "127.0.0.1", port: Int = 0,
                             group: any EventLoopGroup = MultiThreadedEventLoopGroup.singleton) async throws -> LoopbackServer {
        let configuration = TLSConfiguration.makeServerConfiguration(
            certificateChain: [.certificate(identity.certificate)], privateKey: .privateKey(identity.privateKey)
        )
        let context = try NIOSSLContext(configuration: configuration)
        return try await start(host: host, port: port, group: group) { channel in
            channel.eventLoop.makeCompletedFuture {
                try channel.pipeline.syncOperations.addHandler(NIOSSLServerHandler(context: context))
                try channel.pipeline.syncOperations.configureHTTPServerPipeline(withErrorHandling: true)
                try channel.pipeline.syncOperations.addHandler(Responder())
            }
        }
    }

    /// A TCP listener that accepts connections and closes them.
    package static func tcp(host: String = "127.0.0.1", port: Int = 0, group: any EventLoopGroup = MultiThreadedEventLoopGroup.singleton) async throws -> LoopbackServer {
        try await start(host: host, port: port, group: group) { $0.close() }
    }
}

private final class Responder: ChannelInboundHandler {
    typealias InboundIn = HTTPServerRequestPart
    typealias OutboundOut = HTTPServerResponsePart

    private var uri = "/"
    private var method = HTTPMethod.GET
    private var requestHeaders = HTTPHeaders()
    private var bodyBytes = 0

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch unwrapInboundIn(data) {
        case .head(let head):
            uri = head.uri
            method = head.method
            requestHeaders = head.headers
        case .body(let buffer): bodyBytes += buffer.readableBytes
        case .end: respond(context)
        }
    }

    private func respond(_ context: ChannelHandlerContext) {
        let pathAndQuery = uri.split(separator: "?", maxSplits: 1, omittingEmptySubsequences: false)
        let parts = pathAndQuery[0].split(separator: "/").map(String.init)
        switch (parts.first, parts.count > 1 ? parts[1] : nil) {
        case ("redirect", let count?):
            let remaining = Int(count) ?? 0
            if remaining > 0 {
                send(context, status: .found, body: "", location: "/redirect/\(remaining - 1)")
            } else {
                send(context, status: .ok, body: "redirected ok")
            }
        case ("loop", _):
            send(context, status: .found, body: "", location: "/loop")
        case ("redirect-to", _):
            let target = pathAndQuery.count > 1 ? String(pathAndQuery[1]) : "/"
            send(context, status: .found, body: "", location: target.removingPercentEncoding ?? target)
        case ("see-other", let code?):
            send(context, status: HTTPResponseStatus(statusCode: Int(code) ?? 303), body: "", location: "/echo-method")
        case ("head-only", _):
            let headers = HTTPHeaders([("Content-Length", "1000")])
            context.write(wrapOutboundOut(.head(HTTPResponseHead(version: .http1_1, status: .ok, headers: headers))), promise: nil)
            context.writeAndFlush(wrapOutboundOut(.end(nil)), promise: nil)
        case ("echo-headers", _):
            send(context, status: .ok, body: requestHeaders.map { "\($0.name.lowercased()): \($0.value)" }.joined(separator: "\n"))
        case ("echo-method", _):
            send(context, status: .ok, body: "method \(method.rawValue) body \(bodyBytes)")
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

    private func send(_ context: ChannelHandlerContext, status: HTTPResponseStatus, body: String, location: String? = nil) {
        var headers = HTTPHeaders()
        if let location { headers.add(name: "Location", value: location) }
        headers.add(name: "Content-Length", value: String(body.utf8.count))
        headers.add(name: "Connection", value: "close")
        context.write(wrapOutboundOut(.head(HTTPResponseHead(version: .http1_1, status: status, headers: headers))), promise: nil)
        context.write(wrapOutboundOut(.body(.byteBuffer(context.channel.allocator.buffer(string: body)))), promise: nil)
        let channel = context.channel
        context.writeAndFlush(wrapOutboundOut(.end(nil))).whenComplete { _ in channel.close(promise: nil) }
    }
}
