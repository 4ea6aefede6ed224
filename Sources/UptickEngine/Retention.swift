import Logging
import UptickCore
import UptickStore

/// Deletes old `checks` rows in short batches, so the write lock is never held for long.
public struct Retention: Sendable {
    let store: any Store
    /// Rows per DELETE.
    public var batchSize = 5_000

    public init(store: any Store) {
        self.store = store
    }

    /// Deletes every check that started before `cutoff`; returns how many.
    public func prune(startedBefore cutoff: EpochMilliseconds) async throws(StoreError) -> Int {
        var total = 0
        while true {
            let deleted = try await store.pruneChecks(startedBefore: cutoff, limit: batchSize)
            total += deleted
            if deleted < batchSize { return total }
            await Task.yield()  // let the runner's own writes in between batches
        }
    }
}

extension Retention {
    /// Daemon housekeeping: prunes checks older than `retention` now and then every `period`, until `stop`.
    public func runPeriodically(
        retention: Duration, every period: Duration = .seconds(3600), clock: any WallClock = SystemClock(),
        logger: Logger, until stop: StopSignal
    ) async {
        while !stop.isStopped {
            do {
                let deleted = try await prune(startedBefore: clock.now() - retention.wholeMilliseconds)
                if deleted > 0 { logger.info("pruned \(deleted) checks older than \(retention)") }
            } catch {
                logger.error("pruning checks failed: \(error)")
            }
            let wake = clock.now() + period.wholeMilliseconds
            await withTaskGroup(of: Void.self) { group in
                group.addTask { try? await clock.sleep(until: wake) }
                group.addTask { await stop.wait() }
                await group.next()
                group.cancelAll()
            }
        }
    }
}
