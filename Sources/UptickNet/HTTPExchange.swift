package import NIOCore
import NIOHTTP1
import NIOPosix
import NIOSSL
package import UptickCore

/// One HTTP/1.1 request on a fresh connection, bounded in time and in bytes read.
package struct HTTPExchange: Sendable {
    /// What to send.
    package struct Request: Sendable {
        package var host: String
        package var port: Int
        package var path: String
        package var method: String
        package var headers: [(name: String, value: String)]
        package var body: String?
        /// HTTPS: whether to validate the certificate; `nil` for plain HTTP.
        package var tlsVerify: Bool?

        package init(host: String, port: Int, path: String, method: String = "GET",
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
    package struct Response: Sendable {
        package var status: Int
        /// The `Location` header, for redirects.
        package var location: String?
        package var body: [UInt8]
        package var timings: PhaseTimings
        /// The TLS session, for HTTPS.
        package var tls: TLSSession?
    }

    package let network: Network

    package init(network: Network) {
        self.network = network
    }

    /// Connects to the allowed addresses of the host in turn (see ``Network/allowedAddresses(host:port:deadline:)``),
    /// makes the TLS handshake for HTTPS, sends `request`, and reads the response head and up to
    /// `bodyLimit` bytes of body, all before `deadline`.
    ///
    /// The whole pipeline is installed by the bootstrap and the exchange is driven by one handler on the
    /// channel's event loop, from `channelActive` to the close: the caller awaits the connection and the
    /// result, nothing in between.
    package func perform(_ request: Request, deadline: NIODeadline, bodyLimit: Int = Limits.maxBodyBytes) async throws(NetFailure) -> Response {
        let (addresses, dnsTimings) = try await network.allowedAddresses(host: request.host, port: request.port, deadline: deadline)
        let tls: NIOSSLContext?
        do {
            tls = try request.tlsVerify.map { verify throws(CheckFailure) in try network.tls.context(verify: verify) }
        } catch {
            throw NetFailure(error, timings: dnsTimings)
        }
        let serverName = IPAddress(numericHost: request.host) == nil ? request.host : nil
        let head = Self.head(for: request)
        var failure = NetFailure(CheckFailure(.other, "no address to connect to"), timings: dnsTimings)
        for address in addresses {
            let remaining = deadline - .now()
            guard remaining > .zero else { throw NetFailure(CheckFailure(.timeout, "deadline passed before connecting"), timings: dnsTimings) }
            let loop = network.group.any()  // the caller's own loop when it runs on one: no thread hand-off
            let promise = loop.makePromise(of: CollectedResponse.self)
            let verify = request.tlsVerify ?? false
            let body = request.body
            let connectStart = NIODeadline.now()
            let connected = ClientBootstrap(group: loop)
                .connectTimeout(remaining)
                .channelInitializer { channel in
                    channel.eventLoop.makeCompletedFuture {
                        let operations = channel.pipeline.syncOperations
                        if let tls { try operations.addHandler(try NIOSSLClientHandler(context: tls, serverHostname: serverName)) }
                        try operations.addHandler(HTTPRequestEncoder())
                        try operations.addHandler(NIOHTTPRequestHeadersValidator())
                        try operations.addHandler(ResponseCollector(
                            promise: promise, head: head, body: body, limit: bodyLimit, deadline: deadline,
                            tls: tls == nil ? nil : verify
                        ))
                    }
                }
                .connect(to: address)
            connected.whenFailure { promise.fail(ConnectFailure(error: $0)) }  // a no-op if the exchange already ended it
            // One wait for connect and exchange: the task wakes once per check, not once per phase. A cancelled
            // task (a hard deadline, a delivery run at its end) closes the connection and stops waiting.
            var timings = dnsTimings
            do {
                let collected = try await withTaskCancellationHandler {
                    try await promise.futureResult.get()
                } onCancel: {
                    promise.fail(CheckFailure(.timeout, "cancelled"))
                    connected.whenSuccess { $0.close(promise: nil) }
                }
                timings.connectMicroseconds = (collected.connectedAt - connectStart).microseconds
                timings.tlsMicroseconds = collected.tls.map { ($0.finishedAt - collected.connectedAt).microseconds }
                timings.firstByteMicroseconds = (collected.firstByteAt - collected.sentAt).microseconds
                return Response(status: collected.status, location: collected.location, body: collected.body, timings: timings,
                                tls: collected.tls?.session)
            } catch let connect as ConnectFailure {
                failure = NetFailure(Network.classify(connect.error, address: address), timings: dnsTimings)
            } catch let failure as ExchangeFailure {
                timings.connectMicroseconds = failure.connectedAt.map { ($0 - connectStart).microseconds }
                if let connected = failure.connectedAt, let handshake = failure.tlsFinishedAt {
                    timings.tlsMicroseconds = (handshake - connected).microseconds
                }
                throw NetFailure(Network.classify(failure.error, address: address), timings: timings)
            } catch {
                throw NetFailure(Network.classify(error, address: address), timings: timings)
            }
        }
        throw failure
    }

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

/// Connecting to one address failed: the next one is tried.
private struct ConnectFailure: Error {
    var error: any Error
}

extension TimeAmount {
    /// Whole microseconds.
    var microseconds: Int64 { nanoseconds / 1000 }
}
