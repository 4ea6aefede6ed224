import Foundation
import Testing
import UptickCore
import UptickQueue
import UptickStore

func claimed(_ id: Int64, slot: EpochMilliseconds = 1_000_000, interval: Int64 = 30, settings: String = "{}", name: String = "site") -> ClaimedMonitor {
    ClaimedMonitor(monitor: Monitor(id: id, key: "k\(id)", name: "\(name) \(id)", type: "http", target: "https://example.com/\(id)",
                                    intervalSeconds: interval, timeoutMilliseconds: 5000, settings: settings),
                   slot: slot, leaseUntil: slot + 125_000)
}

@Suite("Slot messages: packing within SQS's bounds, and reading them back")
struct SlotMessageTests {
    @Test("packed slots come back exactly, monitor state and lease included, at most 25 to a message")
    func roundTrip() throws {
        var claims = (1...60).map { claimed(Int64($0)) }
        claims[3].monitor.state.consecutiveFailures = 2
        claims[3].monitor.name = "ünïcødé \u{1} \"quoted\" </script>"
        let packing = SlotPacking(claims, dispatchedAt: 999)
        #expect(packing.messages.map(\.slots.count) == [25, 25, 10])
        #expect(packing.oversized.isEmpty)
        let decoded = try packing.messages.flatMap { try SlotMessage.decode($0.body).slots }
        #expect(decoded == claims)
        #expect(try SlotMessage.decode(packing.messages[0].body).dispatchedAt == 999)
    }

    @Test("a message is closed before it passes the byte limit; a monitor larger than any message is set aside")
    func byteLimit() throws {
        let big = String(repeating: "x", count: 3_000)
        let claims = (1...10).map { claimed(Int64($0), settings: #"{"note":"\#(big)"}"#) } + [claimed(99, settings: #"{"note":"\#(String(repeating: "y", count: 20_000))"}"#)]
        let packing = SlotPacking(claims, dispatchedAt: 0, maxBytes: 10_000)
        #expect(packing.messages.allSatisfy { $0.body.utf8.count <= 10_000 })
        #expect(packing.messages.flatMap(\.slots).map(\.monitor.id) == Array(1...10))
        #expect(packing.messages.count > 1 && packing.messages.allSatisfy { $0.slots.count < SlotMessage.maxSlots })
        #expect(packing.oversized.map(\.claimed.monitor.id) == [99])
        #expect(packing.oversized.first.map { $0.bytes > 20_000 } == true)
    }

    @Test("batch calls hold at most 10 messages and 256 KiB of bodies")
    func calls() {
        let bulky = String(repeating: "z", count: 2_000)
        let claims = (1...600).map { claimed(Int64($0), settings: #"{"note":"\#(bulky)"}"#) }
        let packing = SlotPacking(claims, dispatchedAt: 0)
        let calls = packing.calls()
        #expect(calls.flatMap { $0 }.count == packing.messages.count)
        #expect(calls.allSatisfy { $0.count <= 10 && $0.reduce(0) { $0 + $1.body.utf8.count } <= SlotMessage.maxBytes })
        #expect(calls.contains { $0.count < 10 } && calls.count > packing.messages.count / 10, "the byte bound, not only the count, split them")
    }

    @Test("bodies that are not slot messages are refused with a reason", arguments: [
        "", "hello", "{}", #"{"v":2,"dispatchedAt":0,"slots":[]}"#, #"{"v":1,"dispatchedAt":0,"slots":[]}"#,
        #"{"v":1,"dispatchedAt":0,"slots":[{"slot":1}]}"#,
    ])
    func malformed(_ body: String) {
        #expect(throws: MalformedMessage.self) { try SlotMessage.decode(body) }
    }

    @Test("a slot is stale once more than two of its intervals have passed")
    func stale() {
        let slot = claimed(1, slot: 1_000_000, interval: 30)
        #expect(!SlotMessage.isStale(slot, now: 1_060_000))
        #expect(SlotMessage.isStale(slot, now: 1_060_001))
        // A broken interval (0) counts as 1 s, as the claim takes it.
        var broken = slot
        broken.monitor.intervalSeconds = 0
        #expect(SlotMessage.isStale(broken, now: 1_002_001))
    }
}
