import Foundation
package import NIOCore
import NIOPosix
package import NIOSSL
package import UptickCore

/// The one door through which uptick reaches user-supplied addresses: the SSRF guard.
///
/// A name is resolved once; every address is judged by the ``AddressPolicy``; only an allowed address is
/// connected to, and the connection is made to that very address, so a DNS answer that changes between
/// check and use (rebinding) cannot get through. Connections are fresh per check so connect time is
/// measured every time, and every operation, the name lookup included, is bounded by a deadline. No proxy
/// is ever used.
package struct Network: Sendable {
    let group: any EventLoopGroup
    /// What may be connected to.
    package let policy: AddressPolicy
    let resolver: any NameResolver
    let tls: TLSContexts
    /// The runner's own addresses, denied with the policy.
    let local: LocalAddresses
    /// Whether failure messages say why a name gave no usable address (no such name, no records, only
    /// denied addresses). Off by default: customers see these messages, and the difference tells whether
    /// an internal name exists. An operator may turn it on for a trusted fleet.
    package let revealsDNSDetail: Bool
    /// Whether a monitor may set its own `Host` header (to reach another virtual host on the same address).
    package let allowsHostHeader: Bool

    /// Uses NIO's shared event loops (one per core), uptick's own resolver on the system's DNS
    /// configuration, the system's interface addresses, and the system's trust roots for TLS (tests pass
    /// their own CA).
    /// What uptick's own resolver has done so far (`nil` with another resolver, as in some tests), for `/metrics`.
    package var resolverStatistics: DNSResolver.Statistics? { (resolver as? DNSResolver)?.statistics }

    package init(policy: AddressPolicy = .publicOnly, resolver: (any NameResolver)? = nil, local: LocalAddresses = LocalAddresses(),
                tlsTrustRoots: NIOSSLTrustRoots = .default, revealsDNSDetail: Bool = false, allowsHostHeader: Bool = false,
                group: any EventLoopGroup = MultiThreadedEventLoopGroup.singleton) {
        self.group = group
        self.policy = policy
        self.resolver = resolver ?? DNSResolver(configuration: .system(), group: group)
        self.local = local
        self.tls = TLSContexts(trustRoots: tlsTrustRoots)
        self.revealsDNSDetail = revealsDNSDetail
        self.allowsHostHeader = allowsHostHeader
    }

    /// The addresses of `host` in `families`: an address spelled out (in any numeric form) as is, a name
    /// through the resolver. Not yet judged; empty when the name has none.
    package func lookup(_ host: String, families: AddressFamilies = .both, deadline: NIODeadline) async throws(CheckFailure) -> [IPAddress] {
        if let literal = IPAddress(numericHost: host) { return families.includes(literal) ? [literal] : [] }
        return try await resolver.lookup(host, families: families, deadline: deadline)
    }

    /// A connection to a named host, and how long getting it took.
    package struct Connection: Sendable {
        package let channel: any Channel
        package let address: SocketAddress
        /// DNS and connect phases.
        package let timings: PhaseTimings
    }

    /// The addresses of `host` the policy allows, in the order to try them, and the DNS time. Fails with
    /// `blocked` when the host is an address the policy denies, and like an unknown name (`dns`) when it is
    /// a name with no allowed address (see ``revealsDNSDetail``).
    package func allowedAddresses(host: String, port: Int, deadline: NIODeadline) async throws(NetFailure) -> (addresses: [SocketAddress], timings: PhaseTimings) {
        var timings = PhaseTimings()
        let dnsStart = NIODeadline.now()
        let addresses: [IPAddress]
        do {
            addresses = try await lookup(host, deadline: deadline)
        } catch {
            timings.dnsMicroseconds = (NIODeadline.now() - dnsStart).nanoseconds / 1000
            throw NetFailure(error, timings: timings)
        }
        timings.dnsMicroseconds = (NIODeadline.now() - dnsStart).nanoseconds / 1000
        let (allowed, denied) = judge(addresses, port: port)
        guard allowed.isEmpty else { return (allowed.map { $0.socketAddress(port: port) }, timings) }
        throw NetFailure(unusable(host: host, denied: denied), timings: timings)
    }

    /// Splits addresses into those the policy allows and the reasons for those it denies.
    package func judge(_ addresses: [IPAddress], port: Int) -> (allowed: [IPAddress], denied: [(address: IPAddress, reason: String)]) {
        var allowed: [IPAddress] = []
        var denied: [(IPAddress, String)] = []
        let local = local.current
        for address in addresses {
            if case .denied(let reason) = policy.verdict(address, port: port, local: local) {
                denied.append((address, reason))
            } else {
                allowed.append(address)
            }
        }
        return (allowed, denied)
    }

    /// The failure for a host that gave no allowed address. For an address the user typed, `blocked`
    /// with the address and its range. For a name, the same `dns` failure whether it does not exist, has
    /// no addresses of the kind asked, or has only denied ones: what an internal name resolves to, and
    /// whether it exists, are our network's secrets, and messages are shown to the customer who chose the
    /// name. ``revealsDNSDetail`` restores the difference (the kinds of range, never the addresses).
    package func unusable(host: String, denied: [(address: IPAddress, reason: String)]) -> CheckFailure {
        if IPAddress(numericHost: host) != nil, let first = denied.first {
            return CheckFailure(.blocked, "\(first.address) is \(first.reason)")
        }
        guard revealsDNSDetail else { return CheckFailure(.dns, "cannot resolve \(host)") }
        guard !denied.isEmpty else { return CheckFailure(.dns, "cannot resolve \(host): no such name, or no addresses of the kind asked") }
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
    package func connect(host: String, port: Int, deadline: NIODeadline) async throws(NetFailure) -> Connection {
        var (addresses, timings) = try await allowedAddresses(host: host, port: port, deadline: deadline)
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
    package var display: String {
        guard let ip = ipAddress, let port else { return description }
        return ip.contains(":") ? "[\(ip)]:\(port)" : "\(ip):\(port)"
    }
}
