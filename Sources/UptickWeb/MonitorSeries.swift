import Synchronization
import UptickCore

/// The opt-in per-monitor series (`uptick_monitor_*`), like blackbox_exporter's `probe_*` but for every monitor at
/// once: bounded to `limit` monitors (the first seen; the others are counted as dropped), each forgotten once it has
/// not been checked for three of its intervals (deleted or disabled), so a scrape's size stays bounded.
final class MonitorSeries: Sendable {
    struct Sample: Sendable {
        var name: String
        var type: String
        var target: String
        var up: Bool
        var durationMicroseconds: Int64
        var checkedAt: EpochMilliseconds
        var certificateExpiry: EpochMilliseconds?
        var intervalMilliseconds: Int64
    }

    let limit: Int
    private let samples = Mutex<[Int64: Sample]>([:])

    init(limit: Int) {
        self.limit = limit
    }

    /// Records a monitor's latest check; false when it is not kept (the limit is reached).
    func record(_ monitor: Monitor, _ outcome: CheckOutcome) -> Bool {
        let sample = Sample(
            name: monitor.name, type: monitor.displayType, target: monitor.displayTarget, up: outcome.result.status != .down,
            durationMicroseconds: outcome.result.durationMicroseconds, checkedAt: outcome.startedAt,
            certificateExpiry: outcome.result.details?.tls?.notAfter, intervalMilliseconds: max(1, monitor.intervalSeconds) * 1000
        )
        return samples.withLock { samples in
            guard samples[monitor.id] != nil || samples.count < limit else { return false }
            samples[monitor.id] = sample
            return true
        }
    }

    /// The series in the text format, after forgetting monitors not checked for three intervals.
    func exposition(now: EpochMilliseconds) -> String {
        let current = samples.withLock { samples in
            samples = samples.filter { now - $0.value.checkedAt <= 3 * $0.value.intervalMilliseconds + 60_000 }
            return samples.sorted { $0.key < $1.key }
        }
        var families: [(name: String, help: String, lines: [String])] = [
            ("uptick_monitor_up", "1 unless the monitor's latest check was down.", []),
            ("uptick_monitor_check_duration_seconds", "Duration of the monitor's latest check.", []),
            ("uptick_monitor_last_check_timestamp_seconds", "When the monitor's latest check started (Unix time).", []),
            ("uptick_monitor_cert_expiry_timestamp_seconds", "When the certificate seen by the latest check expires (Unix time).", []),
        ]
        for (id, sample) in current {
            let labels = "monitor_id=\"\(id)\",name=\"\(Self.escape(sample.name))\",type=\"\(sample.type)\",target=\"\(Self.escape(sample.target))\""
            families[0].lines.append("uptick_monitor_up{\(labels)} \(sample.up ? 1 : 0)")
            families[1].lines.append("uptick_monitor_check_duration_seconds{\(labels)} \(Self.seconds(micro: sample.durationMicroseconds))")
            families[2].lines.append("uptick_monitor_last_check_timestamp_seconds{\(labels)} \(Self.seconds(milli: sample.checkedAt))")
            if let expiry = sample.certificateExpiry {
                families[3].lines.append("uptick_monitor_cert_expiry_timestamp_seconds{\(labels)} \(Self.seconds(milli: expiry))")
            }
        }
        return families.filter { !$0.lines.isEmpty }.map { family in
            "# HELP \(family.name) \(family.help)\n# TYPE \(family.name) gauge\n" + family.lines.joined(separator: "\n") + "\n"
        }.joined()
    }

    /// A label value in the text format: backslash, double quote and line feed escaped.
    static func escape(_ value: String) -> String {
        var escaped = ""
        escaped.reserveCapacity(value.utf8.count)
        for character in value.unicodeScalars {
            switch character {
            case "\\": escaped += "\\\\"
            case "\"": escaped += "\\\""
            case "\n": escaped += "\\n"
            default: escaped.unicodeScalars.append(character)
            }
        }
        return escaped
    }

    static func seconds(micro: Int64) -> String { String(Double(micro) / 1_000_000) }
    static func seconds(milli: Int64) -> String { String(Double(milli) / 1_000) }
}
