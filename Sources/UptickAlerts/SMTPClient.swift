import Foundation
import NIOCore
import Synchronization
import UptickCore
import UptickNet

/// A minimal SMTP client (RFC 5321) over the guarded network: EHLO, STARTTLS or TLS from the first
/// byte, AUTH PLAIN or LOGIN, one message to its recipients, QUIT. Every read and write is bounded by
/// one deadline; replies are capped in size.
struct SMTPClient {
    let network: Network

    /// The longest reply accepted, in bytes and in lines (a hostile server cannot make us buffer or parse more).
    static let maxReplyBytes = 16 * 1024
    static let maxReplyLines = 100

    struct Reply {
        var code: Int
        var lines: [String]
        var text: String { lines.joined(separator: " ") }
    }

    /// Sends `message` (a complete RFC 5322 message with CRLF line ends).
    func send(_ message: String, with email: ChannelConfiguration.Email, deadline: NIODeadline) async throws(DeliveryFailure) {
        let connection: Network.Connection
        do {
            connection = try await network.connect(host: email.host, port: email.port, deadline: deadline)
        } catch {
            throw DeliveryFailure(net: error.failure)
        }
        let channel = connection.channel
        let timeout = channel.eventLoop.scheduleTask(deadline: deadline) { channel.close(promise: nil) }
        defer {
            timeout.cancel()
            channel.close(promise: nil)
        }
        do {
            if email.security == .tls {
                try await network.startTLS(on: channel, serverName: email.host, verify: email.tlsVerify)
            }
            // The network hands the channel over with reading paused; the async channel reads with back-pressure.
            // The counter, nearest the socket, sees every byte that arrives before TLS is started.
            let received = PlaintextCounter()
            let wrapped = try await channel.eventLoop.submit {
                try channel.pipeline.syncOperations.addHandler(received, position: .first)
                let wrapped = try NIOAsyncChannel<ByteBuffer, ByteBuffer>(wrappingChannelSynchronously: channel)
                try channel.syncOptions?.setOption(.autoRead, value: true)
                return wrapped
            }.get()
            try await wrapped.executeThenClose { inbound, outbound in
                var session = Session(inbound: inbound.makeAsyncIterator(), outbound: outbound)
                try await session.expect(220, after: nil)
                var extensions = try await session.command("EHLO localhost", expect: 250).lines
                if email.security == .starttls {
                    guard extensions.contains(where: { $0.uppercased().hasPrefix("STARTTLS") }) else {
                        throw DeliveryFailure("the SMTP server does not offer STARTTLS", permanent: true)
                    }
                    try await session.command("STARTTLS", expect: 220)
                    try await network.startTLS(on: channel, serverName: email.host, verify: email.tlsVerify) { received.freeze() }
                    // Bytes after the 220, sent before TLS, would be read as if TLS had carried them (response
                    // injection, as in CVE-2011-0411): the session ends instead.
                    guard received.frozenCount == session.consumed else {
                        throw DeliveryFailure("the SMTP server sent data after its STARTTLS answer, before TLS; refusing to go on", permanent: false)
                    }
                    extensions = try await session.command("EHLO localhost", expect: 250).lines
                }
                if let username = email.username, let password = email.password {
                    let mechanisms = extensions.first { $0.uppercased().hasPrefix("AUTH") }?.uppercased().split(separator: " ").map(String.init) ?? []
                    if mechanisms.contains("PLAIN") || !mechanisms.contains("LOGIN") {
                        let token = Data(Array("\0\(username)\0\(password)".utf8)).base64EncodedString()
                        try await session.command("AUTH PLAIN \(token)", expect: 235, redacted: "AUTH PLAIN ***")
                    } else {
                        try await session.command("AUTH LOGIN", expect: 334)
                        try await session.command(Data(username.utf8).base64EncodedString(), expect: 334, redacted: "(user name)")
                        try await session.command(Data(password.utf8).base64EncodedString(), expect: 235, redacted: "(password)")
                    }
                }
                try await session.command("MAIL FROM:<\(email.from)>", expect: 250)
                for recipient in email.to {
                    try await session.command("RCPT TO:<\(recipient)>", expect: 250, alternatively: 251)
                }
                try await session.command("DATA", expect: 354)
                try await session.write(Self.dotStuffed(message) + ".\r\n")
                try await session.expect(250, after: "the message")
                _ = try? await session.command("QUIT", expect: 221)
            }
        } catch let failure as DeliveryFailure {
            throw failure
        } catch let failure as NetFailure {
            throw DeliveryFailure(net: failure.failure)
        } catch {
            if NIODeadline.now() >= deadline { throw DeliveryFailure("SMTP session with \(email.host) timed out", permanent: false) }
            throw DeliveryFailure(net: Network.failure(error, on: channel))
        }
    }

