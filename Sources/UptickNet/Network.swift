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
    public func resolve(host: String, port: Int) async throws(CheckFailure) -> [SocketAddress] {
        if let literal = try? SocketAddress(ipAddress: host, port: port) { return [literal] }
        let result: Result<[SocketAddress], CheckFailure>
        do {
            result = try await threadPool.runIfActive { Self.getaddrinfo(host: host, port: port) }
        } catch {
            throw CheckFailure(.other, "resolver unavailable: \(error)")
        }
        return try result.get()
    }

    /// A connection to a named host, and how long getting it took.
    public struct Connection: Sendable {
        public let channel: any Channel
        public let address: SocketAddress
        /// DNS and connect phases.
        public let timings: PhaseTimings
    }

    /// Resolves `host` and connects to its addresses in turn until one accepts, all before `deadline`.
    ///
    /// The channel comes back with reading paused: the caller installs its protocol handlers, then
    /// sets `autoRead`, so nothing a fast server sends is lost.
    public func connect(host: String, port: Int, deadline: NIODeadline) async throws(NetFailure) -> Connection {
        var timings = PhaseTimings()
        let dnsStart = NIODeadline.now()
        let addresses: [SocketAddress]
        do {
            addresses = try await resolve(host: host, port: port)
        } catch {
            throw NetFailure(error, timings: timings)
        }
        timings.dnsMicroseconds = (NIODeadline.now() - dnsStart).nanoseconds / 1000
        var failure = CheckFailure(.other, "no address to connect to")
        for address in addresses {
            let connectStart = NIODeadline.now()
            do {
                let channel = try await connect(to: address, deadline: deadline)
                timings.connectMicroseconds = (NIODeadline.now() - connectStart).nanoseconds / 1000
                return Connection(channel: channel, address: address, timings: timings)
            } catch {
                failure = error
            }
        }
        throw NetFailure(failure, timings: timings)
    }

    private func connect(to address: SocketAddress, deadline: NIODeadline) async throws(CheckFailure) -> any Channel {
        let remaining = deadline - .now()
        guard remaining > .zero else { throw CheckFailure(.timeout, "deadline passed before connecting") }
        let bootstrap = ClientBootstrap(group: group)
            .connectTimeout(remaining)
            .channelOption(.autoRead, value: false)
        do {
            return try await bootstrap.connect(to: address).get()
        } catch {
            throw Self.classify(error, address: address)
        }
    }

    /// Maps NIO and socket errors to check error classes.
    static func classify(_ error: any Error, address: SocketAddress?) -> CheckFailure {
        let peer = address?.display ?? "the peer"
        if let error = error as? CheckFailure { return error }
        switch error as? ChannelError {
        case .connectTimeout?:
            return CheckFailure(.timeout, "connect to \(peer) timed out")
        case .ioOnClosedChannel?, .alreadyClosed?, .eof?, .outputClosed?, .inputClosed?:
            return CheckFailure(.reset, "connection to \(peer) closed before a response")
        default:
            break
        }
        if let io = error as? IOError {
            switch io.errnoCode {
            case ECONNREFUSED: return CheckFailure(.refused, "connection to \(peer) refused")
            case ENETUNREACH, EHOSTUNREACH, EADDRNOTAVAIL: return CheckFailure(.unreachable, "\(peer) is unreachable")
            case ECONNRESET, EPIPE: return CheckFailure(.reset, "connection to \(peer) reset")
            case ETIMEDOUT: return CheckFailure(.timeout, "connect to \(peer) timed out")
            default: return CheckFailure(.other, "connect to \(peer): \(io)")
            }
        }
        if let connection = error as? NIOConnectionError, let first = connection.connectionErrors.first {
            return classify(first.error, address: address)
        }
        return CheckFailure(.other, "\(error)")
    }

    private static func getaddrinfo(host: String, port: Int) -> Result<[SocketAddress], CheckFailure> {
        var hints = addrinfo()
        hints.ai_family = AF_UNSPEC
        hints.ai_socktype = Int32(SOCK_STREAM.rawValue)
        hints.ai_protocol = Int32(IPPROTO_TCP)
        var list: UnsafeMutablePointer<addrinfo>?
        let rc = Glibc.getaddrinfo(host, String(port), &hints, &list)
        guard rc == 0, let list else {
            let reason = String(cString: gai_strerror(rc))
            return .failure(CheckFailure(.dns, "cannot resolve \(host): \(reason)"))
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
        return addresses.isEmpty ? .failure(CheckFailure(.dns, "\(host) has no addresses")) : .success(addresses)
    }
}

extension SocketAddress {
    /// `1.2.3.4:80` or `[::1]:80`.
    public var display: String {
        guard let ip = ipAddress, let port else { return description }
        return ip.contains(":") ? "[\(ip)]:\(port)" : "\(ip):\(port)"
    }
}
