import Foundation
import NIOCore
import UptickCore
import UptickNet

/// Tests/Helpers/libsql_server.py: a Hrana-over-HTTP server (libSQL's protocol) over a real SQLite file,
/// on 127.0.0.1. No real libSQL server (sqld) can be installed here; this one implements the published
/// spec's JSON pipeline over Python's sqlite3, so the store runs against real SQLite through the protocol.
package final class LibSQLServer: Sendable {
    private let helper: HelperProcess

    private init(helper: HelperProcess) {
        self.helper = helper
    }

    package var port: Int { helper.port }

    /// `http://127.0.0.1:PORT`.
    package var url: String { "http://127.0.0.1:\(port)" }

    /// Serves the SQLite file at `path`. `busyTimeout` is the server's SQLite busy timeout; `delay` is
    /// added before each pipeline answer; `failFirst` pipelines get 503; `token` is required when set.
    package static func start(path: String, busyTimeout: Duration = .seconds(5), delay: Duration = .zero, failFirst: Int = 0,
                             token: String? = nil) async throws -> LibSQLServer {
        var arguments = [path, "--busy-ms", String(busyTimeout.wholeMilliseconds), "--delay-ms", String(delay.wholeMilliseconds),
                         "--fail-first", String(failFirst)]
        if let token { arguments += ["--token", token] }
        return LibSQLServer(helper: try await HelperProcess.start("libsql_server.py", arguments))
    }

    /// How many pipeline requests the server has answered, and on how many TCP connections (this
    /// request's own included).
    package func stats() async throws -> (pipelines: Int, connections: Int) {
        let response = try await HTTPExchange(network: .testLoopback).perform(
            .init(host: "127.0.0.1", port: port, path: "/stats"), deadline: .now() + .seconds(5))
        let object = try JSONSerialization.jsonObject(with: Data(response.body)) as? [String: Any]
        return (object?["pipelines"] as? Int ?? -1, object?["connections"] as? Int ?? -1)
    }

    /// How the server answers pipelines from now on (Tests/Helpers/libsql_server.py): `none`, `503`, `cut` (run, then
    /// the answer cut half-way through its body) or `hang` (no answer until the mode changes).
    package func setFault(_ mode: String) async throws {
        let response = try await HTTPExchange(network: .testLoopback).perform(
            .init(host: "127.0.0.1", port: port, path: "/fault/\(mode)"), deadline: .now() + .seconds(5))
        guard response.status == 200 else { throw HelperProcess.HelperError(description: "libsql_server.py refused the fault mode \(mode)") }
    }

    package func stop() {
        helper.stop()
    }
}
