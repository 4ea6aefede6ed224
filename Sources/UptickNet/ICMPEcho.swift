import Foundation
import NIOConcurrencyHelpers
package import NIOCore
import NIOPosix
package import UptickCore

/// ICMP echo ("ping") to one address: `count` requests `interval` apart, replies collected until all are
/// back or the deadline passes.
///
/// It opens an unprivileged datagram ICMP socket where the kernel allows it (`net.ipv4.ping_group_range`
/// includes the process's group), else a raw socket (needs CAP_NET_RAW), else reports `unsupported`
/// (AWS Lambda, most containers without the capability).
package struct ICMPEcho: Sendable {
    /// The two kinds of ICMP socket, in the order they are tried.
    package enum SocketKind: Sendable, CaseIterable {
        case datagram
        case raw
    }

    /// Opens an ICMP socket for `family` (`AF_INET`/`AF_INET6`) of `kind`; returns the descriptor or `-errno`.
    package typealias Opener = @Sendable (_ family: Int32, _ kind: SocketKind) -> Int32

    /// The real `socket(2)`.
    package static let systemOpener: Opener = { family, kind in
        let type = Int32(kind == .raw ? SOCK_RAW.rawValue : SOCK_DGRAM.rawValue) | Int32(SOCK_NONBLOCK.rawValue) | Int32(SOCK_CLOEXEC.rawValue)
        let proto = family == AF_INET6 ? Int32(IPPROTO_ICMPV6) : Int32(IPPROTO_ICMP)
        let descriptor = socket(family, type, proto)
        return descriptor >= 0 ? descriptor : -errno
    }

    /// What came back (replies received and loss follow from `roundTrips`; see `PingStatistics`).
    package struct Statistics: Sendable, Hashable, Codable {
        package var address: String
        package var sent: Int
        /// Round-trip times of the replies, in microseconds, in sequence order.
        package var roundTrips: [Int64]
        /// Why requests could not be sent, if any could not (they count as lost).
        package var sendErrors: [String]
    }

    let group: any EventLoopGroup
    let opener: Opener
    /// Raw sockets are shared: every raw socket receives every ICMP reply on the host, so one per address
    /// family, with replies routed by identifier, costs O(replies) where a socket per check costs O(replies × checks).
    let shared: SharedRawSockets

    package init(network: Network, opener: @escaping Opener = ICMPEcho.systemOpener) {
        self.group = network.group
        self.opener = opener
        self.shared = SharedRawSockets()
    }

    /// Pings `address` (already judged by the address policy).
    package func ping(_ address: SocketAddress, count: Int, interval: TimeAmount, deadline: NIODeadline) async throws(CheckFailure) -> Statistics {
        guard let family = address.protocol == .inet6 ? AF_INET6 : (address.protocol == .inet ? AF_INET : nil) else {
            throw CheckFailure(.invalidTarget, "not an IP address: \(address)")
        }
        func session(on loop: any EventLoop) -> EchoSession {
            EchoSession(count: count, interval: interval, target: address, family: family, replies: loop.makePromise(of: EchoOutcome.self))
        }
        let datagram = opener(family, .datagram)
        if datagram >= 0 {
            // The kernel gives a datagram socket only its own replies: one socket per check.
            let loop = group.next()
            let channel: any Channel
            do {
                channel = try await DatagramBootstrap(group: loop).withBoundSocket(datagram).get()
            } catch {
                close(datagram)
                throw CheckFailure(.other, "cannot use the ICMP socket: \(error)")
            }
            defer { channel.close(promise: nil) }
            let echo = session(on: channel.eventLoop)
            channel.eventLoop.execute {
                do {
                    try channel.pipeline.syncOperations.addHandler(EchoReceiver(session: echo))
                    echo.start(on: channel, identifier: 0)
                } catch {
                    echo.finish()
                }
            }
            return await finish(echo, deadline: deadline, loop: channel.eventLoop)
        }
        let (channel, router) = try await shared.socket(family: family, opener: opener, group: group)
        let echo = session(on: channel.eventLoop)
        channel.eventLoop.execute { echo.start(on: channel, identifier: router.register(echo)) }
        defer { channel.eventLoop.execute { router.unregister(echo) } }
        return await finish(echo, deadline: deadline, loop: channel.eventLoop)
    }

    private func finish(_ session: EchoSession, deadline: NIODeadline, loop: any EventLoop) async -> Statistics {
        let timeout = loop.scheduleTask(deadline: deadline) { session.finish() }
        defer { timeout.cancel() }
        let outcome = (try? await session.replies.futureResult.get()) ?? EchoOutcome()
        return Statistics(address: session.target.ipAddress ?? "\(session.target)", sent: session.count,
                          roundTrips: outcome.roundTrips.sorted { $0.key < $1.key }.map(\.value), sendErrors: outcome.sendErrors)
    }
}

