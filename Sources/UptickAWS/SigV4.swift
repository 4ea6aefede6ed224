package import Foundation
import Crypto

/// AWS credentials, as Lambda and every AWS tool pass them: `AWS_ACCESS_KEY_ID`, `AWS_SECRET_ACCESS_KEY` and,
/// for temporary credentials (a Lambda's role), `AWS_SESSION_TOKEN`.
package struct AWSCredentials: Sendable, Hashable {
    package var accessKeyID: String
    package var secretAccessKey: String
    package var sessionToken: String?

    package init(accessKeyID: String, secretAccessKey: String, sessionToken: String? = nil) {
        self.accessKeyID = accessKeyID
        self.secretAccessKey = secretAccessKey
        self.sessionToken = sessionToken
    }

    /// The credentials in `environment`, or why there are none.
    package static func environment(_ environment: [String: String]) throws(AWSConfigurationError) -> AWSCredentials {
        guard let key = environment["AWS_ACCESS_KEY_ID"], !key.isEmpty,
              let secret = environment["AWS_SECRET_ACCESS_KEY"], !secret.isEmpty else {
            throw AWSConfigurationError("AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY must be set (Lambda sets them from the function's role)")
        }
        let token = environment["AWS_SESSION_TOKEN"].flatMap { $0.isEmpty ? nil : $0 }
        return AWSCredentials(accessKeyID: key, secretAccessKey: secret, sessionToken: token)
    }
}

/// Why the AWS client cannot be configured.
package struct AWSConfigurationError: Error, CustomStringConvertible {
    package var description: String
    package init(_ description: String) { self.description = description }
}

