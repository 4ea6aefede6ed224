import Foundation
import UptickStore

/// Where the database is and how the CLI opens it.
public enum Database {
    /// `--db`, else `UPTICK_DB`, else `./uptick.db`.
    public static func location(_ option: String?) -> String {
        option ?? ProcessInfo.processInfo.environment["UPTICK_DB"] ?? "./uptick.db"
    }

    /// Opens the database; unless `create`, it must exist and be migrated.
    public static func open(_ location: String, create: Bool = false) async throws(CLIFailure) -> SQLStore {
        let path = location.hasPrefix("file:") ? String(location.dropFirst("file:".count)) : location
        do throws(StoreError) {
            let store = SQLStore(executor: try SQLiteDatabase(path: path, create: create))
            if !create { try await store.requireSchema() }
            return store
        } catch {
            throw CLIFailure(error.message, exitCode: CLIFailure.runtime)
        }
    }

    /// The spool that goes with a database location.
    public static func spool(for location: String) -> Spool {
        let path = location.hasPrefix("file:") ? String(location.dropFirst("file:".count)) : location
        return Spool(path: path + ".spool")
    }
}
