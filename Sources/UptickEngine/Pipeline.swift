import UptickCore
import UptickStore

/// The engine loop's bookkeeping, without I/O: when to claim, when to commit, when to sleep, when done.
struct Pipeline {
    let configuration: EngineConfiguration
    private(set) var report = EngineReport()
    /// Results waiting to be committed, oldest first.
    private var pending: [CheckOutcome]
    private var oldestPendingAt: EpochMilliseconds?
    /// The batch a commit is writing, until it answers.
    private var committing: [CheckOutcome]?
    private(set) var inFlight = 0
    /// A claim has started and not answered.
    private(set) var claiming = false
    /// Claiming is worth trying again from this time.
    private var nextClaimAt: EpochMilliseconds
    /// No more claims: the tick found nothing more due, or a stop was requested.
    private var claimsDone = false
    private var retryAt: EpochMilliseconds?
    private var failedCommits = 0
    private var failedClaims = 0
    /// What to say about a failing database (said once per outage, not per attempt).
    var outage = OutageLog()
    private var gaveUp = false
    private var wakeArmedAt: EpochMilliseconds?
    /// Daemon with `poll`: the period's origin.
    private let pollOrigin: EpochMilliseconds

    /// The most runner errors a report keeps (a daemon can run for months).
    static let maxReportedErrors = 100

    init(configuration: EngineConfiguration, pending: [CheckOutcome], now: EpochMilliseconds) {
        self.configuration = configuration
        self.pending = pending
        self.oldestPendingAt = pending.isEmpty ? nil : now
        self.nextClaimAt = now
        self.pollOrigin = now
    }

    /// Results waiting to be committed, the batch being written included.
    var pendingCount: Int { pending.count + (committing?.count ?? 0) }

    var claimLimit: Int { min(configuration.concurrency - inFlight, configuration.claimBatch) }

    /// Claims wait until this many slots are free: at saturation every finished check frees one slot,
    /// and claiming one monitor per transaction would cost more than the check itself.
    var minimumClaim: Int { max(1, min(configuration.claimBatch, configuration.concurrency / 10)) }

    /// The bound counts the batch being written too: a commit that hangs until its timeout (a locked table) holds every
    /// waiting result, and claims counted only the rest went on while it hung (163 020 waiting against a bound of 50 000).
    private var mayClaim: Bool { !claimsDone && !claiming && claimLimit >= minimumClaim && pendingCount < configuration.maxPending }

    func shouldClaim(now: EpochMilliseconds) -> Bool { mayClaim && now >= nextClaimAt && now < (configuration.claimUntil ?? .max) }

    /// Past ``EngineConfiguration/claimUntil``: no more claims, so the run ends once its checks are committed.
    mutating func enforceClaimDeadline(now: EpochMilliseconds) {
        if let until = configuration.claimUntil, now >= until { claimsDone = true }
    }

    var isFinished: Bool { claimsDone && !claiming && inFlight == 0 && committing == nil && (pending.isEmpty || gaveUp) }

    mutating func claimStarted() { claiming = true }

    /// A claim that answered after the run was cancelled: its monitors are left to their leases.
    mutating func claimAbandoned() { claiming = false }

    /// `now`: when the claim started. `handedBack`: some claimed monitors were handed back unstarted (the answer came
    /// too late for their leases), so they are due again: claim again at once, in a tick too.
    mutating func claimed(_ claim: Claim, limit: Int, now: EpochMilliseconds, tickMode: Bool, handedBack: Bool = false) {
        claiming = false
        failedClaims = 0
        inFlight += claim.monitors.count
        report.claimed += claim.monitors.count
        if claim.monitors.count == limit || handedBack {
            nextClaimAt = now  // more may be due: claim again as soon as there is room
        } else if tickMode {
            claimsDone = true
        } else if let poll = configuration.poll?.wholeMilliseconds, poll > 0 {
            nextClaimAt = pollOrigin + poll * ((now - pollOrigin) / poll + 1)
        } else {
            let recheck = now + configuration.idleRecheck.wholeMilliseconds
            nextClaimAt = max(min(claim.nextDue ?? .max, recheck), now + configuration.claimWindow.wholeMilliseconds)
        }
    }

