import NIOConcurrencyHelpers
package import NIOCore
import NIOPosix

/// A real server on a loopback address and an ephemeral port, for tests and benchmarks. It counts the
/// connections it accepts. Made by ``http(host:port:group:)``, ``tcp(host:port:group:)`` or ``hostile(_:host:port:group:)``.
package final class LoopbackServer: Sendable {
    package let host: String
    package let port: Int
    private let channel: any Channel
    private let group: any EventLoopGroup
    private let state: NIOLockedValueBox<Accepted>

    /// What has been accepted: counted connections, and the markers of ``settledConnections()``.
    struct Accepted {
        var connections = 0
        var markersSent = 0
        var markersAccepted = 0
        var waiters: [(marker: Int, continuation: CheckedContinuation<Void, Never>)] = []
    }

    /// Marker connections come from this address; nothing else here does (the kernel picks 127.0.0.1).
    static let markerSource = "127.0.0.9"

    /// Connections accepted so far, once every connection made before this call has been accepted.
    ///
    /// A TCP connect completes in the kernel before the server accepts it, so a plain counter read right
    /// after a check could miss a connection (and a "no connection" assertion pass falsely). This opens a
    /// marker connection from ``markerSource`` and waits until the server accepts it: accepts are first
    /// in, first out, so everything connected earlier has been counted by then.
    package func settledConnections() async throws -> Int {
        let marker = state.withLockedValue { state in
            state.markersSent += 1
            return state.markersSent
        }
        let channel = try await ClientBootstrap(group: group)
            .bind(to: try SocketAddress(ipAddress: Self.markerSource, port: 0))
            .connect(host: host, port: port).get()
        await withCheckedContinuation { continuation in
            let accepted = state.withLockedValue { state in
                if state.markersAccepted >= marker { return true }
                state.waiters.append((marker, continuation))
                return false
            }
            if accepted { continuation.resume() }
        }
        try? await channel.close()
        return state.withLockedValue { $0.connections }
    }

    /// `http://host:port` + `path` (`https://` with `scheme: "https"`).
    package func url(_ path: String = "/", scheme: String = "http") -> String { "\(scheme)://\(authority)\(path)" }

    /// `host:port`, as a port monitor's target.
    package var target: String { authority }

    private var authority: String { host.contains(":") ? "[\(host)]:\(port)" : "\(host):\(port)" }

    package func stop() async throws {
        try await channel.close()
    }

    /// A TCP server on loopback whose connections get the handlers `child` installs.
    package static func start(
        host: String, port: Int, group: any EventLoopGroup, child: @escaping @Sendable (any Channel) -> EventLoopFuture<Void>
    ) async throws -> LoopbackServer {
        let state = NIOLockedValueBox(Accepted())
        let channel = try await ServerBootstrap(group: group)
            .serverChannelOption(.backlog, value: 4096)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .serverChannelInitializer { channel in
                // Counted here, on the listening channel, in accept order: child initializers run on
                // several event loops and could see the connections out of order.
                channel.eventLoop.makeCompletedFuture { try channel.pipeline.syncOperations.addHandler(AcceptCounter(state: state)) }
            }
            .childChannelInitializer { channel in
                channel.remoteAddress?.ipAddress == markerSource ? channel.close() : child(channel)
            }
            .bind(host: host, port: port).get()
        return LoopbackServer(channel: channel, host: host, group: group, state: state)
    }

    private init(channel: any Channel, host: String, group: any EventLoopGroup, state: NIOLockedValueBox<Accepted>) {
        self.channel = channel
        self.host = host
        self.group = group
        self.port = channel.localAddress?.port ?? 0
        self.state = state
    }
}

/// Counts accepted connections in the order the listening socket accepts them.
private final class AcceptCounter: ChannelInboundHandler, Sendable {
    typealias InboundIn = any Channel

    let state: NIOLockedValueBox<LoopbackServer.Accepted>

    init(state: NIOLockedValueBox<LoopbackServer.Accepted>) {
        self.state = state
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let isMarker = unwrapInboundIn(data).remoteAddress?.ipAddress == LoopbackServer.markerSource
        let ready: [CheckedContinuation<Void, Never>] = state.withLockedValue { state in
            guard isMarker else {
                state.connections += 1
                return []
            }
            state.markersAccepted += 1
            let ready = state.waiters.filter { $0.marker <= state.markersAccepted }.map(\.continuation)
            state.waiters.removeAll { $0.marker <= state.markersAccepted }
            return ready
        }
        for waiter in ready { waiter.resume() }
        context.fireChannelRead(data)
    }
}
