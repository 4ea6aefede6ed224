package import NIOCore
package import NIOHTTP1
import NIOPosix
import NIOSSL

/// HTTP/1.1 with keep-alive to one origin: connections are reused for later requests and opened when
/// none is idle. For addresses the operator chose (the database, the Lambda runtime API): it does not go
/// through the SSRF guard, which is for user-supplied addresses.
package actor HTTPConnectionPool {
    package struct Origin: Sendable, Hashable {
        package var host: String
        package var port: Int
        package var tls: Bool

        package init(host: String, port: Int, tls: Bool) {
            self.host = host
            self.port = port
            self.tls = tls
        }
    }

    package struct Response: Sendable {
        package var status: Int
        package var headers: HTTPHeaders
        package var body: ByteBuffer
    }

    /// Why a request failed before a complete response came back.
    package enum Failure: Error {
        /// On a reused connection, before any byte of the response: the server may have closed it while idle.
        case staleConnection(any Error)
        case failed(any Error)
        case timedOut
    }

    package let origin: Origin
    private let group: any EventLoopGroup
    private let tls: NIOSSLContext?
    private var idle: [Connection] = []
    /// The most idle connections kept.
    static let maxIdle = 8
    /// The largest response body accepted.
    package static let maxResponseBytes = 64 * 1024 * 1024

    package init(origin: Origin, group: any EventLoopGroup = MultiThreadedEventLoopGroup.singleton) throws {
        self.origin = origin
        self.group = group
        if origin.tls {
            var configuration = TLSConfiguration.makeClientConfiguration()
            configuration.minimumTLSVersion = .tlsv12
            tls = try NIOSSLContext(configuration: configuration)
        } else {
            tls = nil
        }
    }

    /// Sends one request and reads its whole response, within `timeout`. Cancelling the task closes the connection
    /// and fails the request.
    package func send(method: HTTPMethod, path: String, headers: [(String, String)], body: ByteBuffer?, timeout: TimeAmount) async throws(Failure) -> Response {
        let deadline = NIODeadline.now() + timeout
        let reused: Bool
        let connection: Connection
        if let last = idle.popLast() {
            connection = last
            reused = true
        } else {
            do {
                connection = try await open(deadline: deadline)
            } catch {
                throw .failed(error)
            }
            reused = false
        }
        do {
            let (response, keepAlive) = try await connection.exchange(
                method: method, path: path, headers: headers, body: body, authority: authority, deadline: deadline)
            if keepAlive && idle.count < Self.maxIdle { idle.append(connection) } else { connection.close() }
            return response
        } catch {
            connection.close()
            switch error {
            case .timedOut: throw .timedOut
            case .beforeResponse(let cause): throw reused ? .staleConnection(cause) : .failed(cause)
            case .duringResponse(let cause): throw .failed(cause)
            }
        }
    }

    private var authority: String {
        let defaultPort = origin.port == (origin.tls ? 443 : 80)
        let host = origin.host.contains(":") ? "[\(origin.host)]" : origin.host
        return defaultPort ? host : "\(host):\(origin.port)"
    }

    private func open(deadline: NIODeadline) async throws -> Connection {
        let tls = self.tls
        let host = origin.host
        let (channel, reader) = try await ClientBootstrap(group: group)
            .connectTimeout(max(.milliseconds(1), deadline - .now()))
            .connect(host: origin.host, port: origin.port) { channel in
                channel.eventLoop.makeCompletedFuture {
                    if let tls {
                        try channel.pipeline.syncOperations.addHandler(try NIOSSLClientHandler(context: tls, serverHostname: host))
                    }
                    try channel.pipeline.syncOperations.addHTTPClientHandlers()
                    let reader = ResponseReader()
                    try channel.pipeline.syncOperations.addHandler(reader)
                    return (channel, NIOLoopBound(reader, eventLoop: channel.eventLoop))
                }
            }
        return Connection(channel: channel, reader: reader)
    }
}

/// One keep-alive connection. Used by one request at a time: the pool hands it out exclusively.
final class Connection: Sendable {
    enum ExchangeError: Error {
        case beforeResponse(any Error)
        case duringResponse(any Error)
        case timedOut
    }