    mutating func claimFailed(_ error: StoreError, now: EpochMilliseconds, tickMode: Bool) {
        claiming = false
        record(error: "claim failed: \(error)")
        if tickMode {
            claimsDone = true
        } else {
            failedClaims += 1
            nextClaimAt = now + backoff(failedClaims)
        }
    }

    mutating func checked(_ outcome: CheckOutcome, now: EpochMilliseconds) {
        inFlight -= 1
        pending.append(outcome)
        if oldestPendingAt == nil { oldestPendingAt = now }
        report.lateness.record(outcome.startedAt - outcome.scheduledAt)
    }

    /// The results to commit now, if it is time: enough of them, the oldest waited long enough, or
    /// nothing else is left to wait for.
    mutating func batchToCommit(now: EpochMilliseconds) -> [CheckOutcome]? {
        guard committing == nil, !gaveUp, !pending.isEmpty, now >= (retryAt ?? now) else { return nil }
        let due = pending.count >= configuration.flushSize
            || now >= (oldestPendingAt ?? now) + configuration.flushDelay.wholeMilliseconds
            || (claimsDone && inFlight == 0)
        guard due else { return nil }
        defer {
            pending = []
            oldestPendingAt = nil
        }
        committing = pending
        return pending
    }

    mutating func committed(_ batch: [CheckOutcome], took: Duration = .zero) {
        committing = nil
        report.commitTime += took
        failedCommits = 0
        retryAt = nil
        for outcome in batch {
            switch outcome.result.status {
            case .up: report.up += 1
            case .degraded: report.degraded += 1
            case .down: report.down += 1
            }
            if outcome.transition != nil { report.transitions += 1 }
        }
    }

    mutating func commitFailed(_ batch: [CheckOutcome], error: StoreError, now: EpochMilliseconds) {
        committing = nil
        pending = batch + pending
        oldestPendingAt = now
        failedCommits += 1
        retryAt = now + backoff(failedCommits)
        record(error: "persist failed: \(error)")
        if claimsDone && !claiming && inFlight == 0 && failedCommits >= configuration.finalPersistAttempts {
            gaveUp = true
            report.unpersisted = pending
        }
    }

    /// When the loop must wake up by itself, if nothing else happens first.
    func nextWake(now: EpochMilliseconds) -> EpochMilliseconds? {
        var wake: EpochMilliseconds?
        if mayClaim { wake = nextClaimAt }
        // A claim in flight wakes the loop when it answers.
        if !claimsDone, !claiming, let until = configuration.claimUntil { wake = min(wake ?? until, until) }
        if !pending.isEmpty, committing == nil, !gaveUp {
            let flushAt = max((oldestPendingAt ?? now) + configuration.flushDelay.wholeMilliseconds, retryAt ?? now)
            wake = min(wake ?? flushAt, flushAt)
        }
        return wake
    }

    /// Records that a wake-up at `time` is wanted; returns false when an earlier one is already armed.
    mutating func armWake(at time: EpochMilliseconds) -> Bool {
        if let armed = wakeArmedAt, armed <= time { return false }
        wakeArmedAt = time
        return true
    }

    mutating func woke() { wakeArmedAt = nil }

    mutating func stopRequested() { claimsDone = true }

    /// The run was cancelled: every result not known to be committed is handed back, the batch of a commit
    /// that has not answered first (it is older).
    mutating func cancelled() {
        claimsDone = true
        gaveUp = true
        report.unpersisted = (committing ?? []) + pending
        committing = nil
        pending = []
    }

    private func backoff(_ failures: Int) -> EpochMilliseconds {
        min(250 << min(failures, 10), configuration.maxRetryDelay.wholeMilliseconds)
    }

    private mutating func record(error: String) {
        if report.errors.count == Self.maxReportedErrors { report.errors.removeFirst() }
        report.errors.append(error)
    }
}
