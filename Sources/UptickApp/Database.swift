import Foundation
import UptickLibSQL
import UptickPostgres
package import UptickStore

/// How a runner opens its database, and where its spool goes.
package enum Database {
    /// Opens the database: PostgreSQL for `postgres://` and `postgresql://` locations, libSQL for `libsql://`,
    /// `https://` and `http://`, otherwise a SQLite file. Unless `create`, it must exist and be migrated. PostgreSQL is
    /// connected to at once, so an unreachable server, a refused login or (for a runner, `writable`) a read-only
    /// standby is a clear error here rather than failed claims later.
    package static func open(_ location: String, token: String? = nil, create: Bool = false,
                             writable: Bool = false) async throws(UptickError) -> any StoreBackend {
        do throws(StoreError) {
            if PostgresLocation.handles(location) {
                let executor = try PostgresDatabase(url: location)
                try await executor.probe(writable: writable || create)
                let store = SQLStore(executor: executor, dialect: .postgres)
                if !create { try await store.requireSchema() }
                return store
            }
            let executor: any SQLExecutor = LibSQLDatabase.handles(location)
                ? try LibSQLDatabase(url: location, token: token)
                : try SQLiteDatabase(path: filePath(location), create: create)
            let store = SQLStore(executor: executor)
            if !create { try await store.requireSchema() }
            return store
        } catch {
            throw UptickError(error.message, kind: .runtime)
        }
    }

    /// The location as it may be printed or logged: a PostgreSQL URL's password replaced by `***`.
    package static func displayName(_ location: String) -> String {
        PostgresLocation.handles(location) ? PostgresLocation.redacted(location) : location
    }

    static func filePath(_ location: String) -> String {
        location.hasPrefix("file:") ? String(location.dropFirst("file:".count)) : location
    }

    /// The spool that goes with a database location.
    /// Beside a SQLite file; for a libSQL database `uptick-HOST.spool`, for PostgreSQL `uptick-HOST-PORT-DATABASE.spool`,
    /// in `directory` (the working directory by default; AWS Lambda passes `/tmp`, its only writable place).
    package static func spool(for location: String, directory: String = ".") -> Spool {
        let name: String
        if PostgresLocation.handles(location), let components = URLComponents(string: location) {
            name = "\(components.host ?? "postgres")-\(components.port ?? 5432)-\(components.path.dropFirst())"
        } else if LibSQLDatabase.handles(location) {
            name = URLComponents(string: location)?.host ?? "libsql"
        } else {
            return Spool(path: filePath(location) + ".spool")
        }
        return Spool(path: directory + "/uptick-\(name.filter { $0.isLetter || $0.isNumber || $0 == "." || $0 == "-" || $0 == "_" }).spool")
    }
}
