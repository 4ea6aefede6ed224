import Foundation
import UptickCore
import UptickStore

/// A fresh, migrated SQLite file in its own temporary folder, removed by ``remove()``.
public struct TemporaryDatabase: Sendable {
    public let directory: URL
    public let path: String
    public let database: SQLiteDatabase
    public let store: SQLStore

    /// Creates and migrates `uptick.db` in a new temporary folder.
    public static func make(migrated: Bool = true) async throws -> TemporaryDatabase {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("uptick-test-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        let path = directory.appendingPathComponent("uptick.db").path
        let database = try SQLiteDatabase(path: path, create: true)
        let store = SQLStore(executor: database)
        if migrated { try await store.migrate(now: 0) }
        return TemporaryDatabase(directory: directory, path: path, database: database, store: store)
    }

    /// A second, independent connection to the same file (as another process would have).
    public func secondConnection(busyTimeout: Duration = .seconds(5)) throws -> SQLStore {
        SQLStore(executor: try SQLiteDatabase(path: path, create: false, busyTimeout: busyTimeout))
    }

    public func remove() {
        try? FileManager.default.removeItem(at: directory)
    }
}
