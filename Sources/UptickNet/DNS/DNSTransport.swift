import NIOCore
import NIOPosix
import UptickCore

/// One DNS question to one nameserver: over UDP from a fresh socket (a random source port for every query,
/// with a random id, RFC 5452), then over TCP when the answer comes back truncated (RFC 7766).
///
/// Only an answer that comes from the server's address and port, carries the query's id, is a response and
/// repeats the question is taken; anything else is dropped and the wait goes on (so a spoofed answer can
/// neither fail nor poison a lookup). The UDP socket is connected, so the kernel drops datagrams from other
/// sources before they reach us; the handler checks again.
enum DNSTransport {
    /// The most read of one UDP answer: well above the 1 232 bytes uptick advertises. A longer datagram is cut
    /// by the kernel, fails to parse, and is asked again over TCP, which carries up to 65 535 bytes.
    /// (Reading 64 KB per datagram cost about 3 % of the CPU in `uptick-bench dns`, for answers of ~60 bytes.)
    static let maxUDPResponse = 4_096

    static func exchange(name: String, type: DNSMessage.RecordType, server: SocketAddress, timeout: TimeAmount,
                         on loop: any EventLoop) -> EventLoopFuture<DNSMessage> {
        let id = UInt16.random(in: .min ... .max)
        guard let query = DNSMessage.query(id: id, name: name, type: type) else {
            return loop.makeFailedFuture(CheckFailure(.invalidTarget, "'\(name)' is not a valid DNS name"))
        }
        let expected = Expected(id: id, name: DNSMessage.canonical(name), type: type.rawValue, server: server)
        let deadline = NIODeadline.now() + timeout
        return udp(query, expected, deadline: deadline, on: loop).flatMap { message in
            if let message, !message.truncated { return loop.makeSucceededFuture(message) }
            return tcp(query, expected, deadline: deadline, on: loop)
        }
    }

    /// What an answer must match.
    struct Expected: Sendable {
        var id: UInt16
        var name: String
        var type: UInt16
        var server: SocketAddress

        /// The message, if `bytes` is the answer to this query; `truncatedMatch` when it could not be parsed
        /// but carries the id (an answer cut short by a server that ignored our size): worth asking over TCP.
        func accept(_ bytes: [UInt8]) -> Match {
            guard let message = DNSMessage(parsing: bytes) else {
                return bytes.count >= 2 && UInt16(bytes[0]) << 8 | UInt16(bytes[1]) == id ? .unparsable : .ignore
            }
            guard message.id == id, message.isResponse, message.opcode == 0,
                  message.question == DNSMessage.Question(name: name, type: type) else { return .ignore }
            return .answer(message)
        }

        enum Match {
            case answer(DNSMessage)
            case unparsable
            case ignore
        }
    }

    /// The answer over UDP; `nil` when it could not be read whole (then TCP is asked).
    private static func udp(_ query: [UInt8], _ expected: Expected, deadline: NIODeadline, on loop: any EventLoop) -> EventLoopFuture<DNSMessage?> {
        let promise = loop.makePromise(of: DNSMessage?.self)
        let connected = DatagramBootstrap(group: loop)
            .channelOption(.recvAllocator, value: FixedSizeRecvByteBufferAllocator(capacity: maxUDPResponse))
            .channelInitializer { channel in
                channel.eventLoop.makeCompletedFuture { try channel.pipeline.syncOperations.addHandler(UDPAnswerHandler(expected, promise)) }
            }
            .connect(to: expected.server)
        return answer(promise, on: connected, until: deadline, over: "UDP") { channel in
            channel.writeAndFlush(AddressedEnvelope(remoteAddress: expected.server, data: ByteBuffer(bytes: query)), promise: nil)
        }
    }

