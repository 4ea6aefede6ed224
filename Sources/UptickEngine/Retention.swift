package import Logging
import ServiceLifecycle
package import UptickCore
package import UptickStore

/// Deletes old `checks` rows, finished `outbox` rows and old rollups, in short batches, so the write lock is never
/// held for long. Rollups have their own ages: the status page's 90 days outlive a month of raw checks.
package struct Retention: Sendable {
    /// How long each kind of row is kept; `nil` keeps it forever.
    package struct Keep: Sendable, Hashable {
        /// Checks, and finished alert events.
        package var checks: Duration?
        package var hourly: Duration?
        package var daily: Duration?

        package init(checks: Duration?, hourly: Duration?, daily: Duration?) {
            self.checks = checks
            self.hourly = hourly
            self.daily = daily
        }

        /// Nothing is ever deleted.
        package var keepsEverything: Bool { checks == nil && hourly == nil && daily == nil }
    }

    /// What one prune deleted.
    package struct Pruned: Sendable, Hashable {
        package var checks = 0
        package var events = 0
        package var rollups = 0

        package var total: Int { checks + events + rollups }
    }

    let store: any Store
    /// Rows per DELETE.
    package var batchSize = 5_000

    package init(store: any Store) {
        self.store = store
    }

    /// Deletes what `keep` no longer keeps at `now`: checks that started before `now − keep.checks` with the
    /// delivered or dead outbox rows created before it, and rollups whose period started before their cutoff.
    package func prune(_ keep: Keep, now: EpochMilliseconds) async throws(StoreError) -> Pruned {
        var pruned = Pruned()
        if let age = keep.checks {
            let cutoff = now - age.wholeMilliseconds
            pruned.checks = try await batches { limit throws(StoreError) in try await store.pruneChecks(startedBefore: cutoff, limit: limit) }
            pruned.events = try await batches { limit throws(StoreError) in try await store.pruneOutbox(createdBefore: cutoff, limit: limit) }
        }
        for (resolution, age) in [(Rollup.Resolution.hourly, keep.hourly), (.daily, keep.daily)] {
            guard let age else { continue }
            let cutoff = now - age.wholeMilliseconds
            pruned.rollups += try await batches { limit throws(StoreError) in
                try await store.pruneRollups(resolution, before: cutoff, limit: limit)
            }
        }
        return pruned
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

/// The daemon's housekeeping as a lifecycle service: prunes what `keep` no longer keeps at start and then every
/// `period`, until the group shuts down or the task is cancelled.
package struct RetentionService: Service {
    let retention: Retention
    let keep: Retention.Keep
    let period: Duration
    let clock: any WallClock
    let logger: Logger

    package init(retention: Retention, keep: Retention.Keep, every period: Duration = .seconds(3600), clock: any WallClock = SystemClock(), logger: Logger) {
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
                let deleted = try await retention.prune(keep, now: clock.now())
                if deleted.total > 0 {
                    logger.info("pruned \(deleted.checks) checks, \(deleted.events) finished alert events and \(deleted.rollups) rollups")
                }
            } catch {
                logger.error("pruning failed: \(error)")
            }
            guard (try? await clock.sleep(until: clock.now() + period.wholeMilliseconds)) != nil else { return }
        }
    }
}
