import Foundation
import NIOCore
import NIOPosix
import NIOSSL
import UptickCore

/// The one door through which uptick reaches user-supplied addresses: the SSRF guard.
///
/// A name is resolved once; every address is judged by the ``AddressPolicy``; only an allowed address is
/// connected to, and the connection is made to that very address, so a DNS answer that changes between
/// check and use (rebinding) cannot get through. Connections are fresh per check so connect time is
/// measured every time, and every operation is bounded by a deadline. No proxy is ever used.
public struct Network: Sendable {
    let group: any EventLoopGroup
    /// What may be connected to.
    public let policy: AddressPolicy
    let resolver: any Resolver
    let tls: TLSContexts

    /// Uses NIO's shared event loops (one per core), `getaddrinfo` on a thread pool, and the system's
    /// trust roots for TLS (tests pass their own CA).
    public init(policy: AddressPolicy = .publicOnly, resolver: any Resolver = SystemResolver(),
                tlsTrustRoots: NIOSSLTrustRoots = .default, group: any EventLoopGroup = MultiThreadedEventLoopGroup.singleton) {
        self.group = group
        self.policy = policy
        self.resolver = resolver
        self.tls = TLSContexts(trustRoots: tlsTrustRoots)
    }

    /// The addresses of `host` (an IP literal is returned as is, without a lookup). Not yet judged.
    public func resolve(host: String, port: Int) async throws(CheckFailure) -> [SocketAddress] {
        if let literal = try? SocketAddress(ipAddress: host, port: port) { return [literal] }
        return try await resolver.resolve(host: host, port: port)
    }

    /// A connection to a named host, and how long getting it took.
    public struct Connection: Sendable {
        public let channel: any Channel
        public let address: SocketAddress
        /// DNS and connect phases.
        public let timings: PhaseTimings
    }

    /// The addresses of `host` the policy allows, in the order to try them, and the DNS time. Fails with
    /// `blocked` when it allows none, naming each address and the range that denied it.
    public func allowedAddresses(host: String, port: Int) async throws(NetFailure) -> (addresses: [SocketAddress], timings: PhaseTimings) {
        var timings = PhaseTimings()
        let dnsStart = NIODeadline.now()
        let addresses: [SocketAddress]
        do {
            addresses = try await resolve(host: host, port: port)
        } catch {
            throw NetFailure(error, timings: timings)
        }
        timings.dnsMicroseconds = (NIODeadline.now() - dnsStart).nanoseconds / 1000
        let (allowed, denied) = judge(addresses, port: port)
        guard allowed.isEmpty else { return (allowed, timings) }
        throw NetFailure(blockedFailure(host: host, denied: denied), timings: timings)
    }

    /// Splits addresses into those the policy allows and the reasons for those it denies.
    public func judge(_ addresses: [SocketAddress], port: Int) -> (allowed: [SocketAddress], denied: [(address: IPAddress, reason: String)]) {
        var allowed: [SocketAddress] = []
        var denied: [(IPAddress, String)] = []
        for address in addresses {
            guard let ip = IPAddress(address) else { continue }
            if case .denied(let reason) = policy.verdict(ip, port: port) {
                denied.append((ip, reason))
            } else {
                allowed.append(address)
            }
        }
        return (allowed, denied)
    }

    /// The `blocked` failure for `host`. For an address the user typed, it names the address and its
    /// range. For a name it names only the kinds of range: the addresses an internal name resolves to
    /// are our network's secrets, and messages are shown to the customer who chose the name.
    public func blockedFailure(host: String, denied: [(address: IPAddress, reason: String)]) -> CheckFailure {
        if IPAddress(host) != nil, let first = denied.first {
            return CheckFailure(.blocked, "\(first.address) is \(first.reason)")
        }
        var kinds: [String] = []
        for (_, reason) in denied {
            let kind = reason.split(separator: "(").first.map { $0.trimmingCharacters(in: .whitespaces) } ?? reason
            if !kinds.contains(kind) { kinds.append(kind) }
        }
        return CheckFailure(.blocked, "\(host) resolves only to addresses uptick may not reach (\(kinds.joined(separator: ", ")))")
    }

    /// Connects to the allowed addresses of `host` in turn until one accepts, all before `deadline`.
    ///
    /// The channel comes back with reading paused: the caller installs its protocol handlers, then
    /// sets `autoRead`, so nothing a fast server sends is lost.
    public func connect(host: String, port: Int, deadline: NIODeadline) async throws(NetFailure) -> Connection {
        var (addresses, timings) = try await allowedAddresses(host: host, port: port)
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
        let bootstrap = ClientBootstrap(group: group.any())  // the caller's own loop when it runs on one
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
        if let tls = error as? NIOSSLError {
            let text = "\(tls)"
            if text.contains("CERTIFICATE_VERIFY_FAILED") {
                return CheckFailure(.certificate, "certificate not trusted (expired, self-signed, untrusted issuer or not yet valid)")
            }
            return CheckFailure(.tls, "TLS handshake with \(peer) failed: \(text)")
        }
        if let extra = error as? NIOSSLExtraError, extra == .failedToValidateHostname {
            return CheckFailure(.certificate, "certificate is not valid for this host name")
        }
        if let connection = error as? NIOConnectionError, let first = connection.connectionErrors.first {
            return classify(first.error, address: address)
        }
        return CheckFailure(.other, "\(error)")
    }
}

extension SocketAddress {
    /// `1.2.3.4:80` or `[::1]:80`.
    public var display: String {
        guard let ip = ipAddress, let port else { return description }
        return ip.contains(":") ? "[\(ip)]:\(port)" : "\(ip):\(port)"
    }
}
