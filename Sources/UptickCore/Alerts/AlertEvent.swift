import Foundation

/// What an alert announces.
package enum AlertKind: String, Sendable, Codable, CaseIterable {
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
package struct Notice: Sendable, Hashable, Codable {
    package var kind: AlertKind
    /// The status receivers were last told about (`nil`: nothing yet).
    package var previous: MonitorStatus?
    /// The incident it is about: the open one for `down` and `reminder`, the announced one for a recovery.
    package var incidentOpenedAt: EpochMilliseconds?
    /// Why it comes now, when that is not obvious (after maintenance, after flapping).
    package var note: String?

    package init(kind: AlertKind, previous: MonitorStatus?, incidentOpenedAt: EpochMilliseconds? = nil, note: String? = nil) {
        self.kind = kind
        self.previous = previous
        self.incidentOpenedAt = incidentOpenedAt
        self.note = note
    }
}

/// An incident opening or closing, stored in `incidents` with the check that caused it.
package enum IncidentChange: Sendable, Hashable, Codable {
    /// Confirmed down at `at`; the cause is the confirming check's error.
    case opened(at: EpochMilliseconds, errorClass: ErrorClass?, message: String?)
    /// No longer down.
    case resolved(openedAt: EpochMilliseconds, at: EpochMilliseconds)
}

/// The alerting side of one check: the incident it opens or resolves and the events it announces.
/// Persisted in the same transaction as the check (`incidents`, `outbox`).
package struct AlertEffects: Sendable, Hashable, Codable {
    package var incident: IncidentChange?
    package var events: [AlertEvent]

    package init(incident: IncidentChange? = nil, events: [AlertEvent] = []) {
        self.incident = incident
        self.events = events
    }
}

/// One notification, as every channel receives it. The `payload` is the documented webhook body
/// (docs/alerting.md); `id` is stable, so a receiver can drop duplicates of an at-least-once delivery.
package struct AlertEvent: Sendable, Hashable, Codable {
    package var payload: AlertPayload

    package init(payload: AlertPayload) {
        self.payload = payload
    }

    package var id: String { payload.id }
    package var kind: AlertKind { payload.kind }
    package var monitorID: Int64? { payload.monitor?.id }

    /// The id of the event `kind` caused by the check of `monitorID` for slot `slot`: the same check
    /// always gives the same id, so persisting a batch twice cannot announce anything twice.
    package static func id(monitorID: Int64, slot: EpochMilliseconds, kind: AlertKind) -> String {
        "evt_\(monitorID)_\(slot)_\(kind.rawValue)"
    }

    /// The key of an incident, used as its id for receivers and as PagerDuty's `dedup_key`.
    package static func incidentKey(monitorID: Int64, openedAt: EpochMilliseconds) -> String {
        "inc_\(monitorID)_\(openedAt)"
    }
}

/// The webhook body, version 1. Field names are the wire names (snake case); times are epoch milliseconds.
package struct AlertPayload: Sendable, Hashable, Codable {
    package var version = 1
    package var id: String
    /// `monitor.down`, `monitor.up`, `monitor.degraded`, `monitor.flapping`, `monitor.reminder` or `test`.
    package var type: String
    package var kind: AlertKind
    /// When the event was decided (the check's start).
    package var timestamp: EpochMilliseconds
    package var monitor: MonitorInfo?
    package var status: StatusInfo?
    package var incident: IncidentInfo?
    package var check: CheckInfo?
    package var note: String?

    package init(id: String, kind: AlertKind, timestamp: EpochMilliseconds, monitor: MonitorInfo? = nil, status: StatusInfo? = nil,
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

    package struct MonitorInfo: Sendable, Hashable, Codable {
        package var id: Int64
        package var key: String?
        package var name: String
        package var type: String
        package var target: String

        package init(id: Int64, key: String?, name: String, type: String, target: String) {
            self.id = id
            self.key = key
            self.name = name
            self.type = type
            self.target = target
        }
    }

    package struct StatusInfo: Sendable, Hashable, Codable {
        /// What receivers were last told; `nil` for a monitor's first announcement.
        package var previous: MonitorStatus?
        package var current: MonitorStatus
        /// When the current status was confirmed.
        package var since: EpochMilliseconds?

        package init(previous: MonitorStatus?, current: MonitorStatus, since: EpochMilliseconds?) {
            self.previous = previous
            self.current = current
            self.since = since
        }
    }

    package struct IncidentInfo: Sendable, Hashable, Codable {
        package var id: String
        package var openedAt: EpochMilliseconds
        package var resolvedAt: EpochMilliseconds?

        enum CodingKeys: String, CodingKey {
            case id
            case openedAt = "opened_at"
            case resolvedAt = "resolved_at"
        }

        package init(id: String, openedAt: EpochMilliseconds, resolvedAt: EpochMilliseconds?) {
            self.id = id
            self.openedAt = openedAt
            self.resolvedAt = resolvedAt
        }
    }

    package struct CheckInfo: Sendable, Hashable, Codable {
        package var scheduledAt: EpochMilliseconds
        package var startedAt: EpochMilliseconds
        package var status: CheckStatus
        package var errorClass: ErrorClass?
        package var message: String?
        package var httpStatus: Int?
        package var durationMilliseconds: Double

        enum CodingKeys: String, CodingKey {
            case status, message
            case scheduledAt = "scheduled_at"
            case startedAt = "started_at"
            case errorClass = "error_class"
            case httpStatus = "http_status"
            case durationMilliseconds = "duration_ms"
        }

        package init(scheduledAt: EpochMilliseconds, startedAt: EpochMilliseconds, result: CheckResult) {
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
    package func effects(monitor: Monitor, slot: EpochMilliseconds, startedAt: EpochMilliseconds, result: CheckResult) -> AlertEffects? {
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
    package var json: String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return String(decoding: (try? encoder.encode(self)) ?? Data("{}".utf8), as: UTF8.self)
    }
}
