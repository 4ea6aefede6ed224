import Foundation
import UptickLibSQL
package import UptickStore

/// How a runner opens its database, and where its spool goes.
package enum Database {
    /// Opens the database: libSQL for `libsql://`, `https://` and `http://` locations, otherwise a SQLite
    /// file. Unless `create`, it must exist and be migrated.
    package static func open(_ location: String, token: String? = nil, create: Bool = false) async throws(UptickError) -> any StoreBackend {
        do throws(StoreError) {
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

    static func filePath(_ location: String) -> String {
        location.hasPrefix("file:") ? String(location.dropFirst("file:".count)) : location
    }

    /// The spool that goes with a database location.
    /// Beside a SQLite file; for a libSQL database, `uptick-HOST.spool` in `directory` (the working directory
    /// by default; AWS Lambda passes `/tmp`, its only writable place).
    package static func spool(for location: String, directory: String = ".") -> Spool {
        guard LibSQLDatabase.handles(location) else { return Spool(path: filePath(location) + ".spool") }
        let host = URLComponents(string: location)?.host ?? "libsql"
        return Spool(path: directory + "/uptick-\(host.filter { $0.isLetter || $0.isNumber || $0 == "." || $0 == "-" }).spool")
    }
}
