package import Foundation
import Synchronization
import UptickCore
import UptickLibSQL
import UptickPostgres
package import UptickStore

/// Which database the store under test uses: the SQLite file directly, the same file behind the libSQL test server
/// (Hrana over HTTP), or a database of its own on the test process's PostgreSQL server.
package enum Backend: String, CaseIterable, Sendable, CustomStringConvertible {
    case sqlite
    case libsql
    case postgres

    package var description: String { rawValue }

    /// The SQLite file, directly or through libSQL: for what only SQLite has (file locks, `EXPLAIN QUERY PLAN`,
    /// pragmas). PostgreSQL's counterparts are tested in PostgresTests.
    package static let sqliteFamily: [Backend] = [.sqlite, .libsql]
}

/// A fresh, migrated database, removed by ``remove()``: a SQLite file in its own temporary folder (served by the
/// libSQL test server for `.libsql`), or a new PostgreSQL database. `store` goes through the chosen backend;
/// `database` reaches the same data directly (the file, or PostgreSQL), for assertions on what it holds.
package struct TemporaryDatabase: Sendable {
    package let directory: URL
    /// The SQLite file (`.sqlite`, `.libsql`), also the folder's spool's base for PostgreSQL.
    package let path: String
    /// What `--db` takes for this database: the file's path, or the `postgres://` URL.
    package let location: String
    package let database: any SQLExecutor
    package let store: SQLStore
    package let backend: Backend
    private let servers: Servers

    /// libSQL test servers started for this database, stopped by ``remove()``.
    final class Servers: Sendable {
        let running = Mutex<[LibSQLServer]>([])
        func add(_ server: LibSQLServer) { running.withLock { $0.append(server) } }
        func stopAll() { for server in running.withLock({ $0 }) { server.stop() } }
    }

    /// Creates (and migrates) `uptick.db` in a new temporary folder, served by `backend`; for `.postgres`, a new
    /// database on the shared server instead.
    package static func make(migrated: Bool = true, backend: Backend = .sqlite) async throws -> TemporaryDatabase {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("uptick-test-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        let path = directory.appendingPathComponent("uptick.db").path
        let servers = Servers()
        let database: any SQLExecutor, location: String
        if backend == .postgres {
            let server = try await PostgresServer.shared()
            location = server.url(database: try await server.createDatabase())
            database = try PostgresDatabase(url: location)
        } else {
            location = path
            database = try SQLiteDatabase(path: path, create: true)
        }
        let store = try await Self.store(location: location, backend: backend, database: database, servers: servers, busyTimeout: .seconds(5))
        if migrated { try await store.migrate(now: 0) }
        return TemporaryDatabase(directory: directory, path: path, location: location, database: database, store: store, backend: backend,
                                 servers: servers)
    }

    /// The store's dialect.
    package var dialect: SQLDialect { backend == .postgres ? .postgres : .sqlite }

    /// A second, independent connection to the same data (as another process would have): another SQLite
    /// connection, another libSQL server process on the file, or another PostgreSQL pool.
    package func secondConnection(busyTimeout: Duration = .seconds(5)) async throws -> SQLStore {
        switch backend {
        case .sqlite: SQLStore(executor: try SQLiteDatabase(path: path, create: false, busyTimeout: busyTimeout))
        case .libsql, .postgres:
            try await Self.store(location: location, backend: backend, database: database, servers: servers, busyTimeout: busyTimeout)
        }
    }

    private static func store(location: String, backend: Backend, database: any SQLExecutor, servers: Servers,
                              busyTimeout: Duration) async throws -> SQLStore {
        switch backend {
        case .sqlite:
            return SQLStore(executor: database)
        case .libsql:
            let server = try await LibSQLServer.start(path: location, busyTimeout: busyTimeout)
            servers.add(server)
            return SQLStore(executor: try LibSQLDatabase(url: server.url, token: nil))
        case .postgres:
            return SQLStore(executor: try PostgresDatabase(url: location), dialect: .postgres)
        }
    }

    package func remove() {
        servers.stopAll()
        try? FileManager.default.removeItem(at: directory)
    }
}