/// Replies by sequence number, and send failures.
private struct EchoOutcome: Sendable {
    var roundTrips: [UInt16: Int64] = [:]
    var sendErrors: [String] = []
}

/// One check's echo requests and replies. Touched only on the event loop of the socket it uses.
private final class EchoSession: @unchecked Sendable {
    let count: Int
    let interval: TimeAmount
    let target: SocketAddress
    let family: Int32
    let replies: EventLoopPromise<EchoOutcome>
    private(set) var identifier: UInt16 = 0
    private var sentAt: [UInt16: NIODeadline] = [:]
    private var outcome = EchoOutcome()

    init(count: Int, interval: TimeAmount, target: SocketAddress, family: Int32, replies: EventLoopPromise<EchoOutcome>) {
        self.count = count
        self.interval = interval
        self.target = target
        self.family = family
        self.replies = replies
    }

    /// Sends `count` requests `interval` apart on `channel`; `identifier` is the router's (raw sockets) or 0.
    func start(on channel: any Channel, identifier: UInt16) {
        self.identifier = identifier
        for index in 0..<count {
            channel.eventLoop.scheduleTask(in: interval * Int64(index)) { [self] in
                let sequence = UInt16(index + 1)
                sentAt[sequence] = .now()
                let packet = channel.allocator.buffer(bytes: Self.request(v6: family == AF_INET6, identifier: identifier, sequence: sequence))
                channel.writeAndFlush(AddressedEnvelope(remoteAddress: target, data: packet)).whenFailure { [self] error in
                    outcome.sendErrors.append("request \(sequence): \(error)")
                }
            }
        }
    }

    func received(sequence: UInt16, from address: SocketAddress) {
        guard address.ipAddress == target.ipAddress, let sent = sentAt[sequence], outcome.roundTrips[sequence] == nil else { return }
        outcome.roundTrips[sequence] = (NIODeadline.now() - sent).nanoseconds / 1000
        if outcome.roundTrips.count == count { finish() }
    }

    func finish() {
        replies.succeed(outcome)
    }

    /// An echo request: type, code, checksum, identifier, sequence, 16 bytes of payload. The kernel fills
    /// in the ICMPv6 checksum (it covers a pseudo-header) and, for datagram sockets, the identifier.
    static func request(v6: Bool, identifier: UInt16, sequence: UInt16) -> [UInt8] {
        var packet: [UInt8] = [v6 ? 128 : 8, 0, 0, 0, UInt8(identifier >> 8), UInt8(identifier & 0xFF), UInt8(sequence >> 8), UInt8(sequence & 0xFF)]
        packet += Array("uptick-ping-0123".utf8)
        if !v6 {
            var sum: UInt32 = 0
            for index in stride(from: 0, to: packet.count, by: 2) {
                sum += UInt32(packet[index]) << 8 | UInt32(index + 1 < packet.count ? packet[index + 1] : 0)
            }
            while sum >> 16 != 0 { sum = (sum & 0xFFFF) + (sum >> 16) }
            let checksum = ~UInt16(truncatingIfNeeded: sum)
            packet[2] = UInt8(checksum >> 8)
            packet[3] = UInt8(checksum & 0xFF)
        }
        return packet
    }
}

/// An echo reply as read from a socket: identifier and sequence, or `nil` if it is not an echo reply.
private func parseReply(_ buffer: ByteBuffer, family: Int32, kind: ICMPEcho.SocketKind) -> (identifier: UInt16, sequence: UInt16)? {
    var bytes = Array(buffer.readableBytesView)
    // A raw IPv4 socket delivers the IP header too; datagram sockets and IPv6 do not.
    if kind == .raw, family == AF_INET, let first = bytes.first, first >> 4 == 4 {
        bytes.removeFirst(Int(first & 0x0F) * 4)
    }
    guard bytes.count >= 8, bytes[0] == (family == AF_INET6 ? 129 : 0) else { return nil }
    return (UInt16(bytes[4]) << 8 | UInt16(bytes[5]), UInt16(bytes[6]) << 8 | UInt16(bytes[7]))
}

/// A datagram socket's handler: every echo reply on it belongs to its one session.
private final class EchoReceiver: ChannelInboundHandler {
    typealias InboundIn = AddressedEnvelope<ByteBuffer>

    let session: EchoSession

