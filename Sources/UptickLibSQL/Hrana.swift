import Foundation
import UptickStore

/// The JSON structures of Hrana over HTTP (libSQL's remote protocol, versions 2 and 3) that uptick uses:
/// a pipeline of one `batch` and a `close`. Field names are the wire names.
enum Hrana {
    struct PipelineRequest: Encodable {
        var baton: String?
        var requests: [StreamRequest]
    }

    enum StreamRequest: Encodable {
        case batch([BatchStep])
        case close

        enum CodingKeys: String, CodingKey { case type, batch }
        struct Steps: Encodable { var steps: [BatchStep] }

        func encode(to encoder: any Encoder) throws {
            var container = encoder.container(keyedBy: CodingKeys.self)
            switch self {
            case .batch(let steps):
                try container.encode("batch", forKey: .type)
                try container.encode(Steps(steps: steps), forKey: .batch)
            case .close:
                try container.encode("close", forKey: .type)
            }
        }
    }

    struct BatchStep: Encodable {
        var condition: Condition?
        var stmt: Statement
    }

    indirect enum Condition: Encodable {
        case ok(Int)
        case not(Condition)

        enum CodingKeys: String, CodingKey { case type, step, cond }

        func encode(to encoder: any Encoder) throws {
            var container = encoder.container(keyedBy: CodingKeys.self)
            switch self {
            case .ok(let step):
                try container.encode("ok", forKey: .type)
                try container.encode(step, forKey: .step)
            case .not(let condition):
                try container.encode("not", forKey: .type)
                try container.encode(condition, forKey: .cond)
            }
        }
    }

    struct Statement: Encodable {
        var sql: String
        var args: [Value]
        var wantRows: Bool

        enum CodingKeys: String, CodingKey {
            case sql, args
            case wantRows = "want_rows"
        }
    }

    /// A typed value: integers travel as strings (JSON numbers lose precision past 2^53), blobs as base64.
    struct Value: Codable {
        var value: SQLValue

        init(_ value: SQLValue) {
            self.value = value
        }

        enum CodingKeys: String, CodingKey { case type, value, base64 }

        func encode(to encoder: any Encoder) throws {
            var container = encoder.container(keyedBy: CodingKeys.self)
            switch value {
            case .null:
                try container.encode("null", forKey: .type)
            case .integer(let integer):
                try container.encode("integer", forKey: .type)
                try container.encode(String(integer), forKey: .value)
            case .real(let real):
                try container.encode("float", forKey: .type)
                try container.encode(real, forKey: .value)
            case .text(let text):
                try container.encode("text", forKey: .type)
                try container.encode(text, forKey: .value)
            case .blob(let bytes):
                try container.encode("blob", forKey: .type)
                try container.encode(Data(bytes).base64EncodedString(), forKey: .base64)
            }
        }

        init(from decoder: any Decoder) throws {
            let container = try decoder.container(keyedBy: CodingKeys.self)
            switch try container.decode(String.self, forKey: .type) {
            case "null":
                value = .null
            case "integer":
                let text = try container.decode(String.self, forKey: .value)
                guard let integer = Int64(text) else {
                    throw DecodingError.dataCorruptedError(forKey: .value, in: container, debugDescription: "integer '\(text)' out of range")
                }
                value = .integer(integer)
            case "float":
                value = .real(try container.decode(Double.self, forKey: .value))
            case "text":
                value = .text(try container.decode(String.self, forKey: .value))
            case "blob":
                let text = try container.decode(String.self, forKey: .base64)
                guard let data = Data(base64Encoded: text) ?? Data(base64Encoded: Self.padded(text)) else {
                    throw DecodingError.dataCorruptedError(forKey: .base64, in: container, debugDescription: "blob is not base64")
                }
                value = .blob(Array(data))
            case let other:
                throw DecodingError.dataCorruptedError(forKey: .type, in: container, debugDescription: "unknown value type '\(other)'")
            }
        }

        /// Servers may leave base64 padding out.
        static func padded(_ text: String) -> String {
            text + String(repeating: "=", count: (4 - text.count % 4) % 4)
        }
    }

    struct PipelineResponse: Decodable {
        var baton: String?
        var baseURL: String?
        var results: [StreamResult]

        enum CodingKeys: String, CodingKey {
            case baton, results
            case baseURL = "base_url"
        }
    }

    struct StreamResult: Decodable {
        var type: String
        var response: StreamResponse?
        var error: ErrorBody?
    }

    struct StreamResponse: Decodable {
        var type: String
        var result: BatchResult?
    }

    struct BatchResult: Decodable {
        var stepResults: [StatementResult?]
        var stepErrors: [ErrorBody?]

        enum CodingKeys: String, CodingKey {
            case stepResults = "step_results"
            case stepErrors = "step_errors"
        }
    }

    struct StatementResult: Decodable {
        var cols: [Column]
        var rows: [[Value]]
        var affectedRowCount: Int64

        struct Column: Decodable { var name: String? }

        enum CodingKeys: String, CodingKey {
            case cols, rows
            case affectedRowCount = "affected_row_count"
        }
    }

    struct ErrorBody: Decodable, Error {
        var message: String
        var code: String?
    }
}
