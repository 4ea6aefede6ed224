package import UptickCore

/// `/readyz`'s verdict, a pure function of what the runner last saw: ready when the database answers and, for a
/// runner, the engine claimed recently, no result waited too long for a commit, and the backlog is below the bound
/// at which claiming pauses. (The spool is replayed into that backlog at start, so its bound is the backlog's.)
package struct Readiness: Sendable, Hashable, Encodable {
    /// One condition: whether it holds, and why, in words.
    package struct Check: Sendable, Hashable, Encodable {
        package var ok: Bool
        package var detail: String
    }

    package var ready: Bool
    package var checks: [String: Check]

    /// The limits, with their defaults.
    package struct Bounds: Sendable, Hashable {
        /// The engine claims at least every second when idle (every long poll on a queue, ≤ 20 s): a minute without one is a stall.
        package var claimAge: Duration = .seconds(60)
        /// Results waiting this long without a commit landing: the database takes no writes.
        package var commitAge: Duration = .seconds(60)
        /// The engine's `maxPending`: claiming pauses there.
        package var maxPending = 50_000

        package init() {}
    }

    /// `heartbeat`: the engine's, `nil` for `uptick serve` (no engine). `databaseError`: why the database probe failed.
    package static func evaluate(heartbeat: RunnerMetrics.Heartbeat?, databaseError: String?, startedAt: EpochMilliseconds,
                                 now: EpochMilliseconds, bounds: Bounds = Bounds()) -> Readiness {
        var checks: [String: Check] = [:]
        checks["database"] = databaseError.map { Check(ok: false, detail: $0) } ?? Check(ok: true, detail: "answered")
        if let heartbeat {
            let claimAge = bounds.claimAge.wholeMilliseconds
            if heartbeat.lastClaimFailed {
                checks["claim"] = Check(ok: false, detail: "the last claim failed")
            } else if let last = heartbeat.lastClaimAt {
                checks["claim"] = Check(ok: now - last <= claimAge, detail: "last claim \(Markup.span(now - last)) ago")
            } else {
                checks["claim"] = Check(ok: now - startedAt <= claimAge, detail: "no claim yet")
            }
            if let since = heartbeat.waitingSince, now - since > bounds.commitAge.wholeMilliseconds {
                checks["commit"] = Check(ok: false, detail: "\(heartbeat.pending) results waiting \(Markup.span(now - since)) without a commit")
            } else {
                let last = heartbeat.lastCommitAt.map { "last commit \(Markup.span(now - $0)) ago" } ?? "no commit yet"
                checks["commit"] = Check(ok: true, detail: heartbeat.lastCommitFailed ? "the last commit failed, retrying; \(last)" : last)
            }
            checks["backlog"] = Check(ok: heartbeat.pending < bounds.maxPending,
                                      detail: "\(heartbeat.pending) results pending (bound \(bounds.maxPending)), \(heartbeat.inFlight) checks in flight")
        }
        return Readiness(ready: checks.values.allSatisfy(\.ok), checks: checks)
    }
}
