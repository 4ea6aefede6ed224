package import Foundation
import Synchronization
import UptickPostgres
import UptickStore

/// Tests/Helpers/postgres_server.py: a real PostgreSQL server (Debian's `postgresql`), a fresh cluster on 127.0.0.1
/// that stops when the test process ends. ``shared`` is started once per test process and gives each test a database
/// of its own (`CREATE DATABASE`, milliseconds); tests that restart the server or need TLS or a read-only server start
/// their own.
package final class PostgresServer: Sendable {
    private let helper: HelperProcess
    /// Where `--tls` wrote `ca.pem` and `wrong-ca.pem`.
    package let certificates: URL?

    private init(helper: HelperProcess, certificates: URL?) {
        self.helper = helper
        self.certificates = certificates
    }

    package var port: Int { helper.port }

    /// Starts a server: with TLS (its CA certificates written to a temporary folder), read-only, or durable.
    package static func start(tls: Bool = false, readOnly: Bool = false, durable: Bool = false) async throws -> PostgresServer {
        var arguments: [String] = []
        var certificates: URL?
        if tls {
            let folder = FileManager.default.temporaryDirectory.appendingPathComponent("uptick-pg-tls-\(UUID().uuidString)")
            arguments += ["--tls", folder.path]
            certificates = folder
        }
        if readOnly { arguments.append("--read-only") }
        if durable { arguments.append("--durable") }
        return PostgresServer(helper: try await HelperProcess.start("postgres_server.py", arguments), certificates: certificates)
    }

    private static let sharedServer = Mutex<Task<PostgresServer, any Error>?>(nil)

    /// The test process's server, started by the first test that asks.
    package static func shared() async throws -> PostgresServer {
        let task = sharedServer.withLock { task in
            if let task { return task }
            let started = Task { try await PostgresServer.start() }
            task = started
            return started
        }
        return try await task.value
    }

    /// `postgres://uptick:uptick-test@127.0.0.1:PORT/DATABASE`, with `query` (default: TLS off).
    package func url(database: String = "postgres", query: String = "sslmode=disable", host: String = "127.0.0.1") -> String {
        "postgres://uptick:uptick-test@\(host):\(port)/\(database)\(query.isEmpty ? "" : "?" + query)"
    }

    /// A new, empty database on this server; its name.
    package func createDatabase() async throws -> String {
        let name = "uptick_" + UUID().uuidString.prefix(8).lowercased()
        let admin = try PostgresDatabase(url: url())
        _ = try await admin.execute([SQLStatement("CREATE DATABASE \(name)")], transaction: false)
        return name
    }

    /// Stops the server (fast shutdown: sessions are ended) and waits until it has.
    package func pause() async throws { try await command("stop", answer: "STOPPED") }

    /// Starts it again on the same port and data.
    package func resume() async throws { try await command("start", answer: "STARTED") }

    private let output = Mutex<AsyncStream<String>?>(nil)

    private func command(_ command: String, answer: String) async throws {
        let stream = output.withLock { stream in
            if stream == nil { stream = helper.lines() }
            return stream!
        }
        helper.send(command)
        for await line in stream where line == answer { return }
        throw HelperProcess.HelperError(description: "postgres_server.py exited before answering \(command)")
    }

    package func stop() { helper.stop() }
}
