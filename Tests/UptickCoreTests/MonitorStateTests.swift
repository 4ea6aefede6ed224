import Foundation
import Testing
import UptickCore
import UptickTestSupport

/// One check a minute from `t0`; `+` up, `~` degraded, `-` down.
private let t0: EpochMilliseconds = 1_800_000_000_000
private let minute: EpochMilliseconds = 60_000

private struct Step {
    var status: MonitorStatus
    var notices: [AlertKind]
    var decision: MonitorState.Decision
}

private func run(_ verdicts: String, policy: AlertPolicy = AlertPolicy(), from start: MonitorState = MonitorState(),
                 first: EpochMilliseconds = t0) -> [Step] {
    var state = start
    var steps: [Step] = []
    for (index, symbol) in verdicts.filter({ $0 != " " }).enumerated() {
        let status: CheckStatus = symbol == "+" ? .up : symbol == "~" ? .degraded : .down
        let result = CheckResult(status: status, errorClass: status == .down ? .timeout : nil, message: "check \(index)", durationMicroseconds: 1)
        let decision = state.applying(result, at: first + Int64(index) * minute, policy: policy)
        state = decision.state
        steps.append(Step(status: state.status, notices: decision.notices.map(\.kind), decision: decision))
    }
    return steps
}

private func policy(_ failure: Int = 2, _ recovery: Int = 1, degraded: Bool = true, flap: Int = 0, reminder: Int? = nil,
                    maintenance: [MaintenanceWindow] = []) throws -> AlertPolicy {
    var settings = MonitorSettings()
    settings.failureThreshold = failure
    settings.recoveryThreshold = recovery
    settings.notifyDegraded = degraded
    settings.flapThreshold = flap
    settings.reminderMinutes = reminder
    settings.maintenance = maintenance
    return try AlertPolicy(settings: settings)
}

@Suite("Status logic")
struct MonitorStateTests {
    struct Case: CustomTestStringConvertible, Sendable {
        var verdicts: String
        var failure: Int
        var recovery: Int
        var notifyDegraded = true
        /// One status letter per check: P pending, U up, G degraded, D down.
        var statuses: String
        /// The notices of each check that has some, by check index.
        var notices: [Int: [AlertKind]]
        var testDescription: String { "\(verdicts) at \(failure)/\(recovery)\(notifyDegraded ? "" : " without degraded")" }
    }

    @Test("thresholds confirm statuses, and only confirmed changes are announced", arguments: [
        // The original design, 1/1: every change is confirmed and announced, except coming up the first time.
        Case(verdicts: "+-+", failure: 1, recovery: 1, statuses: "UDU", notices: [1: [.down], 2: [.up]]),
        // Default 2/1: a single failure is a blip.
        Case(verdicts: "+-+", failure: 2, recovery: 1, statuses: "UUU", notices: [:]),
        Case(verdicts: "+--+", failure: 2, recovery: 1, statuses: "UUDU", notices: [2: [.down], 3: [.up]]),
        // A new monitor that is down from the start alerts once confirmed; one that comes up never does.
        Case(verdicts: "--", failure: 2, recovery: 1, statuses: "PD", notices: [1: [.down]]),
        Case(verdicts: "-+", failure: 2, recovery: 1, statuses: "PU", notices: [:]),
        Case(verdicts: "+", failure: 2, recovery: 1, statuses: "U", notices: [:]),
        // Recovery needs its own streak; a failure in between starts it again.
        Case(verdicts: "+--++-+++", failure: 2, recovery: 3, statuses: "UUDDDDDDU", notices: [2: [.down], 8: [.up]]),
        // Worse is worse: degraded then down confirms degraded, a second down confirms down.
        Case(verdicts: "+~--", failure: 2, recovery: 1, statuses: "UUGD", notices: [2: [.degraded], 3: [.down]]),
        Case(verdicts: "+~~+", failure: 2, recovery: 1, statuses: "UUGU", notices: [2: [.degraded], 3: [.up]]),
        // Down, then slow: better, but not up.
        Case(verdicts: "+---~+", failure: 3, recovery: 1, statuses: "UUUDGU", notices: [3: [.down], 4: [.degraded], 5: [.up]]),
        // Without degraded notifications, degraded is announced as up: silence, and a recovery from down.
        Case(verdicts: "+~~+", failure: 2, recovery: 1, notifyDegraded: false, statuses: "UUGU", notices: [:]),
        Case(verdicts: "+--~", failure: 2, recovery: 1, notifyDegraded: false, statuses: "UUDG", notices: [2: [.down], 3: [.up]]),
    ])
    func thresholds(_ test: Case) throws {
        let steps = run(test.verdicts, policy: try policy(test.failure, test.recovery, degraded: test.notifyDegraded))
        let letters: [MonitorStatus: Character] = [.pending: "P", .up: "U", .degraded: "G", .down: "D"]
        #expect(String(steps.map { letters[$0.status]! }) == test.statuses)
        for (index, step) in steps.enumerated() {
            #expect(step.notices == (test.notices[index] ?? []), "check \(index)")
        }
    }

