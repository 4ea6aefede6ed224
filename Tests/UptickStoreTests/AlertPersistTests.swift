import Testing
import UptickCore
@testable import UptickStore
import UptickTestSupport

@Suite("Persisting alert effects", .serialized)
struct AlertPersistTests {
    let now: EpochMilliseconds = 1_764_460_800_000

    /// A down outcome that opens an incident and announces it, as the engine makes it.
    func down(_ monitor: Monitor, slot: EpochMilliseconds) -> CheckOutcome {
        let result = CheckResult.down(.refused, "refused", durationMicroseconds: 5)
        let decision = monitor.state.applying(result, at: slot + 1, policy: .immediate)
        return CheckOutcome(monitorID: monitor.id, monitorName: monitor.name, scheduledAt: slot, startedAt: slot + 1, result: result,
                            runner: "test", state: decision.state, transition: decision.transition,
                            alerts: decision.effects(monitor: monitor, slot: slot, startedAt: slot + 1, result: result))
    }

    func world(_ backend: Backend, channels: [(String, Bool)]) async throws -> (TemporaryDatabase, Monitor) {
        let db = try await TemporaryDatabase.make(backend: backend)
        for (name, isDefault) in channels {
            _ = try await db.store.addChannel(name: name, type: "webhook", config: #"{"url":"https://example.com/"}"#, isDefault: isDefault, now: now)
        }
        let id = try await db.store.addDueMonitors(1, dueAt: now)[0]
        var monitor = try await db.store.monitor(id: id)
        monitor.state.notifiedStatus = .up
        monitor.status = .up
        return (db, monitor)
    }

    @Test("incident, outbox rows for the default channels, and the alert memory commit with the check", arguments: Backend.allCases)
    func together(backend: Backend) async throws {
        let (db, monitor) = try await world(backend, channels: [("a", true), ("b", true), ("c", false)])
        defer { db.remove() }
        let outcome = down(monitor, slot: now)
        try await db.store.persist([outcome])
        #expect(try await db.database.scalar("SELECT count(*) FROM checks") == 1)
        #expect(try await db.database.scalar("SELECT count(*) FROM incidents WHERE resolved_at IS NULL AND cause_class = 'refused'") == 1)
        #expect(try await db.database.scalar("SELECT count(*) FROM outbox WHERE kind = 'down' AND incident_id IS NOT NULL") == 2)
        // The monitor's alert memory round-trips through its columns.
        let stored = try await db.store.monitor(id: monitor.id)
        #expect(stored.state == outcome.state)
        #expect(stored.state.recentVerdicts == "-" && stored.state.notifiedStatus == .down && stored.state.incidentOpenedAt == now + 1)
    }

    @Test("a monitor's own channels replace the defaults", arguments: Backend.allCases)
    func ownChannels(backend: Backend) async throws {
        let (db, monitor) = try await world(backend, channels: [("a", true), ("c", false)])
        defer { db.remove() }
        try await db.store.setChannels(monitorID: monitor.id, channelIDs: [try await db.store.channel("c").id])
        try await db.store.persist([down(monitor, slot: now)])
        #expect(try await db.database.scalar("SELECT count(*) FROM outbox o JOIN channels c ON c.id = o.channel_id WHERE c.name = 'c'") == 1)
        #expect(try await db.database.scalar("SELECT count(*) FROM outbox") == 1)
    }

    @Test("persisting the same batch twice records each event once; a stale result records nothing", arguments: Backend.allCases)
    func idempotent(backend: Backend) async throws {
        let (db, monitor) = try await world(backend, channels: [("a", true)])
        defer { db.remove() }
        let outcome = down(monitor, slot: now)
        try await db.store.persist([outcome])
        try await db.store.persist([outcome])
        #expect(try await db.database.scalar("SELECT count(*) FROM outbox") == 1)
        #expect(try await db.database.scalar("SELECT count(*) FROM incidents") == 1)
        // A newer result is stored; a late one for an earlier slot (a spool replay) announces nothing.
        var later = try await db.store.monitor(id: monitor.id)
        later.state = outcome.state
        let recovered = CheckResult(status: .up, durationMicroseconds: 1)
        let decision = later.state.applying(recovered, at: now + 60_001, policy: .immediate)
        try await db.store.persist([CheckOutcome(
            monitorID: monitor.id, monitorName: "m", scheduledAt: now + 60_000, startedAt: now + 60_001, result: recovered, runner: "test",
            state: decision.state, transition: decision.transition,
            alerts: decision.effects(monitor: later, slot: now + 60_000, startedAt: now + 60_001, result: recovered))])
        #expect(try await db.database.scalar("SELECT count(*) FROM incidents WHERE resolved_at = ?", [.integer(now + 60_001)]) == 1)
        #expect(try await db.database.scalar("SELECT count(*) FROM outbox WHERE kind = 'up'") == 1)
        var stale = down(monitor, slot: now - 60_000)
        stale.startedAt = now - 59_999
        try await db.store.persist([stale])
        #expect(try await db.database.scalar("SELECT count(*) FROM outbox") == 2)
        #expect(try await db.database.scalar("SELECT count(*) FROM incidents") == 1)
    }

    @Test("the deliverer's claim takes only the oldest pending event of each monitor and channel, and leases it", arguments: Backend.allCases)
    func claimOrder(backend: Backend) async throws {
        let (db, monitor) = try await world(backend, channels: [("a", true)])
        defer { db.remove() }
        var state = monitor
        for index in 0..<3 {
            let outcome = index % 2 == 0 ? down(state, slot: now + Int64(index) * 60_000) : {
                let result = CheckResult(status: .up, durationMicroseconds: 1)
                let slot = now + Int64(index) * 60_000
                let decision = state.state.applying(result, at: slot + 1, policy: .immediate)
                return CheckOutcome(monitorID: state.id, monitorName: "m", scheduledAt: slot, startedAt: slot + 1, result: result, runner: "t",
                                    state: decision.state, transition: decision.transition,
                                    alerts: decision.effects(monitor: state, slot: slot, startedAt: slot + 1, result: result))
            }()
            try await db.store.persist([outcome])
            state.state = outcome.state
        }
        let later = now + 10 * 60_000
        let first = try await db.store.claimDeliveries(now: later, limit: 10, perChannel: 10, excluding: [], lease: .seconds(60))
        #expect(first.rows.map(\.kind) == ["down"] && first.rows.first?.attempts == 1)
        // Leased: a second deliverer gets nothing until the first records an outcome.
        #expect(try await db.store.claimDeliveries(now: later, limit: 10, perChannel: 10, excluding: [], lease: .seconds(60)).rows.isEmpty)
        try await db.store.record([DeliveryOutcome(outboxID: first.rows[0].id, verdict: .delivered, at: later, error: nil)])
        #expect(try await db.store.claimDeliveries(now: later, limit: 10, perChannel: 10, excluding: [], lease: .seconds(60)).rows.map(\.kind) == ["up"])
        // The lease ends: the row comes back, its attempts counted.
        let afterLease = try await db.store.claimDeliveries(now: later + 61_000, limit: 10, perChannel: 10, excluding: [], lease: .seconds(60))
        #expect(afterLease.rows.map(\.kind) == ["up"] && afterLease.rows.first?.attempts == 2)
    }

    @Test("pruning deletes finished outbox rows before the cutoff, never pending ones", arguments: Backend.allCases)
    func prune(backend: Backend) async throws {
        let (db, monitor) = try await world(backend, channels: [("a", true), ("b", true)])
        defer { db.remove() }
        try await db.store.persist([down(monitor, slot: now)])
        let rows = try await db.store.claimDeliveries(now: now + 10, limit: 10, perChannel: 10, excluding: [], lease: .seconds(60)).rows
        try await db.store.record([DeliveryOutcome(outboxID: rows[0].id, verdict: .delivered, at: now + 20, error: nil)])
        #expect(try await db.store.pruneOutbox(createdBefore: now, limit: 10) == 0)
        #expect(try await db.store.pruneOutbox(createdBefore: now + 1_000, limit: 10) == 1)
        #expect(try await db.database.scalar("SELECT count(*) FROM outbox WHERE delivered_at IS NULL") == 1)
    }

    @Test("a claim takes at most perChannel rows of each channel, oldest first, none of a full lane; a released row is due again, its attempt uncounted",
          arguments: Backend.allCases)
    func lanes(backend: Backend) async throws {
        let (db, _) = try await world(backend, channels: [("a", true), ("b", true)])
        defer { db.remove() }
        for id in try await db.store.addDueMonitors(5, dueAt: now) {
            var monitor = try await db.store.monitor(id: id)
            monitor.state.notifiedStatus = .up
            monitor.status = .up
            try await db.store.persist([down(monitor, slot: now)])
        }
        let a = try await db.store.channel("a").id, b = try await db.store.channel("b").id
        let claim = try await db.store.claimDeliveries(now: now + 10, limit: 100, perChannel: 2, excluding: [b], lease: .seconds(60))
        let ofA = claim.rows.filter { $0.channelID == a }
        #expect(ofA.count == 2 && claim.rows.count == 2)
        let allOfA = try await db.database.scalar("SELECT min(id) FROM outbox WHERE channel_id = ?", [.integer(a)])
        #expect(ofA.map(\.id).min() == allOfA)  // the lane's oldest
        let ofB = try await db.store.claimDeliveries(now: now + 10, limit: 100, perChannel: 3, excluding: [a], lease: .seconds(60)).rows
        #expect(ofB.count == 3 && ofB.allSatisfy { $0.channelID == b })
        let released = claim.rows[0]
        try await db.store.record([DeliveryOutcome(outboxID: released.id, verdict: .released, at: now + 20, error: nil)])
        let again = try await db.store.claimDeliveries(now: now + 20, limit: 100, perChannel: 1, excluding: [b], lease: .seconds(60)).rows
        #expect(again.map(\.id) == [released.id] && again.first?.attempts == 1)
    }
}
