package import NIOCore
import NIOPosix
import Synchronization

/// A DNS server on loopback for benchmarks (the tests use a real one, dnslib): every A query is answered
/// with 127.0.0.1 after `delay`, with `ttl`; AAAA queries get an empty answer (NODATA); names ending in
/// `silent.test` are never answered. Counts the queries it receives.
package final class DNSTarget: Sendable {
    package let channel: any Channel
    private let counter: Counter

    private init(channel: any Channel, counter: Counter) {
        self.channel = channel
        self.counter = counter
    }

    package var port: Int { channel.localAddress?.port ?? 0 }

    /// Queries received so far.
    package var queries: Int { counter.count.load(ordering: .relaxed) }

    package static func start(host: String = "127.0.0.1", port: Int = 0, delay: TimeAmount, ttl: UInt32,
                             group: any EventLoopGroup = MultiThreadedEventLoopGroup.singleton) async throws -> DNSTarget {
        let counter = Counter()
        let channel = try await DatagramBootstrap(group: group)
            .channelOption(.socketOption(.so_reuseaddr), value: 1)
            .channelOption(.socketOption(.so_rcvbuf), value: 8 << 20)
            .channelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHandler(Responder(delay: delay, ttl: ttl, counter: counter))
                }
            }
            .bind(host: host, port: port).get()
        return DNSTarget(channel: channel, counter: counter)
    }

    package func stop() async throws {
        try await channel.close()
    }

    final class Counter: Sendable {
        let count = Atomic<Int>(0)
    }

    private final class Responder: ChannelInboundHandler {
        typealias InboundIn = AddressedEnvelope<ByteBuffer>
        typealias OutboundOut = AddressedEnvelope<ByteBuffer>

        let delay: TimeAmount
        let ttl: UInt32
        let counter: Counter

        init(delay: TimeAmount, ttl: UInt32, counter: Counter) {
            self.delay = delay
            self.ttl = ttl
            self.counter = counter
        }

        func channelRead(context: ChannelHandlerContext, data: NIOAny) {
            let envelope = unwrapInboundIn(data)
            counter.count.add(1, ordering: .relaxed)
            let query = Array(envelope.data.readableBytesView)
            guard let reply = Self.reply(to: query, ttl: ttl) else { return }
            let out = wrapOutboundOut(AddressedEnvelope(remoteAddress: envelope.remoteAddress, data: ByteBuffer(bytes: reply)))
            let bound = NIOLoopBound(context, eventLoop: context.eventLoop)
            if delay == .zero {
                context.writeAndFlush(out, promise: nil)
            } else {
                context.eventLoop.scheduleTask(in: delay) { bound.value.writeAndFlush(out, promise: nil) }
            }
        }

        /// The answer to an uncompressed one-question query, or `nil` to stay silent.
        static func reply(to query: [UInt8], ttl: UInt32) -> [UInt8]? {
            guard query.count >= 17 else { return nil }
            var index = 12
            var labels: [String] = []
            while index < query.count, query[index] != 0 {
                let length = Int(query[index])
                guard index + 1 + length <= query.count else { return nil }
                labels.append(String(decoding: query[(index + 1)...(index + length)], as: UTF8.self))
                index += 1 + length
            }
            guard index + 5 <= query.count else { return nil }
            let questionEnd = index + 5
            let type = UInt16(query[index + 1]) << 8 | UInt16(query[index + 2])
            if labels.joined(separator: ".").hasSuffix("silent.test") { return nil }
            let answers: UInt8 = type == 1 ? 1 : 0
            var reply = [query[0], query[1], 0x81, 0x80, 0, 1, 0, answers, 0, 0, 0, 0]
            reply += query[12..<questionEnd]
            if type == 1 {
                reply += [0xC0, 12, 0, 1, 0, 1]
                reply += [UInt8(ttl >> 24), UInt8(ttl >> 16 & 0xFF), UInt8(ttl >> 8 & 0xFF), UInt8(ttl & 0xFF)]
                reply += [0, 4, 127, 0, 0, 1]
            }
            return reply
        }
    }
}
