import Foundation

/// What an alert announces.
public enum AlertKind: String, Sendable, Codable, CaseIterable {
    /// Confirmed down; opens an incident.
    case down
    /// Back up after an announced problem; resolves the incident.
    case up
    /// Confirmed degraded (slow, certificate expiring).
    case degraded
    /// Changing status too often; further changes are held until it settles.
    case flapping
    /// Still down, after ``AlertPolicy/reminderMilliseconds``.
    case reminder
    /// Sent by `uptick channel test`.
    case test
}

/// A notification the status logic decided on, before it is addressed to channels.
public struct Notice: Sendable, Hashable, Codable {
    public var kind: AlertKind
    /// The status receivers were last told about (`nil`: nothing yet).
    public var previous: MonitorStatus?
    /// The incident it is about: the open one for `down` and `reminder`, the announced one for a recovery.
    public var incidentOpenedAt: EpochMilliseconds?
    /// Why it comes now, when that is not obvious (after maintenance, after flapping).
    public var note: String?

    public init(kind: AlertKind, previous: MonitorStatus?, incidentOpenedAt: EpochMilliseconds? = nil, note: String? = nil) {
        self.kind = kind
        self.previous = previous
        self.incidentOpenedAt = incidentOpenedAt
        self.note = note
    }
}

/// An incident opening or closing, stored in `incidents` with the check that caused it.
public enum IncidentChange: Sendable, Hashable, Codable {
    /// Confirmed down at `at`; the cause is the confirming check's error.
    case opened(at: EpochMilliseconds, errorClass: ErrorClass?, message: String?)
    /// No longer down.
    case resolved(openedAt: EpochMilliseconds, at: EpochMilliseconds)
}

/// The alerting side of one check: the incident it opens or resolves and the events it announces.
/// Persisted in the same transaction as the check (`incidents`, `outbox`).
public struct AlertEffects: Sendable, Hashable, Codable {
    public var incident: IncidentChange?
    public var events: [AlertEvent]

    public init(incident: IncidentChange? = nil, events: [AlertEvent] = []) {
        self.incident = incident
        self.events = events
    }
}

/// One notification, as every channel receives it. The `payload` is the documented webhook body
/// (docs/alerting.md); `id` is stable, so a receiver can drop duplicates of an at-least-once delivery.
public struct AlertEvent: Sendable, Hashable, Codable {
    public var payload: AlertPayload

    public init(payload: AlertPayload) {
        self.payload = payload
    }

    public var id: String { payload.id }
    public var kind: AlertKind { payload.kind }
    public var monitorID: Int64? { payload.monitor?.id }

    /// The id of the event `kind` caused by the check of `monitorID` for slot `slot`: the same check
    /// always gives the same id, so persisting a batch twice cannot announce anything twice.
    public static func id(monitorID: Int64, slot: EpochMilliseconds, kind: AlertKind) -> String {
        "evt_\(monitorID)_\(slot)_\(kind.rawValue)"
    }

    /// The key of an incident, used as its id for receivers and as PagerDuty's `dedup_key`.
    public static func incidentKey(monitorID: Int64, openedAt: EpochMilliseconds) -> String {
        "inc_\(monitorID)_\(openedAt)"
    }
}

/// The webhook body, version 1. Field names are the wire names (snake case); times are epoch milliseconds.
public struct AlertPayload: Sendable, Hashable, Codable {
    public var version = 1
    public var id: String
    /// `monitor.down`, `monitor.up`, `monitor.degraded`, `monitor.flapping`, `monitor.reminder` or `test`.
    public var type: String
    public var kind: AlertKind
    /// When the event was decided (the check's start).
    public var timestamp: EpochMilliseconds
    public var monitor: MonitorInfo?
    public var status: StatusInfo?
    public var incident: IncidentInfo?
    public var check: CheckInfo?
    public var note: String?

    public init(id: String, kind: AlertKind, timestamp: EpochMilliseconds, monitor: MonitorInfo? = nil, status: StatusInfo? = nil,
                incident: IncidentInfo? = nil, check: CheckInfo? = nil, note: String? = nil) {
        self.id = id
        self.type = kind == .test ? "test" : "monitor.\(kind.rawValue)"
        self.kind = kind
        self.timestamp = timestamp
        self.monitor = monitor
        self.status = status
        self.incident = incident
        self.check = check
        self.note = note
    }

