import Testing
import UptickCore
@testable import UptickStore
import UptickTestSupport

@Suite("Claiming due monitors", .serialized)
struct ClaimTests {
    let now: EpochMilliseconds = 1_764_460_800_000

    @Test("new monitors get their first slot at their phase, computed in SQL exactly as in Swift", arguments: Backend.allCases)
    func firstSlotInSQL(backend: Backend) async throws {
        let db = try await TemporaryDatabase.make(backend: backend)
        defer { db.remove() }
        for interval: Int64 in [1, 7, 30, 3600] {
            for _ in 0..<25 { _ = try await db.store.addMonitor(.port("127.0.0.1:9", interval: interval), now: now) }
        }
        _ = try await db.store.claimDue(now: now, limit: 0, leaseGrace: .seconds(60))
        for monitor in try await db.store.monitors() {
            let expected = Schedule.firstSlot(id: monitor.id, intervalMilliseconds: monitor.intervalSeconds * 1000, atOrAfter: now)
            #expect(monitor.nextCheckAt == expected, "monitor \(monitor.id)")
        }
    }

    @Test("a claim takes due enabled monitors oldest first, up to the limit, and moves each to its next slot", arguments: Backend.allCases)
    func claimOrderAndAdvance(backend: Backend) async throws {
        let db = try await TemporaryDatabase.make(backend: backend)
        defer { db.remove() }
        let ids = try await db.store.addDueMonitors(5, dueAt: now)
        // Slots: 5 s, 4 s, 3 s, 2 s late, and one not yet due; one due monitor is disabled.
        for (offset, id) in ids.enumerated() {
            try await db.database.run("UPDATE monitors SET next_check_at = ? WHERE id = ?", [.integer(now - 5000 + Int64(offset) * 1000), .integer(id)])
        }
        try await db.database.run("UPDATE monitors SET next_check_at = ? WHERE id = ?", [.integer(now + 1), .integer(ids[4])])
        let disabled = try await db.store.addMonitor(.port("127.0.0.1:9"), now: now)
        try await db.database.run("UPDATE monitors SET next_check_at = ?, enabled = 0 WHERE id = ?", [.integer(now - 9000), .integer(disabled.id)])

        let first = try await db.store.claimDue(now: now, limit: 2, leaseGrace: .seconds(60))
        #expect(Set(first.monitors.map(\.monitor.id)) == [ids[0], ids[1]])
        let second = try await db.store.claimDue(now: now, limit: 10, leaseGrace: .seconds(60))
        #expect(Set(second.monitors.map(\.monitor.id)) == [ids[2], ids[3]])
        #expect(second.nextDue == now + 1)

        for claimed in first.monitors + second.monitors {
            let original = now - 5000 + Int64(try #require(ids.firstIndex(of: claimed.monitor.id))) * 1000
            #expect(claimed.slot == original)
            #expect(claimed.monitor.nextCheckAt == Schedule.nextSlot(after: original, intervalMilliseconds: 30_000, now: now))
        }
    }

    @Test("a monitor stays leased until its result is persisted, so a slow check is never run twice at once", arguments: Backend.allCases)
    func leases(backend: Backend) async throws {
        let db = try await TemporaryDatabase.make(backend: backend)
        defer { db.remove() }
        let ids = try await db.store.addDueMonitors(1, dueAt: now, interval: 1)
        let claimed = try await db.store.claimDue(now: now, limit: 10, leaseGrace: .seconds(60))
        #expect(claimed.monitors.count == 1)
        // Two slots later the previous check is still running: nothing to claim.
        #expect(try await db.store.claimDue(now: now + 2000, limit: 10, leaseGrace: .seconds(60)).monitors.isEmpty)
        try await db.store.persist([.sample(monitorID: ids[0], slot: claimed.monitors[0].slot)])
        let next = try await db.store.claimDue(now: now + 2000, limit: 10, leaseGrace: .seconds(60))
        #expect(next.monitors.map(\.slot) == [now + 2000])
    }

    @Test("a crashed runner's lease expires after the timeout plus the grace", arguments: Backend.allCases)
    func leaseExpires(backend: Backend) async throws {
        let db = try await TemporaryDatabase.make(backend: backend)
        defer { db.remove() }
        _ = try await db.store.addDueMonitors(1, dueAt: now, interval: 1)
        let claimed = try await db.store.claimDue(now: now, limit: 10, leaseGrace: .seconds(5)).monitors[0].monitor
        let expiry = now + claimed.timeoutMilliseconds + 5_000  // the monitor's timeout plus the grace
        #expect(try await db.store.claimDue(now: expiry - 1, limit: 10, leaseGrace: .seconds(5)).monitors.isEmpty)
        #expect(try await db.store.claimDue(now: expiry, limit: 10, leaseGrace: .seconds(5)).monitors.count == 1)
    }

    @Test("a dispatcher's lease also covers its intervals in the queue, and the claim says which lease it set", arguments: Backend.allCases)
    func queuedLease(backend: Backend) async throws {
        let db = try await TemporaryDatabase.make(backend: backend)
        defer { db.remove() }
        _ = try await db.store.addDueMonitors(1, dueAt: now, interval: 30)
        let claimed = try #require(try await db.store.claimDue(now: now, limit: 10, leaseGrace: .seconds(5), leaseIntervals: 2).monitors.first)
        let expiry = now + claimed.monitor.timeoutMilliseconds + 5_000 + 2 * 30_000
        #expect(claimed.leaseUntil == expiry)
        #expect(try await db.database.scalar("SELECT lease_until FROM monitors") == expiry)
        #expect(try await db.store.claimDue(now: expiry - 1, limit: 10, leaseGrace: .seconds(5)).monitors.isEmpty)
        #expect(try await db.store.claimDue(now: expiry, limit: 10, leaseGrace: .seconds(5)).monitors.count == 1)
    }

    @Test("a released slot is due again at once (rescheduling) or at the next slot; a lease taken since is left alone", arguments: Backend.allCases)
    func release(backend: Backend) async throws {
        let db = try await TemporaryDatabase.make(backend: backend)
        defer { db.remove() }
        let ids = try await db.store.addDueMonitors(3, dueAt: now, interval: 30)
        let claim = try await db.store.claimDue(now: now + 1_000, limit: 10, leaseGrace: .seconds(60), leaseIntervals: 2).monitors
        let byID = Dictionary(uniqueKeysWithValues: claim.map { ($0.monitor.id, $0) })
        let (resend, skip, taken) = (try #require(byID[ids[0]]), try #require(byID[ids[1]]), try #require(byID[ids[2]]))
        var superseded = taken
        superseded.leaseUntil = (taken.leaseUntil ?? 0) - 1  // a lease that is no longer the one in the row
        try await db.store.release([resend, superseded], rescheduling: true)
        try await db.store.release([skip], rescheduling: false)
        let again = try await db.store.claimDue(now: now + 2_000, limit: 10, leaseGrace: .seconds(60))
        #expect(again.monitors.map(\.monitor.id) == [ids[0]])
        #expect(again.monitors.first?.slot == resend.slot)
        // Unleased at its next slot: claimed there.
        #expect(try await db.database.scalar("SELECT count(*) FROM monitors WHERE id = ? AND lease_until IS NULL AND next_check_at = ?",
                                             [.integer(ids[1]), .integer(skip.slot + 30_000)]) == 1)
        #expect(try await db.database.scalar("SELECT lease_until FROM monitors WHERE id = ?", [.integer(ids[2])]) == taken.leaseUntil)
    }

