import NIOConcurrencyHelpers
import NIOCore
import NIOPosix

/// A TCP server on loopback that misbehaves in one chosen way, to prove a check still ends in time
/// with the right error class.
public final class HostileServer: Sendable {
    /// How it misbehaves with every connection.
    public enum Behaviour: Sendable {
        /// Answers anything with bytes that are not HTTP, then closes.
        case garbage
        /// Aborts the connection with a TCP reset as soon as it is accepted.
        case reset
        /// Accepts and never sends a byte.
        case silent
    }

    public let port: Int
    private let channel: any Channel

    public static func start(_ behaviour: Behaviour, host: String = "127.0.0.1", group: any EventLoopGroup = MultiThreadedEventLoopGroup.singleton) async throws -> HostileServer {
        let channel = try await ServerBootstrap(group: group)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .childChannelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHandler(Misbehaviour(behaviour))
                }
            }
            .bind(host: host, port: 0).get()
        return HostileServer(channel: channel)
    }

    private init(channel: any Channel) {
        self.channel = channel
        self.port = channel.localAddress?.port ?? 0
    }

    /// `http://127.0.0.1:port/`.
    public var url: String { "http://127.0.0.1:\(port)/" }

    public func stop() async throws {
        try await channel.close()
    }
}

/// Misbehaves once the connection is active (writes before that would be lost).
private final class Misbehaviour: ChannelInboundHandler {
    typealias InboundIn = ByteBuffer

    let behaviour: HostileServer.Behaviour

    init(_ behaviour: HostileServer.Behaviour) {
        self.behaviour = behaviour
    }

    func channelActive(context: ChannelHandlerContext) {
        let channel = context.channel
        switch behaviour {
        case .garbage:
            let bytes = channel.allocator.buffer(string: "\u{1}\u{2}SSH-2.0-not-http\r\n\r\n\u{0}\u{0}garbage garbage\r\n")
            context.writeAndFlush(NIOAny(bytes)).whenComplete { _ in channel.close(promise: nil) }
        case .reset:
            (channel as? any SocketOptionProvider)?.setSoLinger(linger(l_onoff: 1, l_linger: 0)).whenComplete { _ in
                channel.close(promise: nil)
            }
        case .silent:
            break
        }
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {}
}
