import Foundation
import UptickCore
import UptickStore

/// The read-only JSON API's documents (docs/openapi.yaml). Times are RFC 3339 strings in UTC; the cursors a client
/// passes back (`before`, `from`) are Unix milliseconds. A target and a check's message are shown only to a client
/// with the operator's token: public readers see names, statuses, numbers and error classes.
enum API {
    struct Uptime: Encodable {
        var last24h: Double?
        var last30d: Double?
        var last90d: Double?

        enum CodingKeys: String, CodingKey {
            case last24h = "24h", last30d = "30d", last90d = "90d"
        }
    }

    struct MonitorDocument: Encodable {
        var id: Int64
        var name: String
        var type: String
        var target: String?
        var status: String
        var statusChangedAt: String?
        var lastCheckedAt: String?
        var intervalSeconds: Int64
        var uptime: Uptime

        init(_ view: MonitorView, full: Bool) {
            let monitor = view.monitor
            id = monitor.id
            name = monitor.name
            type = monitor.displayType
            target = full ? monitor.displayTarget : nil
            status = monitor.state.status.rawValue
            statusChangedAt = monitor.state.statusChangedAt.map(Markup.timestamp)
            lastCheckedAt = monitor.lastCheckedAt.map(Markup.timestamp)
            intervalSeconds = monitor.intervalSeconds
            uptime = Uptime(last24h: view.uptime24h, last30d: view.uptime30d, last90d: view.uptime90d)
        }
    }

    struct MonitorList: Encodable {
        var monitors: [MonitorDocument]
        var total: Int
        var page: Int
        var perPage: Int
    }

    struct CheckDocument: Encodable {
        var scheduledAt: String
        var startedAt: String
        var status: String
        var errorClass: String?
        var httpStatus: Int?
        var durationMs: Double
        var message: String?

        init(_ record: CheckRecord, full: Bool) {
            scheduledAt = Markup.timestamp(record.scheduledAt)
            startedAt = Markup.timestamp(record.startedAt)
            status = record.result.status.rawValue
            errorClass = record.result.errorClass?.rawValue
            httpStatus = record.result.httpStatus
            durationMs = Double(record.result.durationMicroseconds) / 1000
            message = full ? record.result.message : nil
        }
    }

    struct CheckList: Encodable {
        var checks: [CheckDocument]
        /// Pass as `before` for the next (older) page; absent on the last page.
        var nextBefore: Int64?
    }

    struct RollupDocument: Encodable {
        var periodStart: String
        var checks: Int64
        var up: Int64
        var degraded: Int64
        var down: Int64
        var uptime: Double?
        var meanMs: Double?
        var p50Ms: Double?
        var p95Ms: Double?
        var maxMs: Double?

        init(_ rollup: Rollup) {
            periodStart = Markup.timestamp(rollup.periodStart)
            checks = rollup.checks
            up = rollup.up
            degraded = rollup.degraded
            down = rollup.down
            uptime = rollup.uptime
            meanMs = rollup.checks > 0 ? Double(rollup.durationSumMicroseconds) / Double(rollup.checks) / 1000 : nil
            p50Ms = rollup.p50Microseconds.map { Double($0) / 1000 }
            p95Ms = rollup.p95Microseconds.map { Double($0) / 1000 }
            maxMs = rollup.checks > 0 ? Double(rollup.latency.maximum) / 1000 : nil
        }
    }

    struct RollupList: Encodable {
        var resolution: String
        var rollups: [RollupDocument]
        /// Pass as `from` for the next (newer) page; absent on the last page.
        var nextFrom: Int64?
    }

    struct IncidentDocument: Encodable {
        var id: Int64
        var monitorId: Int64
        var monitorName: String?
        var openedAt: String
        var resolvedAt: String?
        var cause: String
        var causeClass: String?
        var causeMessage: String?

        init(_ incident: IncidentRecord, full: Bool) {
            id = incident.id
            monitorId = incident.monitorID
            monitorName = incident.monitorName
            openedAt = Markup.timestamp(incident.openedAt)
            resolvedAt = incident.resolvedAt.map(Markup.timestamp)
            cause = Markup.cause(incident.causeClass)
            causeClass = incident.causeClass
            causeMessage = full ? incident.causeMessage : nil
        }
    }

    struct IncidentList: Encodable {
        var incidents: [IncidentDocument]
        var nextBefore: Int64?
    }

    struct Problem: Encodable {
        var error: String
    }

    static let encoder: JSONEncoder = {
        let encoder = JSONEncoder()
        encoder.keyEncodingStrategy = .convertToSnakeCase
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return encoder
    }()

    static func json(_ value: some Encodable) -> String {
        (try? encoder.encode(value)).map { String(decoding: $0, as: UTF8.self) } ?? #"{"error":"encoding failed"}"#
    }
}
