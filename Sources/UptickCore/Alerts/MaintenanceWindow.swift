import Foundation

/// A period during which a monitor's checks continue and are stored but its alerts are held.
///
/// Either one-off (`from`–`until`, local times in `time_zone`) or recurring (`at` a local time for
/// `duration_minutes`, on `days` of the week or every day). Local times follow the zone's daylight
/// saving rules: a window "every day at 02:00 Europe/Berlin" starts at 02:00 on both sides of a change.
public struct MaintenanceWindow: Sendable, Hashable, Codable {
    /// One-off: local date and time `YYYY-MM-DDTHH:MM[:SS]`, or with an offset (`Z`, `+01:00`).
    public var from: String?
    /// The end of a one-off window (local time in `timeZone`, `YYYY-MM-DDTHH:MM`).
    public var until: String?
    /// Recurring: local start time `HH:MM`.
    public var at: String?
    /// How long a recurring window (`at`) lasts.
    public var durationMinutes: Int?
    /// Recurring: `mon`…`sun`; every day when absent.
    public var days: [String]?
    /// IANA zone name such as `Europe/Berlin`; UTC when absent.
    public var timeZone: String?

    enum CodingKeys: String, CodingKey {
        case from, until, at, days
        case durationMinutes = "duration_minutes"
        case timeZone = "time_zone"
    }

    /// A window as written: one-off (`from`, `until`) or recurring (`at`, `durationMinutes`, optional `days`).
    public init(from: String? = nil, until: String? = nil, at: String? = nil, durationMinutes: Int? = nil, days: [String]? = nil, timeZone: String? = nil) {
        self.from = from
        self.until = until
        self.at = at
        self.durationMinutes = durationMinutes
        self.days = days
        self.timeZone = timeZone
    }

    /// The longest recurring window: a week.
    public static let maxDurationMinutes = 7 * 24 * 60
    static let dayNames = ["sun", "mon", "tue", "wed", "thu", "fri", "sat"]

    /// The window in a form that answers ``Schedule/contains(_:)`` quickly, or why it is malformed.
    public func schedule() throws(CheckFailure) -> Schedule {
        guard let zone = timeZone.map({ TimeZone(identifier: $0) }) ?? TimeZone(identifier: "UTC") else {
            throw Self.invalid("unknown time_zone '\(timeZone ?? "")' (expected an IANA name such as Europe/Berlin)")
        }
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = zone
        switch (from, until, at) {
        case (let from?, let until?, nil):
            guard durationMinutes == nil, days == nil else { throw Self.invalid("a from/until window takes no duration_minutes or days") }
            let start = try Self.instant(from, calendar: calendar, field: "from")
            let end = try Self.instant(until, calendar: calendar, field: "until")
            guard start < end else { throw Self.invalid("until (\(until)) must be after from (\(from))") }
            return .once(start: start, end: end)
        case (nil, nil, let at?):
            guard let minute = Self.minuteOfDay(at) else { throw Self.invalid("at '\(at)' is not a time like 02:00") }
            guard let duration = durationMinutes, (1...Self.maxDurationMinutes).contains(duration) else {
                throw Self.invalid("a recurring window needs duration_minutes between 1 and \(Self.maxDurationMinutes)")
            }
            var weekdays = Set<Int>()
            for day in days ?? Self.dayNames {
                guard let index = Self.dayNames.firstIndex(of: day.lowercased().prefix(3).description), day.count >= 3 else {
                    throw Self.invalid("day '\(day)' is not one of mon, tue, wed, thu, fri, sat, sun")
                }
                weekdays.insert(index + 1)
            }
            guard !weekdays.isEmpty else { throw Self.invalid("days is empty") }
            return .recurring(Recurring(calendar: calendar, minuteOfDay: minute, durationMinutes: duration, weekdays: weekdays))
        default:
            throw Self.invalid("a maintenance window has either from and until, or at and duration_minutes")
        }
    }

    /// A decoded window.
    public enum Schedule: Sendable, Hashable {
        case once(start: EpochMilliseconds, end: EpochMilliseconds)
        case recurring(Recurring)

