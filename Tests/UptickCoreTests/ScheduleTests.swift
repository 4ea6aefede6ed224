import Testing
@testable import UptickCore

@Suite("Schedule: fixed-rate slots")
struct ScheduleTests {
    @Test("a phase is deterministic and inside the interval")
    func phaseInRange() {
        for interval: Int64 in [1000, 30_000, 60_000, 86_400_000] {
            for id: Int64 in [1, 2, 3, 999, 123_456_789] {
                let phase = Schedule.phase(id: id, intervalMilliseconds: interval)
                #expect((0..<interval).contains(phase))
                #expect(phase == Schedule.phase(id: id, intervalMilliseconds: interval))
            }
        }
    }

    @Test("100 000 monitors created together spread evenly over a 30 s interval")
    func importSpreadsEvenly() {
        let interval: Int64 = 30_000
        var perSecond = [Int](repeating: 0, count: 30)
        for id: Int64 in 1...100_000 {
            perSecond[Int(Schedule.phase(id: id, intervalMilliseconds: interval) / 1000)] += 1
        }
        // An even spread is 3 333 per second; no second may carry more than 1 % above that.
        #expect(perSecond.allSatisfy { (3_300...3_367).contains($0) }, "\(perSecond)")
    }

    @Test("the first slot is at or after now, within one interval, at the monitor's phase")
    func firstSlot() {
        let interval: Int64 = 30_000
        for now: Int64 in [0, 1, 29_999, 1_764_460_800_123] {
            for id: Int64 in 1...50 {
                let slot = Schedule.firstSlot(id: id, intervalMilliseconds: interval, atOrAfter: now)
                #expect(slot >= now && slot < now + interval)
                #expect(Schedule.modulo(slot, interval) == Schedule.phase(id: id, intervalMilliseconds: interval))
            }
        }
    }

    @Test("the next slot is the previous slot plus the interval when on time")
    func nextSlotOnTime() {
        #expect(Schedule.nextSlot(after: 10_000, intervalMilliseconds: 30_000, now: 10_000) == 40_000)
        #expect(Schedule.nextSlot(after: 10_000, intervalMilliseconds: 30_000, now: 10_250) == 40_000)
    }

    @Test("missed slots are skipped, never burst, and the phase is kept")
    func nextSlotSkipsMissed() {
        // The runner was away from 10 s to 95 s: slots 40 s and 70 s are skipped; the next is 100 s.
        #expect(Schedule.nextSlot(after: 10_000, intervalMilliseconds: 30_000, now: 95_000) == 100_000)
        // Exactly on a later slot: that slot has been reached, so the next one is after it.
        #expect(Schedule.nextSlot(after: 10_000, intervalMilliseconds: 30_000, now: 70_000) == 100_000)
    }

    @Test("slots do not drift however late each check runs")
    func noDrift() {
        var slot: Int64 = 7_000
        for step in 1...1_000 {
            let lateness = Int64(step % 7) * 300  // up to 1.8 s late each time
            slot = Schedule.nextSlot(after: slot, intervalMilliseconds: 10_000, now: slot + lateness)
            #expect(slot == 7_000 + Int64(step) * 10_000)
        }
    }
}
