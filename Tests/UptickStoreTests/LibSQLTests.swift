import Foundation
import Testing
import UptickCore
import UptickHTTPClient
@testable import UptickLibSQL
@testable import UptickStore
import UptickTestSupport

@Suite("libSQL over HTTP (Hrana)", .serialized, .timeLimit(.minutes(1)))
struct LibSQLTests {
    let now: EpochMilliseconds = 1_764_460_800_000

    /// A migrated file and a server on it; the caller stops the server and removes the folder.
    func served(delay: Duration = .zero, failFirst: Int = 0, token: String? = nil) async throws -> (TemporaryDatabase, LibSQLServer) {
        let db = try await TemporaryDatabase.make()
        return (db, try await LibSQLServer.start(path: db.path, delay: delay, failFirst: failFirst, token: token))
    }

    @Test("a claim and a persist are one request each, however many rows and statements they carry")
    func roundTrips() async throws {
        let (db, server) = try await served()
        defer { server.stop(); db.remove() }
        let ids = try await db.store.addDueMonitors(1_234, dueAt: now)
        let store = SQLStore(executor: try LibSQLDatabase(url: server.url, token: nil))
        let claim = try await store.claimDue(now: now, limit: 2_000, leaseGrace: .seconds(60))
        #expect(claim.monitors.count == ids.count)
        #expect(try await server.stats().pipelines == 1)
        // 1 234 results: three INSERT chunks and three UPDATE chunks, still one request.
        try await store.persist(claim.monitors.map { CheckOutcome.sample(monitorID: $0.monitor.id, slot: $0.slot) })
        let stats = try await server.stats()
        #expect(stats.pipelines == 2)
        #expect(try await db.database.scalar("SELECT count(*) FROM checks") == 1_234)
        // Keep-alive: both requests went over one connection (the stats requests open their own).
        #expect(stats.connections <= 3, "connections: \(stats.connections)")
    }

    @Test("a failing statement rolls back the whole transaction, and the error keeps its kind")
    func atomic() async throws {
        let (db, server) = try await served()
        defer { server.stop(); db.remove() }
        let executor = try LibSQLDatabase(url: server.url, token: nil)
        await #expect {
            _ = try await executor.execute([SQLStatement("INSERT INTO monitors (key, type, target) VALUES ('b', 'port', 'x:1')"),
                                            SQLStatement("INSERT INTO monitors (key, type, target) VALUES ('b', 'port', 'x:1')")], transaction: true)
        } throws: { error in
            (error as? StoreError)?.code == .constraint
        }
        #expect(try await db.database.scalar("SELECT count(*) FROM monitors") == 0)
        // The stream is usable afterwards: no transaction was left open on the server.
        _ = try await executor.execute([SQLStatement("INSERT INTO monitors (key, type, target) VALUES ('c', 'port', 'x:1')")], transaction: true)
        #expect(try await db.database.scalar("SELECT count(*) FROM monitors") == 1)
    }

    @Test("values round-trip with their types: 64-bit integers (as strings on the wire), floats, text, blobs, NULL")
    func values() async throws {
        let (db, server) = try await served()
        defer { server.stop(); db.remove() }
        let executor = try LibSQLDatabase(url: server.url, token: nil)
        let values: [SQLValue] = [.integer(.max), .integer(.min), .real(0.1), .text("bücher ✓ \"quoted\""), .blob([0, 1, 254, 255]), .null]
        let rows = try await executor.execute([SQLStatement("SELECT ?, ?, ?, ?, ?, ?", values)], transaction: false)
        #expect(rows.first?.rows.first == values)
        let wire = try JSONEncoder().encode(Hrana.Value(.integer(.max)))
        #expect(String(decoding: wire, as: UTF8.self).contains(#""value":"9223372036854775807""#))
    }

    @Test("429 and 5xx are retried with backoff; too many give a clear 'unavailable' error")
    func retries() async throws {
        let (db, server) = try await served(failFirst: 2)
        defer { server.stop(); db.remove() }
        let patient = SQLStore(executor: try LibSQLDatabase(url: server.url, token: nil, attempts: 4, backoff: .milliseconds(10)))
        try await patient.requireSchema()
        let (db2, failing) = try await served(failFirst: 100)
        defer { failing.stop(); db2.remove() }
        let impatient = SQLStore(executor: try LibSQLDatabase(url: failing.url, token: nil, attempts: 3, backoff: .milliseconds(10)))
        await #expect {
            try await impatient.requireSchema()
        } throws: { error in
            (error as? StoreError)?.code == .unavailable && "\(error)".contains("after 3 attempts: HTTP 503")
        }
    }

    @Test("the token is sent as a bearer token; a wrong one is refused with a hint")
    func token() async throws {
        let (db, server) = try await served(token: "s3cret")
        defer { server.stop(); db.remove() }
        try await SQLStore(executor: try LibSQLDatabase(url: server.url, token: "s3cret")).requireSchema()
        await #expect {
            try await SQLStore(executor: try LibSQLDatabase(url: server.url, token: "wrong")).requireSchema()
        } throws: { error in
            (error as? StoreError)?.code == .unavailable && "\(error)".contains("refused the token")
        }
    }

    @Test("a server slower than the timeout is abandoned with a clear error")
    func timeout() async throws {
        let (db, server) = try await served(delay: .seconds(2))
        defer { server.stop(); db.remove() }
        let executor = try LibSQLDatabase(url: server.url, token: nil, timeout: .milliseconds(200), attempts: 1)
        await #expect {
            _ = try await executor.execute([SQLStatement("SELECT 1")], transaction: false)
        } throws: { error in
            (error as? StoreError)?.code == .unavailable && "\(error)".contains("no answer within")
        }
    }

    @Test("URL forms: libsql:// is HTTPS, https:// and http:// as given, with a path prefix kept")
    func urls() throws {
        #expect(LibSQLDatabase.parse("libsql://db-org.turso.io")?.base == "https://db-org.turso.io:443")
        #expect(LibSQLDatabase.parse("https://db.example.com/base/")?.prefix == "/base")
        #expect(LibSQLDatabase.parse("http://127.0.0.1:8080")?.origin == .init(host: "127.0.0.1", port: 8080, tls: false))
        #expect(LibSQLDatabase.parse("ftp://x") == nil && LibSQLDatabase.parse("https://u:p@x") == nil)
        #expect(LibSQLDatabase.handles("libsql://x") && !LibSQLDatabase.handles("./uptick.db") && !LibSQLDatabase.handles("file:x.db"))
    }

    @Test("an opt-in run against real Turso, when UPTICK_TEST_LIBSQL_URL and a token are set",
          .enabled(if: ProcessInfo.processInfo.environment["UPTICK_TEST_LIBSQL_URL"] != nil))
    func realTurso() async throws {
        let environment = ProcessInfo.processInfo.environment
        let store = SQLStore(executor: try LibSQLDatabase(
            url: environment["UPTICK_TEST_LIBSQL_URL"]!, token: environment["UPTICK_TEST_LIBSQL_TOKEN"] ?? environment["TURSO_AUTH_TOKEN"]))
        try await store.migrate(now: now)
        let claim = try await store.claimDue(now: now, limit: 1, leaseGrace: .seconds(1))
        #expect(claim.monitors.count <= 1)
    }
}
