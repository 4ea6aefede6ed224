import Foundation

/// A set of acceptable HTTP status codes, written as a list of codes and ranges: `200-299,301`.
public struct StatusCodeSet: Sendable, Hashable, Codable, CustomStringConvertible {
    /// Inclusive ranges, in the order written.
    public let ranges: [ClosedRange<Int>]

    /// The default expectation: any 2xx after redirects.
    public static let success = StatusCodeSet(ranges: [200...299])

    /// The codes in `ranges`.
    public init(ranges: [ClosedRange<Int>]) { self.ranges = ranges }

    /// Parses `200-299,301`; `nil` when any part is not a code or range within 100...599.
    public init?(parsing text: String) {
        var ranges: [ClosedRange<Int>] = []
        for part in text.split(separator: ",", omittingEmptySubsequences: false) {
            let bounds = part.split(separator: "-", omittingEmptySubsequences: false)
                .map { Int($0.trimmingCharacters(in: .whitespaces)) }
            guard (1...2).contains(bounds.count), let low = bounds.first ?? nil, let high = bounds.last ?? nil,
                  low <= high, (100...599).contains(low), (100...599).contains(high) else { return nil }
            ranges.append(low...high)
        }
        self.ranges = ranges
    }

    /// Whether `code` is acceptable.
    public func contains(_ code: Int) -> Bool { ranges.contains { $0.contains(code) } }

    /// `200-299,301` form.
    public var description: String {
        ranges.map { $0.lowerBound == $0.upperBound ? "\($0.lowerBound)" : "\($0.lowerBound)-\($0.upperBound)" }
            .joined(separator: ",")
    }

    /// Decodes the `200-299,301` text form.
    public init(from decoder: any Decoder) throws {
        let container = try decoder.singleValueContainer()
        let text = try container.decode(String.self)
        guard let parsed = StatusCodeSet(parsing: text) else {
            throw DecodingError.dataCorruptedError(in: container, debugDescription: "expected codes and ranges like 200-299,301, got \(text)")
        }
        self = parsed
    }

    /// Encodes the `200-299,301` text form.
    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(description)
    }
}