    @Test("an announcement says what receivers were told before")
    func previous() throws {
        let steps = run("+--~+", policy: try policy(2, 1))
        #expect(steps[2].decision.notices.first?.previous == .up)
        #expect(steps[3].decision.notices.first?.previous == .down)
        #expect(steps[4].decision.notices.first?.previous == .degraded)
        #expect(steps[4].decision.transition == StatusTransition(from: .degraded, to: .up, at: t0 + 4 * minute))
    }

    @Test("an incident opens when down is confirmed, with the confirming check's cause, and resolves when it ends")
    func incidents() throws {
        let steps = run("+---~", policy: try policy(2, 1))
        #expect(steps[1].decision.incident == nil)
        #expect(steps[2].decision.incident == .opened(at: t0 + 2 * minute, errorClass: .timeout, message: "check 2"))
        #expect(steps[2].decision.notices.first?.incidentOpenedAt == t0 + 2 * minute)
        #expect(steps[3].decision.incident == nil)
        #expect(steps[4].decision.incident == .resolved(openedAt: t0 + 2 * minute, at: t0 + 4 * minute))
        // The recovery names the incident receivers were told about.
        #expect(steps[4].decision.notices.first?.incidentOpenedAt == t0 + 2 * minute)
        #expect(steps[4].decision.state.announcedIncidentAt == nil)
    }

    @Test("counters count consecutive failures and successes; the history keeps the last ten verdicts")
    func counters() throws {
        let last = try #require(run("---~+++++++++").last).decision.state
        #expect(last.consecutiveFailures == 0 && last.consecutiveSuccesses == 10)
        #expect(last.recentVerdicts == "~+++++++++")
        #expect(try #require(run("+--").last).decision.state.consecutiveFailures == 2)
    }