    @Test("two runners claiming the same file at once get every slot exactly once", arguments: Backend.allCases)
    func concurrentClaimers(backend: Backend) async throws {
        let db = try await TemporaryDatabase.make(backend: backend)
        defer { db.remove() }
        let ids = try await db.store.addDueMonitors(2000, dueAt: now)
        let first = try await db.secondConnection()
        let second = try await db.secondConnection()
        var claimed: [[Int64]] = [[], []]
        // Each round starts both claims at the same moment, so every round is a real race for the same
        // rows (and SQLite's sleeping busy handler cannot let one runner take everything alone).
        while true {
            async let a = first.claimDue(now: now, limit: 37, leaseGrace: .seconds(60))
            async let b = second.claimDue(now: now, limit: 37, leaseGrace: .seconds(60))
            let (claimA, claimB) = try await (a, b)
            if claimA.monitors.isEmpty && claimB.monitors.isEmpty { break }
            claimed[0] += claimA.monitors.map(\.monitor.id)
            claimed[1] += claimB.monitors.map(\.monitor.id)
        }
        #expect(claimed.allSatisfy { $0.count > 500 }, "both runners claimed: \(claimed.map(\.count))")
        #expect(claimed.joined().count == ids.count)
        #expect(Set(claimed.joined()) == Set(ids))
    }
}
