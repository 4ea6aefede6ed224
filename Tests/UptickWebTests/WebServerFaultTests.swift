import Logging
import NIOCore
import NIOHTTP1
import ServiceLifecycle
import Testing
import UptickCore
import UptickHTTPClient
import UptickLibSQL
import UptickStore
@testable import UptickWeb

/// The server when its database is gone, and when its port is taken.
@Suite("Web server faults", .serialized, .timeLimit(.minutes(1)))
struct WebServerFaultTests {
    /// A server on a database nobody answers for (a libSQL URL on a loopback port where nothing listens), until `body` returns.
    func server(port: Int = 0, onListening: @escaping @Sendable (Int) -> Void = { _ in }) throws -> WebServer {
        let gone = SQLStore(executor: try LibSQLDatabase(url: "http://127.0.0.1:9", token: nil, timeout: .seconds(1), attempts: 1))
        var configuration = WebServer.Configuration()
        configuration.port = port
        var logger = Logger(label: "test")
        logger.logLevel = .critical  // the failures it logs are what the tests cause
        return WebServer(catalogue: gone, metrics: RunnerMetrics(version: "test"), watchesEngine: false, spoolPath: nil,
                         configuration: configuration, logger: logger, onListening: onListening)
    }

    func withServer(_ body: (Int) async throws -> Void) async throws {
        let (ports, listening) = AsyncStream.makeStream(of: Int.self)
        let group = ServiceGroup(configuration: .init(services: [.init(service: try server { listening.yield($0) })], logger: Logger(label: "test")))
        try await withThrowingTaskGroup(of: Void.self) { tasks in
            tasks.addTask {
                defer { listening.finish() }
                try await group.run()
            }
            var iterator = ports.makeAsyncIterator()
            let bound = try #require(await iterator.next())
            try await body(bound)
            await group.triggerGracefulShutdown()
            try await tasks.waitForAll()
        }
    }

    func get(_ port: Int, _ path: String) async throws -> (status: Int, body: String) {
        let pool = try HTTPConnectionPool(origin: .init(host: "127.0.0.1", port: port, tls: false))
        let response = try await pool.send(method: .GET, path: path, headers: [], body: nil, timeout: .seconds(10))
        return (response.status, String(buffer: response.body))
    }

    @Test("the database gone: alive, not ready (saying why), the page and the API 503, metrics with uptick_database_up 0")
    func databaseGone() async throws {
        try await withServer { port in
            #expect(try await get(port, "/healthz").status == 200)
            let ready = try await get(port, "/readyz")
            #expect(ready.status == 503 && ready.body.contains(#""database":{"detail":"#) && ready.body.contains(#""ready":false"#))
            #expect(try await get(port, "/").status == 503)
            let api = try await get(port, "/api/v1/monitors")
            #expect(api.status == 503 && api.body == #"{"error":"database unavailable"}"#)
            #expect(try await get(port, "/badges/1/status.svg").status == 503)
            let metrics = try await get(port, "/metrics")
            #expect(metrics.status == 200 && metrics.body.contains("uptick_database_up 0"))
            #expect(try await get(port, "/api/v1/monitors?per_page=0").status == 400)
            // Hostile numbers are refused or clamped, never trapped on: the server still answers afterwards.
            for path in ["/?page=9223372036854775807", "/?page=-5", "/api/v1/monitors?page=9223372036854775807",
                         "/api/v1/monitors/99999999999999999999", "/api/v1/monitors/1/checks?before=-1", "/badges/x/status.svg",
                         "/api/v1/monitors/1/rollups?resolution=weekly", "/api/v1/incidents?limit=100000"] {
                let status = try await get(port, path).status
                #expect([400, 404, 503].contains(status), "\(path): \(status)")
            }
            #expect(try await get(port, "/healthz").status == 200)
        }
    }

    /// The address is checked before the server runs (`uptick run` and `serve` do so first): Hummingbird's own failed
    /// bind could leave its application hung (docs/architecture.md, "A failed start exits").
    @Test("a port already taken: the server's address check fails with a clear error, before it runs")
    func portTaken() async throws {
        try await withServer { port in
            await #expect {
                try await server(port: port).checkAddress()
            } throws: { error in
                "\(error)".hasPrefix("cannot serve HTTP on 127.0.0.1:\(port):")
            }
        }
    }
}
