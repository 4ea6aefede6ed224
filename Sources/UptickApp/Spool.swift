import Foundation
package import UptickCore

/// Results a run could not commit (database locked or gone), kept in a local file and committed
/// first by the next run. Committing is idempotent, so replaying a spool never duplicates a check.
package struct Spool: Sendable {
    package let path: String

    /// The spool beside a database file: `uptick.db` → `uptick.db.spool`.
    package init(path: String) {
        self.path = path
    }

    /// The spooled results; none when there is no spool.
    package func load() throws(UptickError) -> [CheckOutcome] {
        guard FileManager.default.fileExists(atPath: path) else { return [] }
        do {
            return try JSONDecoder().decode([CheckOutcome].self, from: Data(contentsOf: URL(fileURLWithPath: path)))
        } catch {
            throw UptickError("spool \(path) is unreadable (\(error)); move it away to continue", kind: .runtime)
        }
    }

    /// Replaces the spool with `outcomes` (atomically), or removes it when there are none.
    package func save(_ outcomes: [CheckOutcome]) throws(UptickError) {
        do {
            if outcomes.isEmpty {
                if FileManager.default.fileExists(atPath: path) { try FileManager.default.removeItem(atPath: path) }
            } else {
                try JSONEncoder().encode(outcomes).write(to: URL(fileURLWithPath: path), options: .atomic)
            }
        } catch {
            throw UptickError("cannot write spool \(path): \(error)", kind: .runtime)
        }
    }
}
