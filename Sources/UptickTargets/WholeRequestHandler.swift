import NIOCore
import NIOHTTP1

/// The base of the recording test servers: collects each HTTP request whole, hands it to
/// ``received(_:body:context:)``, and writes simple responses.
class WholeRequestHandler: ChannelInboundHandler {
    typealias InboundIn = HTTPServerRequestPart
    typealias OutboundOut = HTTPServerResponsePart

    private var head: HTTPRequestHead?
    private var body: [UInt8] = []

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch unwrapInboundIn(data) {
        case .head(let head):
            self.head = head
            body = []
        case .body(let chunk):
            body += chunk.readableBytesView
        case .end:
            guard let head else { return }
            received(head, body: body, context: context)
        }
    }

    /// One complete request. Subclasses answer it.
    func received(_ head: HTTPRequestHead, body: [UInt8], context: ChannelHandlerContext) {}

    /// Writes a complete response; closes the connection afterwards when `close`.
    func reply(_ context: ChannelHandlerContext, status: HTTPResponseStatus, body: String, contentType: String = "application/json",
               headers: [(String, String)] = [], close: Bool = false) {
        var fields = HTTPHeaders(headers)
        fields.add(name: "Content-Type", value: contentType)
        fields.add(name: "Content-Length", value: String(body.utf8.count))
        if close { fields.add(name: "Connection", value: "close") }
        context.write(wrapOutboundOut(.head(HTTPResponseHead(version: .http1_1, status: status, headers: fields))), promise: nil)
        context.write(wrapOutboundOut(.body(.byteBuffer(context.channel.allocator.buffer(string: body)))), promise: nil)
        let done = context.writeAndFlush(wrapOutboundOut(.end(nil)))
        let channel = context.channel
        if close { done.whenComplete { _ in channel.close(promise: nil) } }
    }
}
