import Foundation
import UptickLibSQL
import UptickStore

/// Where the database is and how the CLI opens it.
public enum Database {
    /// `--db`, else `UPTICK_DB`, else `./uptick.db`.
    public static func location(_ option: String?) -> String {
        option ?? ProcessInfo.processInfo.environment["UPTICK_DB"] ?? "./uptick.db"
    }

    /// `--db-token`, else `UPTICK_DB_TOKEN`, else `TURSO_AUTH_TOKEN`.
    public static func token(_ option: String?) -> String? {
        let environment = ProcessInfo.processInfo.environment
        return option ?? environment["UPTICK_DB_TOKEN"] ?? environment["TURSO_AUTH_TOKEN"]
    }

    /// Opens the database: libSQL for `libsql://`, `https://` and `http://` locations, otherwise a SQLite
    /// file. Unless `create`, it must exist and be migrated.
    public static func open(_ location: String, token: String? = nil, create: Bool = false) async throws(CLIFailure) -> SQLStore {
        do throws(StoreError) {
            let executor: any SQLExecutor = LibSQLDatabase.handles(location)
                ? try LibSQLDatabase(url: location, token: token)
                : try SQLiteDatabase(path: filePath(location), create: create)
            let store = SQLStore(executor: executor)
            if !create { try await store.requireSchema() }
            return store
        } catch {
            throw CLIFailure(error.message, exitCode: CLIFailure.runtime)
        }
    }

    static func filePath(_ location: String) -> String {
        location.hasPrefix("file:") ? String(location.dropFirst("file:".count)) : location
    }

    /// The spool that goes with a database location.
    /// Beside a SQLite file; for a libSQL database, `uptick-HOST.spool` in `directory` (the working directory
    /// by default; AWS Lambda passes `/tmp`, its only writable place).
    public static func spool(for location: String, directory: String = ".") -> Spool {
        guard LibSQLDatabase.handles(location) else { return Spool(path: filePath(location) + ".spool") }
        let host = URLComponents(string: location)?.host ?? "libsql"
        return Spool(path: directory + "/uptick-\(host.filter { $0.isLetter || $0.isNumber || $0 == "." || $0 == "-" }).spool")
    }
}
