import Foundation
import NIOSSL
import Testing
@testable import UptickAlerts
import UptickCore
import UptickNet
import UptickStore
import UptickTargets
import UptickTestSupport

@Suite("Email over SMTP (aiosmtpd on loopback)", .timeLimit(.minutes(1)))
struct SMTPTests {
    let authority: TestCertificateAuthority
    let network: Network

    init() throws {
        authority = try TestCertificateAuthority()
        network = Network(policy: .testLoopback, resolver: HermeticResolver(), tlsTrustRoots: .certificates([authority.certificate]))
    }

    func channel(port: Int, security: String, password: String = "s3cret", extra: String = "") -> ChannelRecord {
        ChannelRecord(id: 1, name: "mail", type: "email", config: """
            {"host":"127.0.0.1","port":\(port),"security":"\(security)","username":"uptick","password":"\(password)",\
            "from":"uptick@example.com","to":["ops@example.com","oncall@example.com"]\(extra)}
            """, isDefault: true, enabled: true)
    }

    func send(_ payload: AlertPayload = sampleDown(), to channel: ChannelRecord) async -> Notifier.Result {
        await Notifier(network: network, timeout: .seconds(10)).send(payload.json, to: channel)
    }

    @Test("STARTTLS or TLS, then AUTH PLAIN or LOGIN, then one message to every recipient with text and HTML parts",
          arguments: ["starttls", "starttls-login", "tls"])
    func delivers(mode: String) async throws {
        let server = try await SMTPServer.start(mode: mode, identity: try authority.issue())
        defer { server.stop() }
        let result = await send(to: channel(port: server.port, security: mode == "tls" ? "tls" : "starttls"))
        #expect(result == .delivered(note: nil), "\(result)")
        guard result == .delivered(note: nil) else { return }
        let message = try #require(await server.nextMessage())
        #expect(message.tls && message.authenticated)
        #expect(message.mailFrom == "uptick@example.com" && message.recipients == ["ops@example.com", "oncall@example.com"])
        #expect(message.data.contains("Subject: [uptick] API is DOWN"))
        #expect(message.data.contains("Message-ID: <evt_7_1700000000000_down@uptick>"))
        #expect(message.data.contains("text/plain") && message.data.contains("text/html"))
        // The plain-text part, base64 between its headers and the next boundary, says what happened.
        let part = try #require(message.data.components(separatedBy: "Content-Type: text/plain; charset=utf-8").last)
        let encoded = part.components(separatedBy: "\r\n\r\n").dropFirst().first?.components(separatedBy: "--uptick-").first ?? ""
        let text = Data(base64Encoded: encoded.replacingOccurrences(of: "\r\n", with: "")).map { String(decoding: $0, as: UTF8.self) }
        #expect(text?.hasPrefix("API is DOWN\n") == true, "\(encoded)")
    }

    @Test("a wrong password is a permanent failure")
    func wrongPassword() async throws {
        let server = try await SMTPServer.start(mode: "starttls", identity: try authority.issue())
        defer { server.stop() }
        guard case .failed(let failure) = await send(to: channel(port: server.port, security: "starttls", password: "nope")) else {
            Issue.record("a wrong password was accepted")
            return
        }
        #expect(failure.permanent && failure.message.contains("535"), "\(failure)")
    }

    @Test("a server that offers no STARTTLS is refused before any credential is sent")
    func noStartTLS() async throws {
        let server = try await SMTPServer.start(mode: "plain", identity: try authority.issue())
        defer { server.stop() }
        guard case .failed(let failure) = await send(to: channel(port: server.port, security: "starttls")) else {
            Issue.record("sent without STARTTLS")
            return
        }
        #expect(failure.permanent && failure.message.contains("does not offer STARTTLS"))
    }

    @Test("an untrusted certificate fails the attempt; tls_verify false accepts it")
    func untrusted() async throws {
        let server = try await SMTPServer.start(mode: "tls", identity: try authority.issue(selfSigned: true))
        defer { server.stop() }
        guard case .failed(let failure) = await send(to: channel(port: server.port, security: "tls")) else {
            Issue.record("an untrusted certificate was accepted")
            return
        }
        #expect(failure.message.contains("certificate"), "\(failure)")
        #expect(await send(to: channel(port: server.port, security: "tls", extra: #","tls_verify":false"#)) == .delivered(note: nil))
    }

    @Test("an SMTP server at a denied address is never contacted")
    func denied() async throws {
        let mail = ChannelRecord(id: 1, name: "mail", type: "email", config: """
            {"host":"10.0.0.25","port":25,"security":"starttls","from":"a@example.com","to":["b@example.com"]}
            """, isDefault: true, enabled: true)
        guard case .failed(let failure) = await send(to: mail) else {
            Issue.record("a denied address was contacted")
            return
        }
        #expect(failure.permanent && failure.message.hasPrefix("blocked: "))
    }
}
