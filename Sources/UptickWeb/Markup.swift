import Foundation
import UptickCore

/// Escaping and formatting shared by the page, the badges and the API.
enum Markup {
    /// Text for HTML content and attribute values (and XML, for SVG): the five characters that matter escaped.
    static func escape(_ text: String) -> String {
        var escaped = ""
        escaped.reserveCapacity(text.utf8.count)
        for character in text.unicodeScalars {
            switch character {
            case "&": escaped += "&amp;"
            case "<": escaped += "&lt;"
            case ">": escaped += "&gt;"
            case "\"": escaped += "&quot;"
            case "'": escaped += "&#39;"
            default:
                // Control characters other than tab and line feed are not allowed in XML; they are dropped.
                if character.value < 0x20, character != "\t", character != "\n" { continue }
                escaped.unicodeScalars.append(character)
            }
        }
        return escaped
    }

    /// A share as a percentage with up to two decimals, rounded down so 99.999 % never shows as 100 %. (Integer
    /// arithmetic: a page formats thousands of these, and `String(format:)` was a measurable part of its time.)
    static func percent(_ share: Double) -> String {
        let hundredths = Int((min(max(share, 0), 1) * 10_000).rounded(.down))
        let whole = hundredths / 100, fraction = hundredths % 100
        return fraction == 0 ? "\(whole)%" : "\(whole).\(fraction < 10 ? "0" : "")\(fraction)%"
    }

    /// What a failure's class means, in words: the status page shows this, never the raw message (which may carry
    /// an internal address or a URL's query).
    static func cause(_ errorClass: String?) -> String {
        switch errorClass.flatMap(ErrorClass.init(rawValue:)) {
        case .invalidMonitor?, .invalidTarget?: "Misconfigured check"
        case .blocked?: "Target not allowed"
        case .dns?: "Name did not resolve"
        case .dnsMismatch?: "Unexpected DNS answer"
        case .refused?: "Connection refused"
        case .timeout?: "Timed out"
        case .unreachable?: "Unreachable"
        case .reset?: "Connection reset"
        case .tls?: "TLS handshake failed"
        case .certificate?: "Certificate not valid"
        case .certificateExpiry?: "Certificate expiring"
        case .protocol?: "Invalid response"
        case .httpStatus?: "Unexpected HTTP status"
        case .redirects?: "Too many redirects"
        case .keyword?: "Unexpected content"
        case .packetLoss?: "Packet loss"
        case .slow?: "Slow responses"
        case .unsupported?: "Unsupported check"
        case .other?, nil: "Check failed"
        }
    }

    static let dayFormat: Date.FormatStyle = Date.FormatStyle(date: .abbreviated, time: .omitted, timeZone: TimeZone(identifier: "UTC")!)
    static let timeFormat: Date.FormatStyle = Date.FormatStyle(date: .abbreviated, time: .shortened, timeZone: TimeZone(identifier: "UTC")!)

    static func day(_ time: EpochMilliseconds) -> String { Date(timeIntervalSince1970: Double(time) / 1000).formatted(dayFormat) }
    static func time(_ time: EpochMilliseconds) -> String { Date(timeIntervalSince1970: Double(time) / 1000).formatted(timeFormat) + " UTC" }

    /// RFC 3339 in UTC, milliseconds included.
    static func timestamp(_ time: EpochMilliseconds) -> String {
        Date(timeIntervalSince1970: Double(time) / 1000).formatted(.iso8601.year().month().day().time(includingFractionalSeconds: true)
            .timeZone(separator: .omitted).dateSeparator(.dash).timeSeparator(.colon).dateTimeSeparator(.standard))
    }

    /// A duration in words: "12 s", "42 min", "3 h 5 min", "2 d 4 h".
    static func span(_ milliseconds: Int64) -> String {
        if milliseconds < 60_000 { return "\(max(0, milliseconds) / 1000) s" }
        let minutes = milliseconds / 60_000
        if minutes < 60 { return "\(minutes) min" }
        if minutes < 1440 { return minutes % 60 == 0 ? "\(minutes / 60) h" : "\(minutes / 60) h \(minutes % 60) min" }
        return "\(minutes / 1440) d \(minutes % 1440 / 60) h"
    }
}
