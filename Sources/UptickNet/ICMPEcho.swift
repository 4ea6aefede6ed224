import Foundation
import NIOCore
import NIOPosix
import UptickCore

/// ICMP echo ("ping") to one address: `count` requests `interval` apart, replies collected until all are
/// back or the deadline passes.
///
/// It opens an unprivileged datagram ICMP socket where the kernel allows it (`net.ipv4.ping_group_range`
/// includes the process's group), else a raw socket (needs CAP_NET_RAW), else reports `unsupported`
/// (AWS Lambda, most containers without the capability).
public struct ICMPEcho: Sendable {
    /// The two kinds of ICMP socket, in the order they are tried.
    public enum SocketKind: Sendable, CaseIterable {
        case datagram
        case raw
    }

    /// Opens an ICMP socket for `family` (`AF_INET`/`AF_INET6`) of `kind`; returns the descriptor or `-errno`.
    public typealias Opener = @Sendable (_ family: Int32, _ kind: SocketKind) -> Int32

    /// The real `socket(2)`.
    public static let systemOpener: Opener = { family, kind in
        let type = Int32(kind == .raw ? SOCK_RAW.rawValue : SOCK_DGRAM.rawValue) | Int32(SOCK_NONBLOCK.rawValue) | Int32(SOCK_CLOEXEC.rawValue)
        let proto = family == AF_INET6 ? Int32(IPPROTO_ICMPV6) : Int32(IPPROTO_ICMP)
        let descriptor = socket(family, type, proto)
        return descriptor >= 0 ? descriptor : -errno
    }

    /// What came back.
    public struct Statistics: Sendable, Hashable, Codable {
        public var address: String
        public var sent: Int
        public var received: Int
        /// Round-trip times of the replies, in microseconds, in sequence order.
        public var roundTrips: [Int64]
        /// Why requests could not be sent, if any could not (they count as lost).
        public var sendErrors: [String]

        public var lossPercent: Double { sent == 0 ? 100 : Double(sent - received) * 100 / Double(sent) }
    }

    let group: any EventLoopGroup
    let opener: Opener

    public init(network: Network, opener: @escaping Opener = ICMPEcho.systemOpener) {
        self.group = network.group
        self.opener = opener
    }

    /// Pings `address` (already judged by the address policy).
    public func ping(_ address: SocketAddress, count: Int, interval: TimeAmount, deadline: NIODeadline) async throws(CheckFailure) -> Statistics {
        guard let family = address.protocol == .inet6 ? AF_INET6 : (address.protocol == .inet ? AF_INET : nil) else {
            throw CheckFailure(.invalidTarget, "not an IP address: \(address)")
        }
        var kind = SocketKind.datagram
        var descriptor: Int32 = -EPERM
        for candidate in SocketKind.allCases {
            descriptor = opener(family, candidate)
            kind = candidate
            if descriptor >= 0 { break }
        }
        guard descriptor >= 0 else {
            throw CheckFailure(.unsupported, "ICMP is not permitted here (\(String(cString: strerror(-descriptor)))): no CAP_NET_RAW and "
                + "net.ipv4.ping_group_range excludes this group; use a port check instead")
        }
        let identifier = UInt16.random(in: 1...UInt16.max)
        let replies = group.next().makePromise(of: EchoOutcome.self)
        let collector = EchoCollector(
            count: count, interval: interval, identifier: identifier, target: address, family: family,
            kind: kind, replies: replies
        )
        let channel: any Channel
        do {
            channel = try await DatagramBootstrap(group: replies.futureResult.eventLoop)
                .channelInitializer { channel in
                    channel.eventLoop.makeCompletedFuture { try channel.pipeline.syncOperations.addHandler(collector) }
                }
                .withBoundSocket(descriptor).get()
        } catch {
            close(descriptor)
            throw CheckFailure(.other, "cannot use the ICMP socket: \(error)")
        }
        let timeout = channel.eventLoop.scheduleTask(deadline: deadline) { collector.finish() }
        channel.eventLoop.execute { collector.start(channel) }
        defer {
            timeout.cancel()
            channel.close(promise: nil)
        }
        let outcome = (try? await replies.futureResult.get()) ?? EchoOutcome()
        return Statistics(address: address.ipAddress ?? "\(address)", sent: count, received: outcome.roundTrips.count,
                          roundTrips: outcome.roundTrips.sorted { $0.key < $1.key }.map(\.value), sendErrors: outcome.sendErrors)
    }
}

/// Replies by sequence number, and send failures.
private struct EchoOutcome: Sendable {
    var roundTrips: [UInt16: Int64] = [:]
    var sendErrors: [String] = []
}

/// Sends the echo requests and matches the replies, on the channel's event loop.
private final class EchoCollector: ChannelInboundHandler, @unchecked Sendable {
    typealias InboundIn = AddressedEnvelope<ByteBuffer>

    let count: Int
    let interval: TimeAmount
    let identifier: UInt16
    let target: SocketAddress
    let family: Int32
    let kind: ICMPEcho.SocketKind
    let replies: EventLoopPromise<EchoOutcome>
    // Touched only on the event loop.
    private var sentAt: [UInt16: NIODeadline] = [:]
    private var outcome = EchoOutcome()

    init(count: Int, interval: TimeAmount, identifier: UInt16, target: SocketAddress, family: Int32,
         kind: ICMPEcho.SocketKind, replies: EventLoopPromise<EchoOutcome>) {
        self.count = count
        self.interval = interval
        self.identifier = identifier
        self.target = target
        self.family = family
        self.kind = kind
        self.replies = replies
    }

    func start(_ channel: any Channel) {
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

    func finish() {
        replies.succeed(outcome)
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let envelope = unwrapInboundIn(data)
        guard envelope.remoteAddress.ipAddress == target.ipAddress, let sequence = reply(envelope.data),
              let sent = sentAt[sequence], outcome.roundTrips[sequence] == nil else { return }
        outcome.roundTrips[sequence] = (NIODeadline.now() - sent).nanoseconds / 1000
        if outcome.roundTrips.count == count { finish() }
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        // An ICMP error for one request (unreachable, for example) is a lost packet, not the end.
    }

    /// The sequence number of an echo reply meant for this check, or `nil`.
    private func reply(_ buffer: ByteBuffer) -> UInt16? {
        var bytes = Array(buffer.readableBytesView)
        // A raw IPv4 socket delivers the IP header too; datagram sockets and IPv6 do not.
        if kind == .raw, family == AF_INET, let first = bytes.first, first >> 4 == 4 {
            bytes.removeFirst(Int(first & 0x0F) * 4)
        }
        guard bytes.count >= 8, bytes[0] == (family == AF_INET6 ? 129 : 0) else { return nil }
        // Datagram sockets get the kernel's own identifier and only their own replies; raw sockets see all.
        if kind == .raw, UInt16(bytes[4]) << 8 | UInt16(bytes[5]) != identifier { return nil }
        return UInt16(bytes[6]) << 8 | UInt16(bytes[7])
    }

    /// An echo request: type, code, checksum, identifier, sequence, 16 bytes of payload. The kernel fills
    /// in the ICMPv6 checksum (it covers a pseudo-header); the ICMPv4 one is ours to compute.
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
