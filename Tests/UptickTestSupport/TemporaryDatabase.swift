package import Foundation
import Synchronization
import UptickCore
import UptickLibSQL
package import UptickStore

/// Which transport the store under test uses: the SQLite file directly, or the same file behind the
/// libSQL test server (Hrana over HTTP).
package enum Backend: String, CaseIterable, Sendable, CustomStringConvertible {
    case sqlite
    case libsql

    package var description: String { rawValue }
}

/// A fresh, migrated SQLite file in its own temporary folder, removed by ``remove()``. `store` goes
/// through the chosen backend; `database` always opens the file directly, for assertions on what it holds.
package struct TemporaryDatabase: Sendable {
    package let directory: URL
    package let path: String
    package let database: SQLiteDatabase
    package let store: SQLStore
    package let backend: Backend
    private let servers: Servers

    /// libSQL test servers started for this database, stopped by ``remove()``.
    final class Servers: Sendable {
        let running = Mutex<[LibSQLServer]>([])
        func add(_ server: LibSQLServer) { running.withLock { $0.append(server) } }
        func stopAll() { for server in running.withLock({ $0 }) { server.stop() } }
    }

    /// Creates (and migrates) `uptick.db` in a new temporary folder, served by `backend`.
    package static func make(migrated: Bool = true, backend: Backend = .sqlite) async throws -> TemporaryDatabase {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("uptick-test-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        let path = directory.appendingPathComponent("uptick.db").path
        let database = try SQLiteDatabase(path: path, create: true)
        let servers = Servers()
        let store = try await Self.store(path: path, backend: backend, database: database, servers: servers, busyTimeout: .seconds(5))
        if migrated { try await store.migrate(now: 0) }
        return TemporaryDatabase(directory: directory, path: path, database: database, store: store, backend: backend, servers: servers)
    }

    /// A second, independent connection to the same file (as another process would have): another
    /// SQLite connection, or another libSQL server process on the file.
    package func secondConnection(busyTimeout: Duration = .seconds(5)) async throws -> SQLStore {
        switch backend {
        case .sqlite: SQLStore(executor: try SQLiteDatabase(path: path, create: false, busyTimeout: busyTimeout))
        case .libsql: try await Self.store(path: path, backend: backend, database: database, servers: servers, busyTimeout: busyTimeout)
        }
    }

    private static func store(path: String, backend: Backend, database: SQLiteDatabase, servers: Servers, busyTimeout: Duration) async throws -> SQLStore {
        switch backend {
        case .sqlite:
            return SQLStore(executor: database)
        case .libsql:
            let server = try await LibSQLServer.start(path: path, busyTimeout: busyTimeout)
            servers.add(server)
            return SQLStore(executor: try LibSQLDatabase(url: server.url, token: nil))
        }
    }

    package func remove() {
        servers.stopAll()
        try? FileManager.default.removeItem(at: directory)
    }
}
