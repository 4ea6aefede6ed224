import Foundation
import UptickTargets
import UptickTestSupport

/// aiosmtpd (PyPI), a real SMTP server, run by Tests/Helpers/smtp_server.py on 127.0.0.1 with a
/// certificate from the test CA. `.ci/run` installs it; where the `python3` on PATH lacks it, the SMTP
/// tests fail with how to install it, and the other tests run as usual.
final class SMTPServer: Sendable {
    /// One message as the server received it.
    struct Message: Sendable {
        var mailFrom: String
        var recipients: [String]
        var tls: Bool
        var authenticated: Bool
        var data: String
    }

    private let helper: HelperProcess
    private let lines: AsyncStream<String>

    private init(helper: HelperProcess, lines: AsyncStream<String>) {
        self.helper = helper
        self.lines = lines
    }

    var port: Int { helper.port }

    /// Starts the server in `mode` (`starttls`, `starttls-login`, `tls` or `plain`) presenting `identity`.
    static func start(mode: String, identity: TestIdentity) async throws -> SMTPServer {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("uptick-smtp-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        let cert = directory.appendingPathComponent("cert.pem"), key = directory.appendingPathComponent("key.pem")
        try identity.certificatePEM.write(to: cert, atomically: true, encoding: .utf8)
        try identity.privateKeyPEM.write(to: key, atomically: true, encoding: .utf8)
        let helper = try await HelperProcess.start("smtp_server.py", [mode, cert.path, key.path], requires: ["aiosmtpd"])
        // One JSON line per message received.
        return SMTPServer(helper: helper, lines: helper.lines())
    }

    /// The next message received, or `nil` once the server has stopped.
    func nextMessage() async -> Message? {
        var iterator = lines.makeAsyncIterator()
        while let line = await iterator.next() {
            guard let object = try? JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any] else { continue }
            return Message(
                mailFrom: object["mail_from"] as? String ?? "", recipients: object["rcpt_tos"] as? [String] ?? [],
                tls: object["tls"] as? Bool ?? false, authenticated: object["authenticated"] as? Bool ?? false,
                data: object["data"] as? String ?? "")
        }
        return nil
    }

    func stop() {
        helper.stop()
    }
}