/// Signature Version 4 (https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_sigv-create-signed-request.html),
/// header form, for services other than S3: the path is normalized and each segment of it as sent is encoded again,
/// the payload is hashed, every header given is signed. Checked against the aws-sig-v4-test-suite vectors and
/// against botocore's signer (Tests/UptickAWSTests).
package struct SigV4Signer: Sendable {
    package var credentials: AWSCredentials
    package var region: String
    package var service: String

    package init(credentials: AWSCredentials, region: String, service: String) {
        self.credentials = credentials
        self.region = region
        self.service = service
    }

    /// The request's parts that are signed. `headers` must include `Host`; their names are case-insensitive.
    package struct Request: Sendable {
        package var method: String
        /// The path as sent.
        package var path: String
        /// The query string as sent (`a=1&b=2`), or empty.
        package var query: String
        package var headers: [(name: String, value: String)]
        package var body: [UInt8]

        package init(method: String, path: String, query: String = "", headers: [(name: String, value: String)], body: [UInt8] = []) {
            self.method = method
            self.path = path
            self.query = query
            self.headers = headers
            self.body = body
        }
    }

    /// The headers to add to `request` to sign it at `date`: `X-Amz-Date`, `X-Amz-Security-Token` with temporary
    /// credentials, and `Authorization`.
    package func signingHeaders(for request: Request, at date: Date) -> [(name: String, value: String)] {
        var added = [(name: "X-Amz-Date", value: Self.timestamp(date))]
        if let token = credentials.sessionToken { added.append((name: "X-Amz-Security-Token", value: token)) }
        var signed = request
        signed.headers += added
        added.append((name: "Authorization", value: authorization(for: signed, at: date)))
        return added
    }

    /// The `Authorization` value for a request that already carries its `X-Amz-Date` (and token) headers.
    package func authorization(for request: Request, at date: Date) -> String {
        let canonical = canonicalRequest(request)
        let scope = "\(Self.day(date))/\(region)/\(service)/aws4_request"
        let stringToSign = "AWS4-HMAC-SHA256\n\(Self.timestamp(date))\n\(scope)\n\(Self.hex(SHA256.hash(data: Array(canonical.text.utf8))))"
        let signature = Self.hex(HMAC<SHA256>.authenticationCode(for: Array(stringToSign.utf8), using: signingKey(day: Self.day(date))))
        return "AWS4-HMAC-SHA256 Credential=\(credentials.accessKeyID)/\(scope), SignedHeaders=\(canonical.signedHeaders), Signature=\(signature)"
    }

    /// The canonical request and the list of signed header names.
    package func canonicalRequest(_ request: Request) -> (text: String, signedHeaders: String) {
        // Names lowercased; values trimmed, inner runs of spaces folded; repeated names joined by commas in order.
        var values: [String: [String]] = [:]
        for (name, value) in request.headers {
            let folded = value.split(separator: " ", omittingEmptySubsequences: true).joined(separator: " ")
            values[name.lowercased(), default: []].append(folded.trimmingCharacters(in: .whitespacesAndNewlines))
        }
        let names = values.keys.sorted()
        let headerLines = names.map { "\($0):\(values[$0, default: []].joined(separator: ","))\n" }.joined()
        let signedHeaders = names.joined(separator: ";")
        let payloadHash = Self.hex(SHA256.hash(data: request.body))
        let text = [request.method, Self.canonicalPath(request.path), Self.canonicalQuery(request.query), headerLines, signedHeaders, payloadHash]
            .joined(separator: "\n")
        return (text, signedHeaders)
    }

    private func signingKey(day: String) -> SymmetricKey {
        var key = SymmetricKey(data: Array("AWS4\(credentials.secretAccessKey)".utf8))
        for part in [day, region, service, "aws4_request"] {
            key = SymmetricKey(data: Data(HMAC<SHA256>.authenticationCode(for: Array(part.utf8), using: key)))
        }
        return key
    }

    /// Dot segments removed, then each segment of the path as sent percent-encoded again (every service but S3:
    /// a path sent as `/a%20b` is signed as `/a%2520b`).
    static func canonicalPath(_ path: String) -> String {
        var segments: [Substring] = []
        for segment in path.split(separator: "/", omittingEmptySubsequences: true) {
            switch segment {
            case ".": continue
            case "..": _ = segments.popLast()
            default: segments.append(segment)
            }
        }
        let encoded = segments.map { encode(String($0)) }
        let trailing = path.hasSuffix("/") && !segments.isEmpty ? "/" : ""
        return "/" + encoded.joined(separator: "/") + trailing
    }

    /// Parameters sorted by encoded name, then value; each name and value decoded once and encoded per RFC 3986.
    static func canonicalQuery(_ query: String) -> String {
        guard !query.isEmpty else { return "" }
        let pairs = query.split(separator: "&", omittingEmptySubsequences: true).map { parameter -> (String, String) in
            let parts = parameter.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            let name = String(parts[0]).removingPercentEncoding ?? String(parts[0])
            let value = parts.count > 1 ? (String(parts[1]).removingPercentEncoding ?? String(parts[1])) : ""
            return (encode(name), encode(value))
        }
        return pairs.sorted { $0.0 == $1.0 ? $0.1 < $1.1 : $0.0 < $1.0 }.map { "\($0.0)=\($0.1)" }.joined(separator: "&")
    }

    /// RFC 3986 encoding: everything but `A-Z a-z 0-9 - . _ ~` as `%XX`, uppercase, of its UTF-8 bytes.
    static func encode(_ text: String) -> String {
        var out = ""
        for byte in text.utf8 {
            switch byte {
            case UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "0")...UInt8(ascii: "9"),
                 UInt8(ascii: "-"), UInt8(ascii: "."), UInt8(ascii: "_"), UInt8(ascii: "~"):
                out.unicodeScalars.append(Unicode.Scalar(byte))
            default:
                out += "%" + String(byte, radix: 16, uppercase: true).leftPadded(to: 2)
            }
        }
        return out
    }

    /// `20150830T123600Z`.
    static func timestamp(_ date: Date) -> String {
        let c = utc(date)
        return "\(c.year)\(c.month)\(c.day)T\(c.hour)\(c.minute)\(c.second)Z"
    }

    /// `20150830`.
    static func day(_ date: Date) -> String {
        let c = utc(date)
        return "\(c.year)\(c.month)\(c.day)"
    }

    private static func utc(_ date: Date) -> (year: String, month: String, day: String, hour: String, minute: String, second: String) {
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = TimeZone(identifier: "UTC") ?? .current
        let c = calendar.dateComponents([.year, .month, .day, .hour, .minute, .second], from: date)
        func two(_ value: Int?) -> String { String(value ?? 0).leftPadded(to: 2) }
        return (String(c.year ?? 1970).leftPadded(to: 4), two(c.month), two(c.day), two(c.hour), two(c.minute), two(c.second))
    }

    static func hex<Bytes: Sequence>(_ bytes: Bytes) -> String where Bytes.Element == UInt8 {
        bytes.map { String($0, radix: 16).leftPadded(to: 2) }.joined()
    }
}

extension String {
    func leftPadded(to width: Int) -> String {
        count >= width ? self : String(repeating: "0", count: width - count) + self
    }
}