    @Test("flapping: more changes than the threshold in the window gives one notice, then silence until a quiet window")
    func flapping() throws {
        // 1/1 with a threshold of 2 changes in 10 minutes.
        var flapping = try policy(1, 1, flap: 2)
        flapping.flapWindowMilliseconds = 10 * minute
        let steps = run("+-+-+-" + String(repeating: "-", count: 12), policy: flapping)
        #expect(steps[1].notices == [.down])
        #expect(steps[2].notices == [.up])
        #expect(steps[3].notices == [.flapping])
        #expect(steps[3].decision.state.flappingSince == t0 + 3 * minute)
        // Held: changes at 4 and 5 are stored but not announced.
        #expect(steps[4].status == .up && steps[4].notices.isEmpty)
        #expect(steps[5].status == .down && steps[5].notices.isEmpty)
        // Last change at minute 5: at minute 15 a whole window has passed without one.
        for index in 6..<15 { #expect(steps[index].notices.isEmpty, "check \(index)") }
        #expect(steps[15].decision.state.flappingSince == nil)
        #expect(steps[15].notices == [.down])
        #expect(steps[15].decision.notices.first?.note == "flapping settled")
        #expect(steps[16].notices.isEmpty)
    }

    @Test("flapping that settles in the state receivers already know announces nothing")
    func flappingSettlesQuietly() throws {
        var flapping = try policy(1, 1, flap: 2)
        flapping.flapWindowMilliseconds = 5 * minute
        let steps = run("+-+-+" + String(repeating: "+", count: 8), policy: flapping)
        #expect(steps[3].notices == [.flapping])
        #expect(steps.dropFirst(4).allSatisfy { $0.notices.isEmpty })
        #expect(try #require(steps.last).decision.state.flappingSince == nil)
    }

    @Test("maintenance holds alerts; afterwards the current status is announced only if it differs from the last announcement")
    func maintenance() throws {
        // Window from minute 1 to minute 4 (exclusive).
        let window = MaintenanceWindow(from: Self.iso(t0 + minute), until: Self.iso(t0 + 4 * minute))
        let held = run("+--+++", policy: try policy(1, 1, maintenance: [window]))
        #expect(held.map(\.status) == [.up, .down, .down, .up, .up, .up])
        #expect(held.allSatisfy { $0.notices.isEmpty })
        // Incidents are the record: they open and resolve during maintenance too.
        #expect(held[1].decision.incident != nil && held[3].decision.incident != nil)

        let stillDown = run("+----+", policy: try policy(1, 1, maintenance: [window]))
        #expect(stillDown[1...3].allSatisfy { $0.notices.isEmpty })
        #expect(stillDown[4].notices == [.down])
        #expect(stillDown[4].decision.notices.first?.note == "changed while alerts were held")
        #expect(stillDown[5].notices == [.up])
    }

    @Test("reminders repeat while an announced incident stays open")
    func reminders() throws {
        let steps = run("+" + String(repeating: "-", count: 12) + "+", policy: try policy(1, 1, reminder: 5))
        #expect(steps[1].notices == [.down])
        let reminders = steps.indices.filter { steps[$0].notices == [.reminder] }
        #expect(reminders == [6, 11])
        #expect(steps[6].decision.notices.first?.incidentOpenedAt == t0 + minute)
        #expect(steps[13].notices == [.up])
    }

    @Test("effects carry stable event ids and the documented payload")
    func effects() {
        let monitor = Monitor(id: 7, key: "api", name: "API", type: "http", target: "https://example.com/", intervalSeconds: 60, timeoutMilliseconds: 1000)
        let result = CheckResult.down(.timeout, "no answer", durationMicroseconds: 1500)
        let decision = MonitorState(status: .up, notifiedStatus: .up).applying(result, at: 5_000, policy: .immediate)
        let effects = decision.effects(monitor: monitor, slot: 4_000, startedAt: 5_000, result: result)
        let event = effects?.events.first
        #expect(effects?.incident == .opened(at: 5_000, errorClass: .timeout, message: "no answer"))
        #expect(event?.id == "evt_7_4000_down")
        #expect(event?.payload.type == "monitor.down")
        #expect(event?.payload.status == .init(previous: .up, current: .down, since: 5_000))
        #expect(event?.payload.incident == .init(id: "inc_7_5000", openedAt: 5_000, resolvedAt: nil))
        #expect(event?.payload.check?.durationMilliseconds == 1.5)
        #expect(MonitorState(status: .up).applying(.init(status: .up, durationMicroseconds: 1), at: 1).effects(
            monitor: monitor, slot: 0, startedAt: 1, result: result) == nil)
    }

    static func iso(_ time: EpochMilliseconds) -> String {
        Date(timeIntervalSince1970: Double(time) / 1000).formatted(.iso8601)
    }
}

@Suite("Maintenance windows")
struct MaintenanceWindowTests {
    static func at(_ text: String) throws -> EpochMilliseconds {
        EpochMilliseconds(try Date(text, strategy: .iso8601).timeIntervalSince1970 * 1000)
    }