    private let channel: any Channel
    private let reader: NIOLoopBound<ResponseReader>

    init(channel: any Channel, reader: NIOLoopBound<ResponseReader>) {
        self.channel = channel
        self.reader = reader
    }

    func close() {
        channel.close(promise: nil)
    }

    func exchange(method: HTTPMethod, path: String, headers: [(String, String)], body: ByteBuffer?, authority: String,
                  deadline: NIODeadline) async throws(ExchangeError) -> (HTTPConnectionPool.Response, keepAlive: Bool) {
        var head = HTTPRequestHead(version: .http1_1, method: method, uri: path)
        head.headers.add(name: "Host", value: authority)
        head.headers.add(name: "User-Agent", value: "uptick/0.1")
        for (name, value) in headers { head.headers.add(name: name, value: value) }
        head.headers.add(name: "Content-Length", value: String(body?.readableBytes ?? 0))
        let channel = self.channel
        let reader = self.reader
        let requestHead = head
        let promise = channel.eventLoop.makePromise(of: ResponseReader.Collected.self)
        channel.eventLoop.execute {
            reader.value.expect(promise)
            let timer = channel.eventLoop.scheduleTask(deadline: deadline) { reader.value.timeOut() }
            promise.futureResult.whenComplete { _ in timer.cancel() }
            channel.write(HTTPClientRequestPart.head(requestHead), promise: nil)
            if let body { channel.write(HTTPClientRequestPart.body(.byteBuffer(body)), promise: nil) }
            channel.writeAndFlush(HTTPClientRequestPart.end(nil)).whenFailure { reader.value.fail($0) }
        }
        do {
            // Cancelled (a long poll at shutdown), the connection is closed, which ends the wait with an error.
            let collected = try await withTaskCancellationHandler {
                try await promise.futureResult.get()
            } onCancel: {
                channel.close(promise: nil)
            }
            return (HTTPConnectionPool.Response(status: collected.status, headers: collected.headers, body: collected.body), collected.keepAlive)
        } catch let error as ExchangeError {
            throw error
        } catch {
            throw .beforeResponse(error)
        }
    }
}

/// Collects one response at a time into the promise the connection set; fails it when the connection
/// ends, errs or runs out of time.
final class ResponseReader: ChannelInboundHandler {
    typealias InboundIn = HTTPClientResponsePart

    struct Collected: Sendable {
        var status: Int
        var headers: HTTPHeaders
        var body: ByteBuffer
        var keepAlive: Bool
    }

    private var promise: EventLoopPromise<Collected>?
    private var head: HTTPResponseHead?
    private var body = ByteBuffer()
    private var context: ChannelHandlerContext?

    func handlerAdded(context: ChannelHandlerContext) {
        self.context = context
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        self.context = nil
    }

    func expect(_ promise: EventLoopPromise<Collected>) {
        self.promise = promise
        head = nil
        body.clear()
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch unwrapInboundIn(data) {
        case .head(let head):
            self.head = head
        case .body(var chunk):
            guard body.readableBytes + chunk.readableBytes <= HTTPConnectionPool.maxResponseBytes else {
                return fail(ChannelError.inputClosed)
            }
            body.writeBuffer(&chunk)
        case .end:
            guard let head, let promise else { return }
            self.promise = nil
            promise.succeed(Collected(status: Int(head.status.code), headers: head.headers, body: body, keepAlive: head.isKeepAlive))
        }
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        fail(error)
        context.close(promise: nil)
    }

    func channelInactive(context: ChannelHandlerContext) {
        fail(ChannelError.eof)
        context.fireChannelInactive()
    }

    func timeOut() {
        guard let promise else { return }
        self.promise = nil
        promise.fail(Connection.ExchangeError.timedOut)
        context?.close(promise: nil)
    }

    func fail(_ error: any Error) {
        guard let promise else { return }
        self.promise = nil
        promise.fail(head == nil ? Connection.ExchangeError.beforeResponse(error) : Connection.ExchangeError.duringResponse(error))
    }
}
