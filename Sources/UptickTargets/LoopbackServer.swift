import NIOConcurrencyHelpers
import NIOCore
import NIOPosix

/// A real server on a loopback address and an ephemeral port, for tests and benchmarks. It counts the
/// connections it accepts. Made by ``http(host:group:)``, ``tcp(host:group:)`` or ``hostile(_:host:group:)``.
public final class LoopbackServer: Sendable {
    public let host: String
    public let port: Int
    private let channel: any Channel
    private let counter: NIOLockedValueBox<Int>

    /// Connections accepted so far.
    public var connections: Int { counter.withLockedValue { $0 } }

    /// `http://host:port` + `path`.
    public func url(_ path: String = "/") -> String { "http://\(authority)\(path)" }

    /// `host:port`, as a port monitor's target.
    public var target: String { authority }

    private var authority: String { host.contains(":") ? "[\(host)]:\(port)" : "\(host):\(port)" }

    public func stop() async throws {
        try await channel.close()
    }

    static func start(
        host: String, port: Int, group: any EventLoopGroup, child: @escaping @Sendable (any Channel) -> EventLoopFuture<Void>
    ) async throws -> LoopbackServer {
        let counter = NIOLockedValueBox(0)
        let channel = try await ServerBootstrap(group: group)
            .serverChannelOption(.backlog, value: 4096)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .childChannelInitializer { channel in
                counter.withLockedValue { $0 += 1 }
                return child(channel)
            }
            .bind(host: host, port: port).get()
        return LoopbackServer(channel: channel, host: host, counter: counter)
    }

    private init(channel: any Channel, host: String, counter: NIOLockedValueBox<Int>) {
        self.channel = channel
        self.host = host
        self.port = channel.localAddress?.port ?? 0
        self.counter = counter
    }
}
