import Logging
import UptickCore
import UptickStore

/// Deletes old `checks` rows, and finished `outbox` rows, in short batches, so the write lock is never held for long.
public struct Retention: Sendable {
    let store: any Store
    /// Rows per DELETE.
    public var batchSize = 5_000

    public init(store: any Store) {
        self.store = store
    }

    /// Deletes every check that started before `cutoff`, and every delivered or dead outbox row created
    /// before it; returns how many of each.
    public func prune(startedBefore cutoff: EpochMilliseconds) async throws(StoreError) -> (checks: Int, events: Int) {
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

extension Retention {
    /// Daemon housekeeping: prunes checks older than `retention` now and then every `period`, until `stop`.
    public func runPeriodically(
        retention: Duration, every period: Duration = .seconds(3600), clock: any WallClock = SystemClock(),
        logger: Logger, until stop: StopSignal
    ) async {
        while !stop.isStopped {
            do {
                let deleted = try await prune(startedBefore: clock.now() - retention.wholeMilliseconds)
                if deleted.checks + deleted.events > 0 {
                    logger.info("pruned \(deleted.checks) checks and \(deleted.events) finished alert events older than \(retention)")
                }
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
