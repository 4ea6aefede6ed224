package import UptickCore
package import UptickStore

/// What the engine says about a database that fails: one line when claims or commits start failing, one more only
/// if the failure changes kind (locked, then gone), and one when a commit or claim works again, with how long it
/// lasted. A database locked for 30 s is dozens of failed attempts (each retried with backoff); the log says it
/// twice, not dozens of times. The results meanwhile wait in memory, up to ``EngineConfiguration/maxPending``.
package struct OutageLog: Sendable, Equatable {
    /// When the current outage began; `nil` while the database works.
    package private(set) var since: EpochMilliseconds?
    /// Failed attempts in the current outage.
    package private(set) var failures = 0
    private var said: Set<StoreError.Code> = []

    package init() {}

    /// A claim or commit (`operation`) failed: the line to log, if there is something new to say.
    package mutating func failed(_ operation: String, _ error: StoreError, now: EpochMilliseconds, pending: Int) -> String? {
        failures += 1
        let first = since == nil
        if first { since = now }
        guard said.insert(error.code).inserted else { return nil }
        let verb = first ? "the database is failing" : "the database is still failing, now"
        return "\(verb) (\(error.code.rawValue)): \(operation) failed: \(error); \(pending) results wait in memory and are retried"
    }

    /// A claim or commit worked: the line to log if it ends an outage.
    package mutating func succeeded(now: EpochMilliseconds, committed: Int) -> String? {
        guard let since else { return nil }
        defer { self = OutageLog() }
        let tenths = max(now - since, 0) / 100
        return "the database works again after \(tenths / 10).\(tenths % 10) s and \(failures) failed attempts\(committed > 0 ? "; \(committed) results committed" : "")"
    }
}
