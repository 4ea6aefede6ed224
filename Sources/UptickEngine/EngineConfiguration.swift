package import UptickCore

/// How the engine paces and bounds its work. Every field has a documented default (README, "Configuration").
package struct EngineConfiguration: Sendable {
    /// Checks in flight at once.
    package var concurrency = 500
    /// Most monitors claimed by one claim statement.
    package var claimBatch = 500
    /// Persist as soon as this many results wait…
    package var flushSize = 500
    /// …or as soon as the oldest waiting result is this old.
    package var flushDelay: Duration = .milliseconds(200)
    /// A claimed monitor is leased for its timeout plus this, from the claim: long enough for the claim's answer to
    /// arrive and the check to start (a check is started only if its whole timeout fits in the lease), short enough
    /// that a crashed runner's monitors are claimable again within 13 s (10 s timeout + 3 s). A claim answered later
    /// than that (a slow database, a starved process) hands its monitors back and claims again. A result
    /// needs no lease to be committed (persist is idempotent per slot and ignores results older than the stored
    /// state), so a commit that waits for the database holds nothing. Runners' clocks must agree within this.
    package var leaseGrace: Duration = .seconds(3)
    /// Daemon: claims are at least this far apart, so monitors due close together are claimed in one
    /// round trip. It bounds how late a check starts (plus scheduling noise) and the claim rate.
    package var claimWindow: Duration = .milliseconds(20)
    /// Daemon: the longest sleep without asking the store, so monitors the backend adds are seen.
    package var idleRecheck: Duration = .seconds(1)
    /// Daemon: claim on a fixed period instead of waking for each slot (`--poll 30s` reproduces the original design).
    package var poll: Duration?
    /// Unpersisted results at which claiming pauses until the database accepts writes again.
    package var maxPending = 50_000
    /// Attempts to persist the last results of a tick, or at shutdown, before they are handed back for spooling.
    package var finalPersistAttempts = 3
    /// The longest wait between two persistence retries.
    package var maxRetryDelay: Duration = .seconds(30)
    /// No claim starts at or after this time; once it passes, the run finishes what it claimed and ends.
    /// An AWS Lambda invocation sets its deadline minus the longest check and a commit, so nothing it
    /// claimed is left unrun when the process is frozen.
    package var claimUntil: EpochMilliseconds?
    /// Written to `checks.runner`.
    package var runnerID: String

    package init(runnerID: String) {
        self.runnerID = runnerID
    }
}