    public struct MonitorInfo: Sendable, Hashable, Codable {
        public var id: Int64
        public var key: String?
        public var name: String
        public var type: String
        public var target: String

        public init(id: Int64, key: String?, name: String, type: String, target: String) {
            self.id = id
            self.key = key
            self.name = name
            self.type = type
            self.target = target
        }
    }

    public struct StatusInfo: Sendable, Hashable, Codable {
        /// What receivers were last told; `nil` for a monitor's first announcement.
        public var previous: MonitorStatus?
        public var current: MonitorStatus
        /// When the current status was confirmed.
        public var since: EpochMilliseconds?

        public init(previous: MonitorStatus?, current: MonitorStatus, since: EpochMilliseconds?) {
            self.previous = previous
            self.current = current
            self.since = since
        }
    }

    public struct IncidentInfo: Sendable, Hashable, Codable {
        public var id: String
        public var openedAt: EpochMilliseconds
        public var resolvedAt: EpochMilliseconds?

        enum CodingKeys: String, CodingKey {
            case id
            case openedAt = "opened_at"
            case resolvedAt = "resolved_at"
        }

        public init(id: String, openedAt: EpochMilliseconds, resolvedAt: EpochMilliseconds?) {
            self.id = id
            self.openedAt = openedAt
            self.resolvedAt = resolvedAt
        }
    }

    public struct CheckInfo: Sendable, Hashable, Codable {
        public var scheduledAt: EpochMilliseconds
        public var startedAt: EpochMilliseconds
        public var status: CheckStatus
        public var errorClass: ErrorClass?
        public var message: String?
        public var httpStatus: Int?
        public var durationMilliseconds: Double

        enum CodingKeys: String, CodingKey {
            case status, message
            case scheduledAt = "scheduled_at"
            case startedAt = "started_at"
            case errorClass = "error_class"
            case httpStatus = "http_status"
            case durationMilliseconds = "duration_ms"
        }

        public init(scheduledAt: EpochMilliseconds, startedAt: EpochMilliseconds, result: CheckResult) {
            self.scheduledAt = scheduledAt
            self.startedAt = startedAt
            self.status = result.status
            self.errorClass = result.errorClass
            self.message = result.message
            self.httpStatus = result.httpStatus
            self.durationMilliseconds = Double(result.durationMicroseconds) / 1000
        }
    }
}

extension MonitorState.Decision {
    /// The decision's incident change and its notices as events about `monitor`'s check for `slot`;
    /// `nil` when there is neither.
    public func effects(monitor: Monitor, slot: EpochMilliseconds, startedAt: EpochMilliseconds, result: CheckResult) -> AlertEffects? {
        guard incident != nil || !notices.isEmpty else { return nil }
        let info = AlertPayload.MonitorInfo(id: monitor.id, key: monitor.key, name: monitor.name, type: monitor.type, target: monitor.target)
        let check = AlertPayload.CheckInfo(scheduledAt: slot, startedAt: startedAt, result: result)
        let events = notices.map { notice in
            let incident = notice.incidentOpenedAt.map { opened in
                AlertPayload.IncidentInfo(
                    id: AlertEvent.incidentKey(monitorID: monitor.id, openedAt: opened), openedAt: opened,
                    resolvedAt: opened == state.incidentOpenedAt ? nil : startedAt
                )
            }
            return AlertEvent(payload: AlertPayload(
                id: AlertEvent.id(monitorID: monitor.id, slot: slot, kind: notice.kind), kind: notice.kind, timestamp: startedAt,
                monitor: info, status: .init(previous: notice.previous, current: state.status, since: state.statusChangedAt),
                incident: incident, check: check, note: notice.note
            ))
        }
        return AlertEffects(incident: incident, events: events)
    }
}

extension AlertPayload {
    /// The webhook body, as stored in `outbox.payload`: compact JSON, keys sorted.
    public var json: String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return String(decoding: (try? encoder.encode(self)) ?? Data("{}".utf8), as: UTF8.self)
    }
}
