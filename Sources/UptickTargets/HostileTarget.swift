import NIOCore
import NIOPosix

/// How a hostile target misbehaves with every connection.
public enum Misbehaviour: Sendable {
    /// Answers the first bytes it receives with bytes that are not HTTP, then closes.
    case garbage
    /// Aborts the connection with a TCP reset as soon as it is accepted.
    case reset
    /// Accepts and never sends a byte.
    case silent
}

extension LoopbackServer {
    /// A TCP server that misbehaves in one chosen way, to prove a check still ends in time with the right class.
    public static func hostile(_ misbehaviour: Misbehaviour, host: String = "127.0.0.1", port: Int = 0, group: any EventLoopGroup = MultiThreadedEventLoopGroup.singleton) async throws -> LoopbackServer {
        try await start(host: host, port: port, group: group) { channel in
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
        case .garbage, .silent:
            break
        case .reset:
            (channel as? any SocketOptionProvider)?.setSoLinger(linger(l_onoff: 1, l_linger: 0)).whenComplete { _ in
                channel.close(promise: nil)
            }
        }
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        guard case .garbage = behaviour, !answered else { return }
        answered = true
        let channel = context.channel
        let bytes = channel.allocator.buffer(string: "\u{1}\u{2}SSH-2.0-not-http\r\n\r\n\u{0}\u{0}garbage garbage\r\n")
        context.writeAndFlush(NIOAny(bytes)).whenComplete { _ in channel.close(promise: nil) }
    }

    private var answered = false
}