    /// Lines starting with a dot get a second one (RFC 5321 §4.5.2); ends with CRLF.
    static func dotStuffed(_ message: String) -> String {
        var lines = message.components(separatedBy: "\r\n")
        if lines.last == "" { lines.removeLast() }
        return lines.map { $0.hasPrefix(".") ? "." + $0 : $0 }.joined(separator: "\r\n") + "\r\n"
    }

    struct Session {
        var inbound: NIOAsyncChannelInboundStream<ByteBuffer>.AsyncIterator
        let outbound: NIOAsyncChannelOutboundWriter<ByteBuffer>
        var buffer: [UInt8] = []
        /// Where the unread part of `buffer` starts: lines are taken by moving it, not by shifting the buffer.
        var readIndex = 0
        /// Bytes taken from the connection and read, in all.
        private(set) var consumed = 0

        mutating func write(_ text: String) async throws {
            try await outbound.write(ByteBuffer(string: text))
        }

        /// Sends `line` and checks the reply; `redacted` is what an error message shows instead of the line.
        @discardableResult
        mutating func command(_ line: String, expect code: Int, alternatively: Int? = nil, redacted: String? = nil) async throws -> Reply {
            try await write(line + "\r\n")
            return try await expect(code, alternatively: alternatively, after: redacted ?? line)
        }

        /// Reads one reply and fails unless its code is `code` (or `alternatively`). 4xx is temporary, 5xx permanent.
        @discardableResult
        mutating func expect(_ code: Int, alternatively: Int? = nil, after command: String?) async throws -> Reply {
            let reply = try await readReply()
            guard reply.code == code || reply.code == alternatively else {
                let what = command.map { "after \($0)" } ?? "on connect"
                throw DeliveryFailure("SMTP server said \(reply.code) \(AlertText.clip(reply.text, 200)) \(what)", permanent: (500..<600).contains(reply.code))
            }
            return reply
        }

        /// One reply, of at most ``SMTPClient/maxReplyLines`` lines and ``SMTPClient/maxReplyBytes`` bytes in all.
        mutating func readReply() async throws -> Reply {
            var lines: [String] = []
            let start = consumed
            while true {
                let line = try await readLine(limit: SMTPClient.maxReplyBytes - (consumed - start))
                guard line.count >= 3, let code = Int(line.prefix(3)) else {
                    throw DeliveryFailure("SMTP server sent a malformed reply", permanent: false)
                }
                lines.append(String(line.dropFirst(4)))
                if line.count == 3 || line[line.index(line.startIndex, offsetBy: 3)] == " " {
                    return Reply(code: code, lines: lines)
                }
                guard lines.count < SMTPClient.maxReplyLines else {
                    throw DeliveryFailure("SMTP reply of more than \(SMTPClient.maxReplyLines) lines", permanent: false)
                }
            }
        }

        /// The next line, without its CRLF; fails past `limit` bytes.
        mutating func readLine(limit: Int) async throws -> String {
            var searched = readIndex
            while true {
                if let end = buffer[searched...].firstIndex(of: UInt8(ascii: "\n")) {
                    var line = buffer[readIndex..<end]
                    if line.last == UInt8(ascii: "\r") { line = line.dropLast() }
                    consumed += end + 1 - readIndex
                    readIndex = end + 1
                    return String(decoding: line, as: UTF8.self)
                }
                guard buffer.count - readIndex < limit else {
                    throw DeliveryFailure("SMTP reply longer than \(SMTPClient.maxReplyBytes) bytes", permanent: false)
                }
                guard let chunk = try await inbound.next() else {
                    throw DeliveryFailure("SMTP server closed the connection", permanent: false)
                }
                searched = buffer.count
                if readIndex > 0 {
                    // Drop what has been read before growing: the buffer never holds more than one reply.
                    buffer.removeFirst(readIndex)
                    searched -= readIndex
                    readIndex = 0
                }
                buffer += chunk.readableBytesView
            }
        }
    }
}

/// Counts the bytes that reach the channel until it is frozen (when TLS goes in, on the event loop).
private final class PlaintextCounter: ChannelInboundHandler, Sendable {
    typealias InboundIn = ByteBuffer
    typealias InboundOut = ByteBuffer

    private let count = Atomic<Int>(0)
    private let frozen = Atomic<Int>(-1)

    var frozenCount: Int { frozen.load(ordering: .acquiring) }

    func freeze() {
        frozen.store(count.load(ordering: .relaxed), ordering: .releasing)
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        count.add(unwrapInboundIn(data).readableBytes, ordering: .relaxed)
        context.fireChannelRead(data)
    }
}
