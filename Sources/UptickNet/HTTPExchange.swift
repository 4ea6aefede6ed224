import NIOCore
import NIOHTTP1
import UptickCore

/// One HTTP/1.1 request on a fresh connection, bounded in time and in bytes read.
public struct HTTPExchange: Sendable {
    /// What to send.
    public struct Request: Sendable {
        public var host: String
        public var port: Int
        public var path: String
        public var method: String
        public var headers: [(name: String, value: String)]
        public var body: String?

        public init(host: String, port: Int, path: String, method: String = "GET",
                    headers: [(name: String, value: String)] = [], body: String? = nil) {
            self.host = host
            self.port = port
            self.path = path
            self.method = method
            self.headers = headers
            self.body = body
        }
    }

    /// What came back: the status and at most ``Limits/maxBodyBytes`` of the body.
    public struct Response: Sendable {
        public var status: Int
        public var headers: [(name: String, value: String)]
        public var body: [UInt8]
        public var timings: PhaseTimings
    }

    /// A failed exchange: what failed and the timings measured up to then.
    public struct Failure: Error, Sendable {
        public var error: NetError
        public var timings: PhaseTimings
    }

    public let network: Network

    public init(network: Network) {
        self.network = network
    }

    /// Resolves, connects (trying each address in turn), sends `request`, and reads the response
    /// head and up to `bodyLimit` bytes of body, all before `deadline`.
    public func perform(_ request: Request, deadline: NIODeadline, bodyLimit: Int = Limits.maxBodyBytes) async throws(Failure) -> Response {
        var timings = PhaseTimings()
        let dnsStart = NIODeadline.now()
        let addresses: [SocketAddress]
        do {
            addresses = try await network.resolve(host: request.host, port: request.port)
        } catch {
            throw Failure(error: error, timings: timings)
        }
        timings.dnsMicroseconds = (NIODeadline.now() - dnsStart).microseconds
        var lastError = NetError(.other, "no address to connect to")
        for address in addresses {
            let connectStart = NIODeadline.now()
            let eventLoop = network.group.next()
            let response = eventLoop.makePromise(of: CollectedResponse.self)
            let channel: any Channel
            do {
                channel = try await network.connect(to: address, deadline: deadline, on: eventLoop) { channel in
                    channel.eventLoop.makeCompletedFuture {
                        try channel.pipeline.syncOperations.addHTTPClientHandlers()
                        try channel.pipeline.syncOperations.addHandler(ResponseCollector(promise: response, limit: bodyLimit))
                    }
                }
            } catch {
                lastError = error
                response.fail(error)
                continue
            }
            timings.connectMicroseconds = (NIODeadline.now() - connectStart).microseconds
            return try await exchange(request, on: channel, response: response, deadline: deadline, timings: timings)
        }
        throw Failure(error: lastError, timings: timings)
    }

    private func exchange(_ request: Request, on channel: any Channel, response: EventLoopPromise<CollectedResponse>,
                          deadline: NIODeadline, timings: PhaseTimings) async throws(Failure) -> Response {
        var timings = timings
        var head = HTTPRequestHead(version: .http1_1, method: HTTPMethod(rawValue: request.method), uri: request.path)
        let authority = request.host.contains(":") ? "[\(request.host)]" : request.host
        let defaultPort = request.port == 80 || request.port == 443
        head.headers.add(name: "Host", value: defaultPort ? authority : "\(authority):\(request.port)")
        head.headers.add(name: "User-Agent", value: "uptick/0.1 (+https://github.com/uptick)")
        head.headers.add(name: "Accept", value: "*/*")
        head.headers.add(name: "Accept-Encoding", value: "identity")
        head.headers.add(name: "Connection", value: "close")
        for header in request.headers { head.headers.replaceOrAdd(name: header.name, value: header.value) }
        var body: ByteBuffer?
        if let text = request.body {
            body = channel.allocator.buffer(string: text)
            head.headers.replaceOrAdd(name: "Content-Length", value: String(text.utf8.count))
        }
        let sent = NIODeadline.now()
        // Whichever comes first completes the promise; the later completion is ignored by NIO.
        let timeout = channel.eventLoop.scheduleTask(deadline: deadline) {
            response.fail(NetError(.timeout, "no complete response before the deadline"))
        }
        defer {
            timeout.cancel()
            channel.close(promise: nil)
        }
        channel.write(HTTPClientRequestPart.head(head), promise: nil)
        if let body { channel.write(HTTPClientRequestPart.body(.byteBuffer(body)), promise: nil) }
        channel.writeAndFlush(HTTPClientRequestPart.end(nil), promise: nil)
        do {
            let collected = try await response.futureResult.get()
            timings.firstByteMicroseconds = (collected.firstByteAt - sent).microseconds
            return Response(status: collected.status, headers: collected.headers, body: collected.body, timings: timings)
        } catch {
            throw Failure(error: Network.classify(error, address: channel.remoteAddress), timings: timings)
        }
    }
}

extension TimeAmount {
    /// Whole microseconds.
    var microseconds: Int64 { nanoseconds / 1000 }
}
