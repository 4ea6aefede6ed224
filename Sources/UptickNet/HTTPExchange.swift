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
        /// HTTPS: whether to validate the certificate; `nil` for plain HTTP.
        public var tlsVerify: Bool?

        public init(host: String, port: Int, path: String, method: String = "GET",
                    headers: [(name: String, value: String)] = [], body: String? = nil, tlsVerify: Bool? = nil) {
            self.host = host
            self.port = port
            self.path = path
            self.method = method
            self.headers = headers
            self.body = body
            self.tlsVerify = tlsVerify
        }
    }

    /// What came back: the status and at most ``Limits/maxBodyBytes`` of the body.
    public struct Response: Sendable {
        public var status: Int
        public var headers: [(name: String, value: String)]
        public var body: [UInt8]
        public var timings: PhaseTimings
        /// The TLS session, for HTTPS.
        public var tls: TLSSession?
    }

    public let network: Network

    public init(network: Network) {
        self.network = network
    }

    /// Connects (see ``Network/connect(host:port:deadline:)``), sends `request`, and reads the
    /// response head and up to `bodyLimit` bytes of body, all before `deadline`.
    public func perform(_ request: Request, deadline: NIODeadline, bodyLimit: Int = Limits.maxBodyBytes) async throws(NetFailure) -> Response {
        let connection = try await network.connect(host: request.host, port: request.port, deadline: deadline)
        let channel = connection.channel
        var timings = connection.timings
        var session: TLSSession?
        if let verify = request.tlsVerify {
            (session, timings) = try await network.secure(connection, serverName: request.host, verify: verify, deadline: deadline)
        }
        let response = channel.eventLoop.makePromise(of: CollectedResponse.self)
        let secured = session != nil  // reading is already on after a TLS handshake
        let head = Self.head(for: request)
        let body = request.body
        // One submission to the event loop does the rest: pipeline, deadline, request, and the clean-up once
        // the response (or the deadline) completes the promise. The caller then awaits exactly once, instead
        // of waking the loop from outside for each step.
        channel.eventLoop.execute {
            let timeout = channel.eventLoop.scheduleTask(deadline: deadline) {
                // Whichever comes first completes the promise; a later completion is ignored by NIO.
                response.fail(CheckFailure(.timeout, "no complete response before the deadline"))
            }
            response.futureResult.whenComplete { _ in
                timeout.cancel()
                channel.close(promise: nil)
            }
            do {
                try channel.pipeline.syncOperations.addHTTPClientHandlers(decoderLimitConfiguration: Self.headerLimits)
                try channel.pipeline.syncOperations.addHandler(ResponseCollector(promise: response, limit: bodyLimit))
                channel.write(HTTPClientRequestPart.head(head), promise: nil)
                if let body {
                    channel.write(HTTPClientRequestPart.body(.byteBuffer(channel.allocator.buffer(string: body))), promise: nil)
                }
                channel.writeAndFlush(HTTPClientRequestPart.end(nil), promise: nil)
                if !secured { try channel.syncOptions?.setOption(.autoRead, value: true) }
            } catch {
                response.fail(error)
            }
        }
        do {
            let collected = try await response.futureResult.get()
            timings.firstByteMicroseconds = (collected.firstByteAt - collected.sentAt).microseconds
            return Response(status: collected.status, headers: collected.headers, body: collected.body, timings: timings, tls: session)
        } catch {
            throw NetFailure(Network.classify(error, address: connection.address), timings: timings)
        }
    }

    /// Response head limits: see ``Limits/maxResponseHeaderBytes``.
    static let headerLimits: NIOHTTPDecoderLimitConfiguration = {
        var limits = NIOHTTPDecoderLimitConfiguration()
        limits.maxHeaderListSize = Limits.maxResponseHeaderBytes
        limits.maxHeaderFieldSize = Limits.maxResponseHeaderBytes
        limits.maxHeaderFieldCount = Limits.maxResponseHeaderFields
        return limits
    }()

    static func head(for request: Request) -> HTTPRequestHead {
        var head = HTTPRequestHead(version: .http1_1, method: HTTPMethod(rawValue: request.method), uri: request.path)
        let authority = request.host.contains(":") ? "[\(request.host)]" : request.host
        let defaultPort = request.port == 80 || request.port == 443
        head.headers.add(name: "Host", value: defaultPort ? authority : "\(authority):\(request.port)")
        head.headers.add(name: "User-Agent", value: "uptick/0.1")
        head.headers.add(name: "Accept", value: "*/*")
        head.headers.add(name: "Accept-Encoding", value: "identity")
        head.headers.add(name: "Connection", value: "close")
        for header in request.headers { head.headers.replaceOrAdd(name: header.name, value: header.value) }
        if let body = request.body { head.headers.replaceOrAdd(name: "Content-Length", value: String(body.utf8.count)) }
        return head
    }
}

extension TimeAmount {
    /// Whole microseconds.
    var microseconds: Int64 { nanoseconds / 1000 }
}