    init(session: EchoSession) {
        self.session = session
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let envelope = unwrapInboundIn(data)
        guard let reply = parseReply(envelope.data, family: session.family, kind: .datagram) else { return }
        session.received(sequence: reply.sequence, from: envelope.remoteAddress)
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        // An ICMP error for one request (unreachable, for example) is a lost packet, not the end.
    }
}

/// The shared raw socket's handler: routes each echo reply to the session with its identifier.
final class RawRouter: ChannelInboundHandler, @unchecked Sendable {
    typealias InboundIn = AddressedEnvelope<ByteBuffer>

    let family: Int32
    // Touched only on the socket's event loop.
    private var sessions: [UInt16: EchoSession] = [:]

    init(family: Int32) {
        self.family = family
    }

    fileprivate func register(_ session: EchoSession) -> UInt16 {
        var identifier = UInt16.random(in: 1...UInt16.max)
        while sessions[identifier] != nil { identifier = identifier &+ 1 == 0 ? 1 : identifier &+ 1 }
        sessions[identifier] = session
        return identifier
    }

    fileprivate func unregister(_ session: EchoSession) {
        if sessions[session.identifier] === session { sessions[session.identifier] = nil }
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let envelope = unwrapInboundIn(data)
        guard let reply = parseReply(envelope.data, family: family, kind: .raw) else { return }
        sessions[reply.identifier]?.received(sequence: reply.sequence, from: envelope.remoteAddress)
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {}
}

/// The raw ICMP sockets of one `ICMPEcho`, one per address family, opened on first use and closed with it.
final class SharedRawSockets: Sendable {
    private let sockets = NIOLockedValueBox<[Int32: EventLoopFuture<(any Channel, RawRouter)>]>([:])

    func socket(family: Int32, opener: ICMPEcho.Opener, group: any EventLoopGroup) async throws(CheckFailure) -> (any Channel, RawRouter) {
        let future: EventLoopFuture<(any Channel, RawRouter)> = sockets.withLockedValue { sockets in
            if let existing = sockets[family] { return existing }
            let loop = group.next()
            let descriptor = opener(family, .raw)
            guard descriptor >= 0 else {
                let failure = CheckFailure(.unsupported, "ICMP is not permitted here (\(String(cString: strerror(-descriptor)))): no CAP_NET_RAW and "
                    + "net.ipv4.ping_group_range excludes this group; use a port check instead")
                return loop.makeFailedFuture(failure)  // not remembered: permissions may change
            }
            Self.tune(descriptor, family: family)
            let router = RawRouter(family: family)
            let made = DatagramBootstrap(group: loop)
                .channelInitializer { channel in
                    channel.eventLoop.makeCompletedFuture { try channel.pipeline.syncOperations.addHandler(router) }
                }
                .withBoundSocket(descriptor)
                .map { ($0, router) }
            made.whenFailure { _ in close(descriptor) }
            sockets[family] = made
            return made
        }
        do {
            return try await future.get()
        } catch let failure as CheckFailure {
            throw failure
        } catch {
            sockets.withLockedValue { $0[family] = nil }
            throw CheckFailure(.other, "cannot use the ICMP socket: \(error)")
        }
    }

    /// The shared raw socket sees every ICMP packet of the host, our own outgoing requests included: let
    /// the kernel pass only echo replies, and give it room for a burst of them (hundreds of checks at once).
    private static func tune(_ descriptor: Int32, family: Int32) {
        if family == AF_INET {
            var filter: UInt32 = ~UInt32(1 << 0)  // ICMP_FILTER: a set bit blocks that type; pass type 0, echo reply
            _ = setsockopt(descriptor, 255 /* SOL_RAW */, 1 /* ICMP_FILTER */, &filter, socklen_t(MemoryLayout<UInt32>.size))
        } else {
            var filter = [UInt32](repeating: ~0, count: 8)  // ICMP6_FILTER: block all, then pass 129, echo reply
            filter[129 >> 5] &= ~(UInt32(1) << (129 & 31))
            _ = setsockopt(descriptor, Int32(IPPROTO_ICMPV6), 1 /* ICMP6_FILTER */, &filter, socklen_t(MemoryLayout<UInt32>.size * 8))
        }
        var size: Int32 = 4 << 20
        if setsockopt(descriptor, SOL_SOCKET, SO_RCVBUFFORCE, &size, socklen_t(MemoryLayout<Int32>.size)) != 0 {
            _ = setsockopt(descriptor, SOL_SOCKET, SO_RCVBUF, &size, socklen_t(MemoryLayout<Int32>.size))
        }
    }

    deinit {
        for future in sockets.withLockedValue({ Array($0.values) }) {
            future.whenSuccess { channel, _ in channel.close(promise: nil) }
        }
    }
}
