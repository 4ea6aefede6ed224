import Foundation
package import NIOCore
import NIOPosix

/// How a hostile target misbehaves with every connection.
package enum Misbehaviour: Sendable {
    /// Answers the first bytes it receives with bytes that are not HTTP, then closes.
    case garbage
    /// Aborts the connection with a TCP reset as soon as it is accepted.
    case reset
    /// Accepts and never sends a byte.
    case silent
    /// A valid response head, then a body of one byte a second, forever.
    case trickle
    /// A valid response head, then an endless body as fast as the socket takes it.
    case endless
    /// A response head of 1 MB of header fields.
    case hugeHeaders
    /// `Content-Encoding: gzip` with 100 MB of zeros compressed to ~100 KB.
    case gzipBomb
}

extension LoopbackServer {
    /// A TCP server that misbehaves in one chosen way, to prove a check still ends in time with the right class.
    package static func hostile(_ misbehaviour: Misbehaviour, host: String = "127.0.0.1", port: Int = 0, group: any EventLoopGroup = MultiThreadedEventLoopGroup.singleton) async throws -> LoopbackServer {
        // Build the large payloads here, off the event loops.
        _ = (Misbehaver.hugeHead.count, Misbehaver.bomb.count)
        return try await start(host: host, port: port, group: group) { channel in
            channel.eventLoop.makeCompletedFuture {
                try channel.pipeline.syncOperations.addHandler(Misbehaver(misbehaviour))
            }
        }
    }
}

/// Misbehaves once the connection is active (writes before that would be lost).
private final class Misbehaver: ChannelInboundHandler {
    typealias InboundIn = ByteBuffer

    let behaviour: Misbehaviour

    init(_ behaviour: Misbehaviour) {
        self.behaviour = behaviour
    }

    func channelActive(context: ChannelHandlerContext) {
        let channel = context.channel
        switch behaviour {
        case .reset:
            (channel as? any SocketOptionProvider)?.setSoLinger(linger(l_onoff: 1, l_linger: 0)).whenComplete { _ in
                channel.close(promise: nil)
            }
        default:
            break
        }
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        guard !answered else { return }
        answered = true
        let channel = context.channel
        switch behaviour {
        case .garbage:
            let bytes = channel.allocator.buffer(string: "\u{1}\u{2}SSH-2.0-not-http\r\n\r\n\u{0}\u{0}garbage garbage\r\n")
            context.writeAndFlush(NIOAny(bytes)).whenComplete { _ in channel.close(promise: nil) }
        case .trickle:
            context.writeAndFlush(NIOAny(channel.allocator.buffer(string: "HTTP/1.1 200 OK\r\nContent-Length: 1000000\r\n\r\n")), promise: nil)
            channel.eventLoop.scheduleRepeatedTask(initialDelay: .seconds(1), delay: .seconds(1)) { task in
                guard channel.isActive else { return task.cancel() }
                channel.writeAndFlush(channel.allocator.buffer(string: "x"), promise: nil)
            }
        case .endless:
            context.writeAndFlush(NIOAny(channel.allocator.buffer(string: "HTTP/1.1 200 OK\r\nConnection: close\r\n\r\n")), promise: nil)
            Self.pour(channel.allocator.buffer(repeating: UInt8(ascii: "a"), count: 64 * 1024), into: channel)
        case .hugeHeaders:
            context.writeAndFlush(NIOAny(channel.allocator.buffer(bytes: Self.hugeHead)), promise: nil)
        case .gzipBomb:
            let bomb = Self.bomb
            let head = "HTTP/1.1 200 OK\r\nContent-Encoding: gzip\r\nContent-Type: text/html\r\nContent-Length: \(bomb.count)\r\n\r\n"
            var buffer = channel.allocator.buffer(string: head)
            buffer.writeBytes(bomb)
            context.writeAndFlush(NIOAny(buffer)).whenComplete { _ in channel.close(promise: nil) }
        case .reset, .silent:
            break
        }
    }

    private var answered = false

    /// Writes `chunk` again and again while the peer keeps reading. Each chunk is its own event-loop
    /// task, so the pouring never starves the other connections sharing the loop.
    private static func pour(_ chunk: ByteBuffer, into channel: any Channel) {
        channel.writeAndFlush(chunk).whenSuccess { channel.eventLoop.execute { pour(chunk, into: channel) } }
    }

    /// 1 MB of header fields. Built once, before the server starts, never on an event loop.
    static let hugeHead: [UInt8] = {
        let field = Array("X-Filler: ".utf8) + [UInt8](repeating: UInt8(ascii: "f"), count: 1000) + Array("\r\n".utf8)
        var head = Array("HTTP/1.1 200 OK\r\n".utf8)
        head.reserveCapacity(1024 * field.count + 64)
        for _ in 0..<1024 { head += field }
        return head + Array("Content-Length: 2\r\n\r\nok".utf8)
    }()

    /// The gzip bomb fixture (see Resources/bomb.gz).
    static let bomb: [UInt8] = {
        guard let url = Bundle.module.url(forResource: "bomb", withExtension: "gz"), let data = try? Data(contentsOf: url) else { return [] }
        return Array(data)
    }()
}
