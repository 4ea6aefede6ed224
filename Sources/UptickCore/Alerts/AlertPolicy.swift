/// When a monitor's verdicts become a confirmed status, and when a confirmed status is announced.
/// Decoded from the monitor's settings (docs/alerting.md); every field has a default.
public struct AlertPolicy: Sendable, Hashable {
    /// Consecutive checks at least this bad before the status gets worse (up → degraded → down).
    public var failureThreshold = 2
    /// Consecutive checks at least this good before the status gets better.
    public var recoveryThreshold = 1
    /// Announce `degraded`. When off, degraded counts as up for notifications (the status is still stored).
    public var notifyDegraded = true
    /// More than this many confirmed status changes within ``flapWindowMilliseconds`` is flapping; 0 turns detection off.
    public var flapThreshold = 5
    /// The window in which status changes are counted for flapping.
    public var flapWindowMilliseconds: Int64 = 10 * 60_000
    /// While an incident is open, remind every this often; `nil`: never.
    public var reminderMilliseconds: Int64?
    /// When alerts are held.
    public var maintenance: [MaintenanceWindow.Schedule] = []

    /// The largest threshold: the verdict history keeps this many checks.
    public static let maxThreshold = 10

    /// The defaults (docs/alerting.md).
    public init() {}

    /// The policy in `settings`, or an `invalid_monitor` failure naming the bad field.
    public init(settings: MonitorSettings) throws(CheckFailure) {
        if let value = settings.failureThreshold {
            guard (1...Self.maxThreshold).contains(value) else { throw Self.invalid("failure_threshold", value, "1 and \(Self.maxThreshold)") }
            failureThreshold = value
        }
        if let value = settings.recoveryThreshold {
            guard (1...Self.maxThreshold).contains(value) else { throw Self.invalid("recovery_threshold", value, "1 and \(Self.maxThreshold)") }
            recoveryThreshold = value
        }
        notifyDegraded = settings.notifyDegraded ?? true
        if let value = settings.flapThreshold {
            guard (0...100).contains(value) else { throw Self.invalid("flap_threshold", value, "0 and 100") }
            flapThreshold = value
        }
        if let value = settings.flapWindowMinutes {
            guard (1...24 * 60).contains(value) else { throw Self.invalid("flap_window_minutes", value, "1 and 1440") }
            flapWindowMilliseconds = Int64(value) * 60_000
        }
        if let value = settings.reminderMinutes {
            guard (1...7 * 24 * 60).contains(value) else { throw Self.invalid("reminder_minutes", value, "1 and 10080") }
            reminderMilliseconds = Int64(value) * 60_000
        }
        maintenance = try (settings.maintenance ?? []).map { window throws(CheckFailure) in try window.schedule() }
    }

    /// Whether alerts are held at `time` for maintenance.
    public func inMaintenance(at time: EpochMilliseconds) -> Bool {
        maintenance.contains { $0.contains(time) }
    }

    private static func invalid(_ field: String, _ value: Int, _ range: String) -> CheckFailure {
        CheckFailure(.invalidMonitor, "\(field) must be between \(range), got \(value)")
    }
}