    private static func tcp(_ query: [UInt8], _ expected: Expected, deadline: NIODeadline, on loop: any EventLoop) -> EventLoopFuture<DNSMessage> {
        let promise = loop.makePromise(of: DNSMessage.self)
        let connected = ClientBootstrap(group: loop)
            .connectTimeout(max(deadline - .now(), .milliseconds(1)))
            .channelInitializer { channel in
                channel.eventLoop.makeCompletedFuture { try channel.pipeline.syncOperations.addHandler(TCPAnswerHandler(expected, promise)) }
            }
            .connect(to: expected.server)
        return answer(promise, on: connected, until: deadline, over: "TCP") { channel in
            var framed = ByteBuffer()
            framed.writeInteger(UInt16(query.count))
            framed.writeBytes(query)
            channel.writeAndFlush(framed, promise: nil)
        }
    }

    /// Sends the query once `connected`, and ends `promise` (which the channel's handler completes with the
    /// answer) at `deadline` at the latest; the channel is closed when it ends.
    private static func answer<T: Sendable>(_ promise: EventLoopPromise<T>, on connected: EventLoopFuture<any Channel>, until deadline: NIODeadline,
                                           over transport: String, send: @escaping @Sendable (any Channel) -> Void) -> EventLoopFuture<T> {
        let timer = promise.futureResult.eventLoop.scheduleTask(deadline: deadline) {
            promise.fail(CheckFailure(.timeout, "no answer from the nameserver over \(transport)"))
        }
        connected.whenComplete { result in
            switch result {
            case .success(let channel):
                promise.futureResult.whenComplete { _ in channel.close(promise: nil) }
                send(channel)
            case .failure(let error):
                promise.fail(CheckFailure(.other, "cannot reach the nameserver over \(transport): \(error)"))
            }
        }
        promise.futureResult.whenComplete { _ in timer.cancel() }
        return promise.futureResult
    }
}

/// Takes the first datagram that answers the query.
private final class UDPAnswerHandler: ChannelInboundHandler {
    typealias InboundIn = AddressedEnvelope<ByteBuffer>

    let expected: DNSTransport.Expected
    let promise: EventLoopPromise<DNSMessage?>

    init(_ expected: DNSTransport.Expected, _ promise: EventLoopPromise<DNSMessage?>) {
        self.expected = expected
        self.promise = promise
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let envelope = unwrapInboundIn(data)
        guard envelope.remoteAddress == expected.server else { return }
        switch expected.accept(Array(envelope.data.readableBytesView)) {
        case .answer(let message): promise.succeed(message)
        case .unparsable:
            // Cut short or garbled, from the right source with the right id: TCP has the whole answer.
            promise.succeed(nil)
        case .ignore: break
        }
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        // An ICMP port unreachable shows up here as ECONNREFUSED: the server is not listening.
        promise.fail(CheckFailure(.other, "nameserver error: \(error)"))
    }
}

/// Reads one length-prefixed message (RFC 1035 §4.2.2), at most 65 535 bytes.
private final class TCPAnswerHandler: ChannelInboundHandler {
    typealias InboundIn = ByteBuffer

    let expected: DNSTransport.Expected
    let promise: EventLoopPromise<DNSMessage>
    var buffer = ByteBuffer()

    init(_ expected: DNSTransport.Expected, _ promise: EventLoopPromise<DNSMessage>) {
        self.expected = expected
        self.promise = promise
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        var chunk = unwrapInboundIn(data)
        buffer.writeBuffer(&chunk)
        guard let length = buffer.getInteger(at: buffer.readerIndex, as: UInt16.self), buffer.readableBytes >= 2 + Int(length) else { return }
        let bytes = buffer.getBytes(at: buffer.readerIndex + 2, length: Int(length)) ?? []
        if case .answer(let message) = expected.accept(bytes) {
            promise.succeed(message)
        } else {
            promise.fail(CheckFailure(.other, "the nameserver sent a malformed answer over TCP"))
        }
    }

    func channelInactive(context: ChannelHandlerContext) {
        promise.fail(CheckFailure(.other, "the nameserver closed the TCP connection without an answer"))
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        promise.fail(CheckFailure(.other, "nameserver error over TCP: \(error)"))
    }
}
