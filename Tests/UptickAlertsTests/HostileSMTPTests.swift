import Foundation
import NIOCore
import NIOPosix
import Testing
@testable import UptickAlerts
import UptickCore
import UptickNet
import UptickStore
import UptickTargets
import UptickTestSupport

/// An SMTP server that misbehaves: it greets, answers EHLO offering STARTTLS, then does what `onStartTLS` says.
final class HostileSMTP: ChannelInboundHandler {
    typealias InboundIn = ByteBuffer
    typealias OutboundOut = ByteBuffer

    enum Mode {
        /// A greeting of endless continuation lines.
        case endlessGreeting
        /// Answers STARTTLS with 220 and, in the same write, a forged 250 meant to be read as if sent over TLS.
        case injectAfterStartTLS
    }

    let mode: Mode
    var received = ""

    init(_ mode: Mode) {
        self.mode = mode
    }

    func channelActive(context: ChannelHandlerContext) {
        switch mode {
        case .endlessGreeting:
            // 200 000 lines of 10 bytes: 2 MB that a client must not buffer or parse to the end.
            let chunk = String(repeating: "220-hello\r\n", count: 10_000)
            for _ in 0..<20 { context.write(wrapOutboundOut(ByteBuffer(string: chunk)), promise: nil) }
            context.writeAndFlush(wrapOutboundOut(ByteBuffer(string: "220 done\r\n")), promise: nil)
        case .injectAfterStartTLS:
            context.writeAndFlush(wrapOutboundOut(ByteBuffer(string: "220 hostile ESMTP\r\n")), promise: nil)
        }
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        received += String(buffer: unwrapInboundIn(data))
        // "\r\n" is one Character in Swift: search for it whole.
        while let end = received.range(of: "\r\n") {
            let line = received[..<end.lowerBound].uppercased()
            received.removeSubrange(..<end.upperBound)
            let answer: String = if line.hasPrefix("EHLO") { "250-hostile\r\n250-STARTTLS\r\n250 AUTH PLAIN\r\n" }
                else if line == "STARTTLS" { "220 go ahead\r\n250-injected\r\n250 AUTH PLAIN\r\n" }
                else { "250 ok\r\n" }
            context.writeAndFlush(wrapOutboundOut(ByteBuffer(string: answer)), promise: nil)
        }
    }
}

@Suite("Email to a hostile SMTP server (loopback)", .timeLimit(.minutes(1)))
struct HostileSMTPTests {
    func send(to port: Int) async -> Notifier.Result {
        let channel = ChannelRecord(id: 1, name: "mail", type: "email", config: """
            {"host":"127.0.0.1","port":\(port),"security":"starttls","username":"u","password":"p","from":"a@example.com","to":["b@example.com"]}
            """, isDefault: true, enabled: true)
        return await Notifier(network: .testLoopback, timeout: .seconds(10)).send(sampleDown().json, to: channel)
    }

    func server(_ mode: HostileSMTP.Mode) async throws -> LoopbackServer {
        try await LoopbackServer.start(host: "127.0.0.1", port: 0, group: MultiThreadedEventLoopGroup.singleton) { channel in
            channel.eventLoop.makeCompletedFuture { try channel.pipeline.syncOperations.addHandler(HostileSMTP(mode)) }
        }
    }

    @Test("a reply of endless continuation lines is cut at 100 lines")
    func endlessReply() async throws {
        let target = try await server(.endlessGreeting)
        let result = await send(to: target.port)
        #expect(result == .failed(DeliveryFailure("SMTP reply of more than 100 lines", permanent: false)), "\(result)")
        try await target.stop()
    }

    @Test("bytes sent after STARTTLS's 220, before TLS, end the session: nothing is read as if TLS carried it")
    func startTLSInjection() async throws {
        let target = try await server(.injectAfterStartTLS)
        let result = await send(to: target.port)
        guard case .failed(let failure) = result else {
            Issue.record("delivered through an injected reply: \(result)")
            return
        }
        #expect(failure.message.contains("after its STARTTLS answer"), "\(failure.message)")
        try await target.stop()
    }
}
