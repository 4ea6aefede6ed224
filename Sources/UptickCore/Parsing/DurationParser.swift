import Foundation

/// Parses the human durations used on the command line and in YAML: `500ms`, `30s`, `5m`, `2h`, `30d`, or a bare number of seconds.
public enum DurationParser {
    /// The duration in milliseconds, or `nil` when `text` is not a duration.
    public static func milliseconds(_ text: String) -> Int64? {
        let trimmed = text.trimmingCharacters(in: .whitespaces).lowercased()
        let units: [(suffix: String, factor: Int64)] = [("ms", 1), ("s", 1000), ("m", 60_000), ("h", 3_600_000), ("d", 86_400_000)]
        let unit = units.first { trimmed.hasSuffix($0.suffix) } ?? ("", 1000)
        guard let value = Int64(trimmed.dropLast(unit.suffix.count)), value >= 0 else { return nil }
        let (product, overflow) = value.multipliedReportingOverflow(by: unit.factor)
        return overflow ? nil : product
    }

    /// A span for people, in the largest fitting unit: `45 s`, `12 min`, `3 h 5 min`.
    public static func text(milliseconds: Int64) -> String {
        let seconds = max(0, milliseconds / 1000)
        if seconds < 120 { return "\(seconds) s" }
        if seconds < 7200 { return "\(seconds / 60) min" }
        return "\(seconds / 3600) h \(seconds % 3600 / 60) min"
    }
}
