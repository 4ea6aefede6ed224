import Foundation
import UptickTargets
import UptickTestSupport

/// aiosmtpd (PyPI), a real SMTP server, run by Tests/Helpers/smtp_server.py on 127.0.0.1 with a
/// certificate from the test CA. `.ci/run` installs it; on a machine where the `python3` on PATH lacks
/// it, the first test installs it under `.build/test-python` (PyPI).
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
        let helper = try await HelperProcess.start("smtp_server.py", [mode, cert.path, key.path],
                                             environment: pythonPath.map { ["PYTHONPATH": $0] } ?? [:])
        // One JSON line per message received.
        return SMTPServer(helper: helper, lines: helper.lines())
    }

    /// Where aiosmtpd was installed for the tests, or `nil` when python3 already has it.
    static let pythonPath: String? = {
        if run(["python3", "-c", "import aiosmtpd"]) { return nil }
        let packageRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        let target = packageRoot.appendingPathComponent(".build/test-python").path
        if !FileManager.default.fileExists(atPath: target + "/aiosmtpd") {
            _ = run(["python3", "-m", "pip", "install", "--quiet", "--disable-pip-version-check", "--target", target, "aiosmtpd"])
        }
        return target
    }()

    private static func run(_ arguments: [String]) -> Bool {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = arguments
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        guard (try? process.run()) != nil else { return false }
        process.waitUntilExit()
        return process.terminationStatus == 0
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
