import Logging
import Testing
import UptickCore
@testable import UptickEngine
import UptickStore
import UptickTestSupport

@Suite("Retention")
struct RetentionTests {
    @Test("the daemon's housekeeping prunes old checks at start and again every period, until cancelled")
    func periodicPrune() async throws {
        let db = try await TemporaryDatabase.make()
        defer { db.remove() }
        let day: EpochMilliseconds = 86_400_000
        let now: EpochMilliseconds = 1_764_460_800_000
        let id = try await db.store.addDueMonitors(1, dueAt: now)[0]
        try await db.store.persist([.sample(monitorID: id, slot: now - 3 * day), .sample(monitorID: id, slot: now - day / 12)])
        let clock = ManualClock(now: now)
        let housekeeping = Task {
            await RetentionService(retention: Retention(store: db.store), keep: Retention.Keep(checks: .seconds(86_400), hourly: nil, daily: nil), every: .seconds(3600), clock: clock,
                                   logger: Logger(label: "test")).run()
        }
        await clock.waitForSleep(1)  // pruned once, now waiting for the next period
        #expect(try await db.database.scalar("SELECT count(*) FROM checks") == 1)

        try await db.store.persist([.sample(monitorID: id, slot: now - day + 1000)])  // old in an hour and a bit
        clock.advance(by: 3_600_000)
        await clock.waitForSleep(2)
        #expect(try await db.database.scalar("SELECT count(*) FROM checks") == 1)
        #expect(try await db.database.scalar("SELECT min(scheduled_at) FROM checks") == now - day / 12)

        housekeeping.cancel()
        await housekeeping.value
    }
}
