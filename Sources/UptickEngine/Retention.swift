package import Logging
import ServiceLifecycle
package import UptickCore
package import UptickStore

/// Deletes old `checks` rows, and finished `outbox` rows, in short batches, so the write lock is never held for long.
package struct Retention: Sendable {
    let store: any Store
    /// Rows per DELETE.
    package var batchSize = 5_000

    package init(store: any Store) {
        self.store = store
    }

    /// Deletes every check that started before `cutoff`, and every delivered or dead outbox row created
    /// before it; returns how many of each.
    package func prune(startedBefore cutoff: EpochMilliseconds) async throws(StoreError) -> (checks: Int, events: Int) {
        let checks = try await batches { limit throws(StoreError) in try await store.pruneChecks(startedBefore: cutoff, limit: limit) }
        let events = try await batches { limit throws(StoreError) in try await store.pruneOutbox(createdBefore: cutoff, limit: limit) }
        return (checks, events)
    }

    private func batches(_ delete: (Int) async throws(StoreError) -> Int) async throws(StoreError) -> Int {
        var total = 0
        while true {
            let deleted = try await delete(batchSize)
            total += deleted
            if deleted < batchSize { return total }
            await Task.yield()  // let the runner's own writes in between batches
        }
    }
}

/// The daemon's housekeeping as a lifecycle service: prunes checks older than `keep` at start and then every
/// `period`, until the group shuts down or the task is cancelled.
package struct RetentionService: Service {
    let retention: Retention
    let keep: Duration
    let period: Duration
    let clock: any WallClock
    let logger: Logger

    package init(retention: Retention, keep: Duration, every period: Duration = .seconds(3600), clock: any WallClock = SystemClock(), logger: Logger) {
        self.retention = retention
        self.keep = keep
        self.period = period
        self.clock = clock
        self.logger = logger
    }

    package func run() async {
        await cancelWhenGracefulShutdown { await prunePeriodically() }
    }

    private func prunePeriodically() async {
        while !Task.isCancelled {
            do {
                let deleted = try await retention.prune(startedBefore: clock.now() - keep.wholeMilliseconds)
                if deleted.checks + deleted.events > 0 {
                    logger.info("pruned \(deleted.checks) checks and \(deleted.events) finished alert events older than \(keep)")
                }
            } catch {
                logger.error("pruning checks failed: \(error)")
            }
            guard (try? await clock.sleep(until: clock.now() + period.wholeMilliseconds)) != nil else { return }
        }
    }
}