    @Test("a one-off window in a time zone covers its local times, end excluded")
    func once() throws {
        let window = try MaintenanceWindow(from: "2026-12-24T22:00", until: "2026-12-25T06:00", timeZone: "Europe/Berlin").schedule()
        #expect(!window.contains(try Self.at("2026-12-24T20:59:59Z")))
        #expect(window.contains(try Self.at("2026-12-24T21:00:00Z")))
        #expect(window.contains(try Self.at("2026-12-25T04:59:59Z")))
        #expect(!window.contains(try Self.at("2026-12-25T05:00:00Z")))
    }

    @Test("a recurring window keeps its local time across daylight saving changes and midnight")
    func recurring() throws {
        let window = try MaintenanceWindow(at: "23:30", durationMinutes: 120, days: ["sat"], timeZone: "Europe/Berlin").schedule()
        // Winter (UTC+1): Saturday 23:30 local is 22:30 UTC; the window runs into Sunday.
        #expect(window.contains(try Self.at("2026-01-03T22:30:00Z")))
        #expect(window.contains(try Self.at("2026-01-04T00:29:00Z")))
        #expect(!window.contains(try Self.at("2026-01-04T00:30:00Z")))
        #expect(!window.contains(try Self.at("2026-01-03T22:29:00Z")))
        // Summer (UTC+2): 23:30 local is 21:30 UTC.
        #expect(window.contains(try Self.at("2026-07-04T21:30:00Z")))
        #expect(!window.contains(try Self.at("2026-07-04T22:29:59Z") + 2 * 3_600_000))
        // Not on Fridays.
        #expect(!window.contains(try Self.at("2026-07-03T21:45:00Z")))
        let daily = try MaintenanceWindow(at: "02:00", durationMinutes: 30).schedule()
        let (inside, outside) = (try Self.at("2026-03-10T02:10:00Z"), try Self.at("2026-03-10T02:30:00Z"))
        #expect(daily.contains(inside) && !daily.contains(outside))
    }

    @Test("malformed windows are rejected with the field at fault", arguments: [
        (MaintenanceWindow(from: "2026-12-24T22:00", until: "2026-12-24T21:00"), "must be after"),
        (MaintenanceWindow(from: "yesterday", until: "2026-12-24T21:00"), "from 'yesterday'"),
        (MaintenanceWindow(from: "2026-02-30T10:00", until: "2026-03-02T10:00"), "not a valid date"),
        (MaintenanceWindow(at: "25:00", durationMinutes: 10), "at '25:00'"),
        (MaintenanceWindow(at: "02:00"), "duration_minutes"),
        (MaintenanceWindow(at: "02:00", durationMinutes: 10, days: ["someday"]), "day 'someday'"),
        (MaintenanceWindow(at: "02:00", durationMinutes: 10, timeZone: "Mars/Olympus"), "unknown time_zone"),
        (MaintenanceWindow(durationMinutes: 10), "either from and until"),
    ])
    func malformed(window: MaintenanceWindow, message: String) {
        #expect(throws: CheckFailure.self) { try window.schedule() }
        do {
            _ = try window.schedule()
        } catch {
            #expect(error.errorClass == .invalidMonitor)
            #expect(error.message.contains(message), "\(error.message)")
        }
    }

    @Test("alert settings out of range make the monitor invalid")
    func settings() {
        let monitor = Monitor(id: 1, name: "m", type: "port", target: "127.0.0.1:9", intervalSeconds: 30, timeoutMilliseconds: 1000,
                              settings: #"{"failure_threshold": 0}"#)
        #expect(throws: CheckFailure.self) { try CheckSpec(monitor: monitor) }
        var valid = monitor
        valid.settings = #"{"failure_threshold": 3, "recovery_threshold": 2, "reminder_minutes": 30, "maintenance": [{"at": "02:00", "duration_minutes": 60, "days": ["sun"], "time_zone": "America/New_York"}]}"#
        let spec = try? CheckSpec(monitor: valid)
        #expect(spec?.alerts.failureThreshold == 3 && spec?.alerts.recoveryThreshold == 2)
        #expect(spec?.alerts.reminderMilliseconds == 30 * 60_000 && spec?.alerts.maintenance.count == 1)
    }
}