        /// Whether `time` falls inside the window (start inclusive, end exclusive).
        public func contains(_ time: EpochMilliseconds) -> Bool {
            switch self {
            case .once(let start, let end): start <= time && time < end
            case .recurring(let recurring): recurring.contains(time)
            }
        }
    }

    /// Every listed weekday at a local time, for a duration.
    public struct Recurring: Sendable, Hashable {
        var calendar: Calendar
        var minuteOfDay: Int
        var durationMinutes: Int
        /// Calendar weekdays, 1 = Sunday.
        var weekdays: Set<Int>

        func contains(_ time: EpochMilliseconds) -> Bool {
            let instant = Date(timeIntervalSince1970: Double(time) / 1000)
            let today = calendar.startOfDay(for: instant)
            // A window that started on one of the previous days may still be running.
            let lookBack = (minuteOfDay + durationMinutes) / (24 * 60) + 1
            for back in 0...lookBack {
                guard let day = calendar.date(byAdding: .day, value: -back, to: today),
                      weekdays.contains(calendar.component(.weekday, from: day)) else { continue }
                var components = calendar.dateComponents([.year, .month, .day], from: day)
                components.hour = minuteOfDay / 60
                components.minute = minuteOfDay % 60
                guard let start = calendar.date(from: components) else { continue }
                let startMilliseconds = EpochMilliseconds((start.timeIntervalSince1970 * 1000).rounded())
                if startMilliseconds <= time && time < startMilliseconds + Int64(durationMinutes) * 60_000 { return true }
            }
            return false
        }
    }

    static func invalid(_ message: String) -> CheckFailure {
        CheckFailure(.invalidMonitor, "maintenance: \(message)")
    }

    static func minuteOfDay(_ text: String) -> Int? {
        let parts = text.split(separator: ":", omittingEmptySubsequences: false)
        guard parts.count == 2, parts.allSatisfy({ $0.count == 2 }), let hour = Int(parts[0]), let minute = Int(parts[1]),
              (0..<24).contains(hour), (0..<60).contains(minute) else { return nil }
        return hour * 60 + minute
    }

    /// `2026-12-24T22:00[:SS]` in the calendar's zone, or with an explicit offset.
    static func instant(_ text: String, calendar: Calendar, field: String) throws(CheckFailure) -> EpochMilliseconds {
        if let date = try? Date(text, strategy: .iso8601) {
            return EpochMilliseconds((date.timeIntervalSince1970 * 1000).rounded())
        }
        let parts = text.split(separator: "T", omittingEmptySubsequences: false)
        let dateParts = parts.first.map { $0.split(separator: "-", omittingEmptySubsequences: false).map { Int($0) } } ?? []
        let timeParts = parts.count == 2 ? parts[1].split(separator: ":", omittingEmptySubsequences: false).map { Int($0) } : []
        guard parts.count == 2, dateParts.count == 3, (2...3).contains(timeParts.count),
              let year = dateParts[0], let month = dateParts[1], let day = dateParts[2],
              let hour = timeParts[0], let minute = timeParts[1], let second = timeParts.count == 3 ? timeParts[2] : 0,
              (1...12).contains(month), (1...31).contains(day), (0..<24).contains(hour), (0..<60).contains(minute), (0..<60).contains(second)
        else {
            throw invalid("\(field) '\(text)' is not a local date and time like 2026-12-24T22:00")
        }
        let components = DateComponents(year: year, month: month, day: day, hour: hour, minute: minute, second: second)
        // Calendar rolls 2026-02-30 over to March; a date that does not come back unchanged is not a date.
        guard let date = calendar.date(from: components),
              calendar.component(.year, from: date) == year, calendar.component(.month, from: date) == month,
              calendar.component(.day, from: date) == day else {
            throw invalid("\(field) '\(text)' is not a valid date")
        }
        return EpochMilliseconds((date.timeIntervalSince1970 * 1000).rounded())
    }
}
