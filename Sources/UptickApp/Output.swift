import Foundation
package import UptickCore
package import UptickStore
package import UptickEngine
package import UptickQueue

/// How the CLI prints: JSON for machines (snake_case keys, like the schema), aligned text for people.
package enum Output {
    /// Pretty JSON with snake_case keys and sorted fields.
    package static func json(_ value: some Encodable) -> String {
        let encoder = JSONEncoder()
        encoder.keyEncodingStrategy = .convertToSnakeCase
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        return String(decoding: (try? encoder.encode(value)) ?? Data("null".utf8), as: UTF8.self)
    }

    /// `2026-11-30T00:50:01.250Z`, or `-` for none.
    package static func time(_ milliseconds: EpochMilliseconds?) -> String {
        guard let milliseconds else { return "-" }
        let date = Date(timeIntervalSince1970: Double(milliseconds) / 1000)
        return date.formatted(.iso8601.year().month().day().time(includingFractionalSeconds: true).timeZone(separator: .omitted))
    }

    /// `12.3 ms`, or `-` for none.
    package static func latency(_ microseconds: Int64?) -> String {
        guard let microseconds else { return "-" }
        return String(format: "%.1f ms", Double(microseconds) / 1000)
    }

    /// Left-aligned columns separated by two spaces.
    package static func table(_ header: [String], _ rows: [[String]]) -> String {
        let all = [header] + rows
        let widths = header.indices.map { column in all.map { $0[column].count }.max() ?? 0 }
        return all.map { row in
            row.enumerated().map { $0.element.padding(toLength: widths[$0.offset], withPad: " ", startingAt: 0) }
                .joined(separator: "  ").trimmingCharacters(in: .whitespaces)
        }.joined(separator: "\n")
    }

    /// The last 24 hours as 24 characters, oldest first: `█` every check good, `▅` some down, `▁` most down, `·` no check.
    /// With `color`, green, yellow and red as well (for a terminal; NO_COLOR turns it off).
    package static func hourBars(_ hours: [Rollup], now: EpochMilliseconds, color: Bool) -> String {
        let hour = Rollup.Resolution.hourly.milliseconds
        let first = Rollup.Resolution.hourly.periodStart(now) - 23 * hour
        let byStart = Dictionary(hours.map { ($0.periodStart, $0) }, uniquingKeysWith: { first, _ in first })
        return (0..<24).map { index -> String in
            guard let uptime = byStart[first + Int64(index) * hour]?.uptime else { return "·" }
            let (bar, code) = uptime >= 1 ? ("█", "32") : uptime >= 0.5 ? ("▅", "33") : ("▁", "31")
            return color ? "\u{1B}[\(code)m\(bar)\u{1B}[0m" : bar
        }.joined()
    }

    /// One line per committed result, as the daemon prints them.
    package static func line(_ outcome: CheckOutcome) -> String {
        let result = outcome.result
        var parts = [time(outcome.startedAt), "#\(outcome.monitorID)", outcome.monitorName, result.status.rawValue.uppercased(), latency(result.durationMicroseconds)]
        if let errorClass = result.errorClass { parts.append("[\(errorClass.rawValue)]") }
        if let message = result.message { parts.append(message) }
        if let transition = outcome.transition { parts.append("(was \(transition.from.rawValue))") }
        return parts.joined(separator: "  ")
    }

    /// `uptick check`'s human output: the verdict, then where the time went.
    package static func breakdown(_ result: CheckResult, target: String) -> String {
        var head = [result.status.rawValue.uppercased(), target]
        if let code = result.httpStatus { head.append("HTTP \(code)") }
        if let errorClass = result.errorClass { head.append("[\(errorClass.rawValue)]") }
        if let message = result.message { head.append(message) }
        let timings = result.timings
        let rows: [(String, Int64?)] = [
            ("dns", timings.dnsMicroseconds), ("connect", timings.connectMicroseconds), ("tls", timings.tlsMicroseconds),
            ("first byte", timings.firstByteMicroseconds), ("total", result.durationMicroseconds),
        ]
        var lines = [head.joined(separator: "  ")] + rows.map { "  " + $0.0.padding(toLength: 11, withPad: " ", startingAt: 0) + latency($0.1) }
        if let ping = result.details?.ping {
            let rtts = [ping.rttMinMicroseconds, ping.rttAvgMicroseconds, ping.rttMaxMicroseconds].map { latency($0) }.joined(separator: " / ")
            lines.append("  rtt        \(rtts) (min / avg / max), \(ping.received)/\(ping.sent) replies")
        }
        for (index, url) in (result.details?.redirects ?? []).enumerated() {
            lines.append("  redirect \(index + 1) \(url)")
        }
        return lines.joined(separator: "\n")
    }

    /// The end-of-tick summary.
    package static func summary(_ report: EngineReport, elapsedMilliseconds: Int64) -> String {
        var text = "claimed \(report.claimed), up \(report.up), degraded \(report.degraded), down \(report.down), "
            + "status changes \(report.transitions), \(elapsedMilliseconds) ms"
        if !report.unpersisted.isEmpty { text += ", \(report.unpersisted.count) results spooled" }
        return text
    }

    /// A dispatcher run's summary.
    package static func summary(_ report: DispatchReport) -> String {
        var text = "claimed \(report.claimed), sent \(report.sent) in \(report.messages) messages (\(report.sendCalls) batch calls)"
        if report.released > 0 { text += ", released \(report.released)" }
        if report.oversized > 0 { text += ", \(report.oversized) too large to queue" }
        if report.leftToLease > 0 { text += ", \(report.leftToLease) left to their leases" }
        if let error = report.errors.last { text += "; last error: \(error)" }
        return text
    }
}
