import NIOConcurrencyHelpers
import NIOCore
import NIOPosix

/// A TCP listener on a loopback port that accepts connections and closes them, counting each.
public final class LocalTCPListener: Sendable {
    public let port: Int
    public let host: String
    private let channel: any Channel
    private let counter: NIOLockedValueBox<Int>

    /// Connections accepted so far.
    public var connections: Int { counter.withLockedValue { $0 } }

    public static func start(host: String = "127.0.0.1", group: any EventLoopGroup = MultiThreadedEventLoopGroup.singleton) async throws -> LocalTCPListener {
        let counter = NIOLockedValueBox(0)
        let channel = try await ServerBootstrap(group: group)
            .serverChannelOption(.backlog, value: 4096)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .childChannelInitializer { channel in
                counter.withLockedValue { $0 += 1 }
                return channel.close()
            }
            .bind(host: host, port: 0).get()
        return LocalTCPListener(channel: channel, host: host, counter: counter)
    }

    private init(channel: any Channel, host: String, counter: NIOLockedValueBox<Int>) {
        self.channel = channel
        self.host = host
        self.port = channel.localAddress?.port ?? 0
        self.counter = counter
    }

    /// `host:port`, as a port monitor's target.
    public var target: String { host.contains(":") ? "[\(host)]:\(port)" : "\(host):\(port)" }

    public func stop() async throws {
        try await channel.close()
    }
}
