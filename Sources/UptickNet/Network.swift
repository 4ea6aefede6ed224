import Foundation
import NIOCore
import NIOPosix
import UptickCore

/// The one door through which uptick reaches user-supplied addresses.
///
/// Name resolution runs `getaddrinfo` on a thread pool, never on an event loop; connections are fresh
/// per check so connect time is measured every time, and every operation is bounded by a deadline.
public struct Network: Sendable {
    let group: any EventLoopGroup
    let threadPool: NIOThreadPool

    /// Uses NIO's shared event loops (one per core) and shared blocking pool.
    public init(group: any EventLoopGroup = MultiThreadedEventLoopGroup.singleton, threadPool: NIOThreadPool = .singleton) {
        self.group = group
        self.threadPool = threadPool
    }

    /// The addresses of `host` (an IP literal is returned as is, without a lookup).
    public func resolve(host: String, port: Int) async throws(NetError) -> [SocketAddress] {
        if let literal = try? SocketAddress(ipAddress: host, port: port) { return [literal] }
        let result: Result<[SocketAddress], NetError>
        do {
            result = try await threadPool.runIfActive { Self.getaddrinfo(host: host, port: port) }
        } catch {
            throw NetError(.other, "resolver unavailable: \(error)")
        }
        return try result.get()
    }

    /// Opens a TCP connection to `address` on `eventLoop`, failing at `deadline`. `initializer` sets up the pipeline.
    public func connect(
        to address: SocketAddress, deadline: NIODeadline, on eventLoop: (any EventLoop)? = nil,
        initializer: @escaping @Sendable (any Channel) -> EventLoopFuture<Void> = { $0.eventLoop.makeSucceededVoidFuture() }
    ) async throws(NetError) -> any Channel {
        let remaining = deadline - .now()
        guard remaining > .zero else { throw NetError(.timeout, "deadline passed before connecting") }
        let bootstrap = ClientBootstrap(group: eventLoop ?? group.next())
            .connectTimeout(remaining)
            .channelOption(.socketOption(.so_reuseaddr), value: 1)
            .channelInitializer(initializer)
        do {
            return try await bootstrap.connect(to: address).get()
        } catch {
            throw Self.classify(error, address: address)
        }
    }

    /// Maps NIO and socket errors to check error classes.
    static func classify(_ error: any Error, address: SocketAddress?) -> NetError {
        let peer = address?.display ?? "the peer"
        if let error = error as? NetError { return error }
        if case ChannelError.connectTimeout = error {
            return NetError(.timeout, "connect to \(peer) timed out")
        }
        if let io = error as? IOError {
            switch io.errnoCode {
            case ECONNREFUSED: return NetError(.refused, "connection to \(peer) refused")
            case ENETUNREACH, EHOSTUNREACH, EADDRNOTAVAIL: return NetError(.unreachable, "\(peer) is unreachable")
            case ECONNRESET, EPIPE: return NetError(.reset, "connection to \(peer) reset")
            case ETIMEDOUT: return NetError(.timeout, "connect to \(peer) timed out")
            default: return NetError(.other, "connect to \(peer): \(io)")
            }
        }
        if let connection = error as? NIOConnectionError, let first = connection.connectionErrors.first {
            return classify(first.error, address: address)
        }
        return NetError(.other, "\(error)")
    }

    private static func getaddrinfo(host: String, port: Int) -> Result<[SocketAddress], NetError> {
        var hints = addrinfo()
        hints.ai_family = AF_UNSPEC
        hints.ai_socktype = Int32(SOCK_STREAM.rawValue)
        hints.ai_protocol = Int32(IPPROTO_TCP)
        var list: UnsafeMutablePointer<addrinfo>?
        let rc = Glibc.getaddrinfo(host, String(port), &hints, &list)
        guard rc == 0, let list else {
            let reason = String(cString: gai_strerror(rc))
            return .failure(NetError(.dns, "cannot resolve \(host): \(reason)"))
        }
        defer { freeaddrinfo(list) }
        var addresses: [SocketAddress] = []
        var cursor: UnsafeMutablePointer<addrinfo>? = list
        while let entry = cursor {
            if let raw = entry.pointee.ai_addr {
                switch entry.pointee.ai_family {
                case AF_INET:
                    addresses.append(raw.withMemoryRebound(to: sockaddr_in.self, capacity: 1) { SocketAddress($0.pointee, host: host) })
                case AF_INET6:
                    addresses.append(raw.withMemoryRebound(to: sockaddr_in6.self, capacity: 1) { SocketAddress($0.pointee, host: host) })
                default: break
                }
            }
            cursor = entry.pointee.ai_next
        }
        return addresses.isEmpty ? .failure(NetError(.dns, "\(host) has no addresses")) : .success(addresses)
    }
}

extension SocketAddress {
    /// `1.2.3.4:80` or `[::1]:80`.
    public var display: String {
        guard let ip = ipAddress, let port else { return description }
        return ip.contains(":") ? "[\(ip)]:\(port)" : "\(ip):\(port)"
    }
}
