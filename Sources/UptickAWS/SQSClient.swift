package import Foundation
import NIOCore
import NIOFoundationCompat
import NIOHTTP1
import UptickHTTPClient

/// Amazon SQS over its JSON 1.0 protocol (`POST /`, `X-Amz-Target: AmazonSQS.<Action>`,
/// `Content-Type: application/x-amz-json-1.0`), signed with SigV4, with keep-alive connections to one endpoint.
/// Throttling, 5xx answers and transport failures are retried with capped, fully jittered exponential backoff;
/// everything else is a typed ``SQSError`` at once. No credential ever appears in an error or a log line.
package struct SQSClient: Sendable {
    /// The queue every call is about.
    package let queueURL: String
    let pool: HTTPConnectionPool
    let authority: String
    /// `scheme://authority` of the server spoken to.
    let endpoint: String
    let signer: SigV4Signer
    package let retry: RetryPolicy
    let now: @Sendable () -> Date

    /// Up to 10 entries per batch call, as SQS allows.
    package static let maxBatchEntries = 10
    /// The largest message SQS accepts (body and attributes), 256 KiB.
    package static let maxMessageBytes = 262_144

    /// A client for `queueURL`, talking to `endpoint` when given (an SQS-compatible server), else to the queue URL's
    /// own host. `region` signs the requests.
    package init(queueURL: String, endpoint: String? = nil, region: String, credentials: AWSCredentials, retry: RetryPolicy = RetryPolicy(),
                 now: @escaping @Sendable () -> Date = Date.init) throws(AWSConfigurationError) {
        guard let queue = URL(string: queueURL), queue.host != nil else { throw AWSConfigurationError("queue URL '\(queueURL)' is not a URL") }
        let base = endpoint ?? queueURL
        guard let url = URL(string: base), let host = url.host, let scheme = url.scheme?.lowercased(), scheme == "https" || scheme == "http" else {
            throw AWSConfigurationError("SQS endpoint '\(base)' is not an http(s) URL")
        }
        let tls = scheme == "https"
        let port = url.port ?? (tls ? 443 : 80)
        do {
            pool = try HTTPConnectionPool(origin: .init(host: host, port: port, tls: tls))
        } catch {
            throw AWSConfigurationError("SQS endpoint '\(base)': \(error)")
        }
        let bracketed = host.contains(":") ? "[\(host)]" : host
        authority = port == (tls ? 443 : 80) ? bracketed : "\(bracketed):\(port)"
        self.endpoint = "\(scheme)://\(authority)"
        self.queueURL = queueURL
        self.signer = SigV4Signer(credentials: credentials, region: region, service: "sqs")
        self.retry = retry
        self.now = now
    }

    /// The region to sign for: `AWS_REGION` (Lambda sets it), `AWS_DEFAULT_REGION`, or the one in an
    /// `sqs.<region>.amazonaws.com` queue URL.
    package static func region(environment: [String: String], queueURL: String) throws(AWSConfigurationError) -> String {
        for name in ["AWS_REGION", "AWS_DEFAULT_REGION"] {
            if let region = environment[name], !region.isEmpty { return region }
        }
        if let host = URL(string: queueURL)?.host {
            let labels = host.split(separator: ".")
            if labels.count >= 4, labels[0] == "sqs", labels[2] == "amazonaws" { return String(labels[1]) }
        }
        throw AWSConfigurationError("no AWS region: set AWS_REGION (or use an sqs.<region>.amazonaws.com queue URL)")
    }

    // MARK: Actions

    /// One entry of a batch call that SQS refused.
    package struct BatchFailure: Sendable, Hashable, Decodable {
        package var id: String
        package var code: String
        package var message: String?
        /// The request was wrong (retrying it will not help), as opposed to a fault on SQS's side.
        package var senderFault: Bool

        enum CodingKeys: String, CodingKey {
            case id = "Id", code = "Code", message = "Message", senderFault = "SenderFault"
        }

        package init(from decoder: any Decoder) throws {
            let container = try decoder.container(keyedBy: CodingKeys.self)
            id = try container.decode(String.self, forKey: .id)
            code = try container.decode(String.self, forKey: .code)
            message = try container.decodeIfPresent(String.self, forKey: .message)
            // A boolean from SQS; some compatible servers send the string "true".
            if let flag = try? container.decodeIfPresent(Bool.self, forKey: .senderFault) {
                senderFault = flag
            } else {
                senderFault = (try container.decodeIfPresent(String.self, forKey: .senderFault))?.lowercased() == "true"
            }
        }
    }

    /// Sends up to ten messages (`SendMessageBatch`), each visible after its `delaySeconds` (0…900, default 0);
    /// returns the entries that failed.
    package func sendMessageBatch(_ entries: [(id: String, body: String)], delaySeconds: [String: Int] = [:]) async throws(SQSError) -> [BatchFailure] {
        struct Entry: Encodable {
            var Id: String
            var MessageBody: String
            var DelaySeconds: Int?
        }
        struct Request: Encodable {
            var QueueUrl: String
            var Entries: [Entry]
        }
        let answer: BatchAnswer = try await call("SendMessageBatch", Request(QueueUrl: queueURL, Entries: entries.map { Entry(Id: $0.id, MessageBody: $0.body, DelaySeconds: delaySeconds[$0.id]) }))
        return answer.Failed ?? []
    }

    /// A received message.
    package struct Message: Sendable, Hashable {
        package var id: String
        package var receiptHandle: String
        package var body: String
        /// How many times SQS has handed the message out, this time included.
        package var receiveCount: Int
        /// When it was first sent, epoch milliseconds.
        package var sentAt: Int64?

        package init(id: String, receiptHandle: String, body: String, receiveCount: Int = 1, sentAt: Int64? = nil) {
            self.id = id
            self.receiptHandle = receiptHandle
            self.body = body
            self.receiveCount = receiveCount
            self.sentAt = sentAt
        }
    }

    /// Receives up to `max` (≤ 10) messages, waiting up to `wait` (≤ 20 s) for the first (`ReceiveMessage`, a long
    /// poll); they stay invisible to other consumers for `visibility`.
    package func receiveMessages(max: Int, wait: Duration, visibility: Duration) async throws(SQSError) -> [Message] {
        struct Request: Encodable {
            var QueueUrl: String
            var MaxNumberOfMessages: Int
            var WaitTimeSeconds: Int
            var VisibilityTimeout: Int
            var MessageSystemAttributeNames: [String]
        }
        struct Received: Decodable {
            var MessageId: String
            var ReceiptHandle: String
            var Body: String?
            var Attributes: [String: String]?
        }
        struct Answer: Decodable {
            var Messages: [Received]?
        }
        let waitSeconds = Int(Swift.min(Swift.max(wait.components.seconds, 0), 20))
        let answer: Answer = try await call(
            "ReceiveMessage",
            Request(QueueUrl: queueURL, MaxNumberOfMessages: Swift.min(Swift.max(max, 1), 10), WaitTimeSeconds: waitSeconds,
                    VisibilityTimeout: Int(visibility.components.seconds), MessageSystemAttributeNames: ["ApproximateReceiveCount", "SentTimestamp"]),
            timeout: .seconds(Int64(waitSeconds) + 10)
        )
        return (answer.Messages ?? []).map { received in
            Message(id: received.MessageId, receiptHandle: received.ReceiptHandle, body: received.Body ?? "",
                    receiveCount: received.Attributes?["ApproximateReceiveCount"].flatMap { Int($0) } ?? 1,
                    sentAt: received.Attributes?["SentTimestamp"].flatMap { Int64($0) })
        }
    }

    /// Deletes up to ten received messages (`DeleteMessageBatch`); returns the entries that failed.
    package func deleteMessageBatch(_ entries: [(id: String, receiptHandle: String)]) async throws(SQSError) -> [BatchFailure] {
        struct Entry: Encodable {
            var Id: String
            var ReceiptHandle: String
        }
        struct Request: Encodable {
            var QueueUrl: String
            var Entries: [Entry]
        }
        let answer: BatchAnswer = try await call(
            "DeleteMessageBatch", Request(QueueUrl: queueURL, Entries: entries.map { Entry(Id: $0.id, ReceiptHandle: $0.receiptHandle) }))
        return answer.Failed ?? []
    }

    /// Makes up to ten received messages invisible for `visibility` from now (`ChangeMessageVisibilityBatch`);
    /// returns the entries that failed.
    package func changeMessageVisibilityBatch(_ entries: [(id: String, receiptHandle: String)], visibility: Duration) async throws(SQSError) -> [BatchFailure] {
        struct Entry: Encodable {
            var Id: String
            var ReceiptHandle: String
            var VisibilityTimeout: Int
        }
        struct Request: Encodable {
            var QueueUrl: String
            var Entries: [Entry]
        }
        let seconds = Int(visibility.components.seconds)
        let answer: BatchAnswer = try await call("ChangeMessageVisibilityBatch", Request(
            QueueUrl: queueURL, Entries: entries.map { Entry(Id: $0.id, ReceiptHandle: $0.receiptHandle, VisibilityTimeout: seconds) }))
        return answer.Failed ?? []
    }

    /// Creates a queue (`CreateQueue`, idempotent for the same attributes) and returns its URL. For set-up and tests;
    /// the runner itself only uses queues that exist.
    package func createQueue(name: String, attributes: [String: String] = [:]) async throws(SQSError) -> String {
        struct Request: Encodable {
            var QueueName: String
            var Attributes: [String: String]
        }
        struct Answer: Decodable {
            var QueueUrl: String
        }
        let answer: Answer = try await call("CreateQueue", Request(QueueName: name, Attributes: attributes))
        return answer.QueueUrl
    }

    /// The queue's attributes (`GetQueueAttributes`), e.g. `ApproximateNumberOfMessages` or `QueueArn`.
    package func queueAttributes(_ names: [String]) async throws(SQSError) -> [String: String] {
        struct Request: Encodable {
            var QueueUrl: String
            var AttributeNames: [String]
        }
        struct Answer: Decodable {
            var Attributes: [String: String]?
        }
        let answer: Answer = try await call("GetQueueAttributes", Request(QueueUrl: queueURL, AttributeNames: names))
        return answer.Attributes ?? [:]
    }

    /// The same client for another queue on the same endpoint (a dead-letter queue, say).
    package func forQueue(_ url: String) throws(AWSConfigurationError) -> SQSClient {
        try SQSClient(queueURL: url, endpoint: endpoint, region: signer.region,
                      credentials: signer.credentials, retry: retry, now: now)
    }

    private struct BatchAnswer: Decodable {
        var Failed: [BatchFailure]?
    }

    // MARK: Transport

    /// Calls `action` with `request` as its JSON body, retrying what may succeed later (``RetryPolicy``).
    func call<Answer: Decodable>(_ action: String, _ request: some Encodable, timeout: TimeAmount = .seconds(15)) async throws(SQSError) -> Answer {
        let body: Data
        do {
            body = try JSONEncoder().encode(request)
        } catch {
            throw SQSError(code: "InvalidRequest", message: "\(action) could not be encoded: \(error)", status: nil, retryable: false)
        }
        var attempt = 0
        while true {
            do throws(SQSError) {
                let data = try await attemptCall(action, body: Array(body), timeout: timeout)
                do {
                    return try JSONDecoder().decode(Answer.self, from: data.isEmpty ? Data("{}".utf8) : data)
                } catch {
                    throw SQSError(code: "MalformedResponse", message: "\(action): the answer is not what SQS sends: \(error)", status: 200, retryable: false)
                }
            } catch {
                attempt += 1
                guard error.retryable, attempt < retry.attempts, !Task.isCancelled else { throw error }
                try? await Task.sleep(for: retry.delay(afterFailure: attempt))
                if Task.isCancelled { throw error }
            }
        }
    }

    private func attemptCall(_ action: String, body: [UInt8], timeout: TimeAmount) async throws(SQSError) -> Data {
        var headers: [(name: String, value: String)] = [
            (name: "Host", value: authority),
            (name: "Content-Type", value: "application/x-amz-json-1.0"),
            (name: "X-Amz-Target", value: "AmazonSQS.\(action)"),
        ]
        let request = SigV4Signer.Request(method: "POST", path: "/", headers: headers, body: body)
        headers += signer.signingHeaders(for: request, at: now())
        // The pool writes Host itself.
        let sent = headers.dropFirst().map { ($0.name, $0.value) }
        let response: HTTPConnectionPool.Response
        var stale = 0
        while true {
            do {
                response = try await pool.send(method: .POST, path: "/", headers: sent, body: ByteBuffer(bytes: body), timeout: timeout)
                break
            } catch {
                // A kept-alive connection the server closed while idle: once more, on a fresh one, at no cost.
                if case .staleConnection = error, stale == 0, !Task.isCancelled {
                    stale += 1
                    continue
                }
                throw SQSError(code: "Transport", message: "\(action): \(error)", status: nil, retryable: true)
            }
        }
        let data = Data(buffer: response.body)
        guard (200..<300).contains(response.status) else { throw SQSError(action: action, status: response.status, body: data) }
        return data
    }
}

/// How failed calls are retried: at most ``attempts`` in all, the n-th wait drawn uniformly from
/// `0…min(cap, base × 2ⁿ)` ("full jitter"), so many clients throttled together do not come back together.
package struct RetryPolicy: Sendable {
    package var attempts = 4
    package var base: Duration = .milliseconds(100)
    package var cap: Duration = .seconds(5)

    package init(attempts: Int = 4, base: Duration = .milliseconds(100), cap: Duration = .seconds(5)) {
        self.attempts = attempts
        self.base = base
        self.cap = cap
    }

    /// The wait after the `failures`-th failure.
    package func delay(afterFailure failures: Int, random: Double = .random(in: 0...1)) -> Duration {
        let ceiling = min(cap, base * (1 << min(failures, 20)))
        return ceiling * random
    }
}

/// A failed SQS call: the service's error type (the `__type` after its `#`, e.g. `QueueDoesNotExist`), `Transport`
/// when no answer came, or `MalformedResponse`.
package struct SQSError: Error, Sendable, Hashable, CustomStringConvertible {
    package var code: String
    package var message: String
    package var status: Int?
    /// Whether the same call may succeed later: throttling, a 5xx answer, a transport failure.
    package var retryable: Bool

    package init(code: String, message: String, status: Int?, retryable: Bool) {
        self.code = code
        self.message = message
        self.status = status
        self.retryable = retryable
    }

    /// Error types that mean "slow down" or "try again", whatever the HTTP status.
    static let retryableCodes: Set<String> = [
        "ThrottlingException", "RequestThrottled", "Throttling", "ServiceUnavailable", "InternalError", "InternalFailure",
        "KmsThrottled", "RequestLimitExceeded", "TooManyRequestsException",
    ]

    /// An error answer, typed from its JSON `__type` (or the `x-amzn-query-error` convention's code).
    init(action: String, status: Int, body: Data) {
        let object = (try? JSONSerialization.jsonObject(with: body)) as? [String: Any]
        let type = (object?["__type"] as? String).map { String($0.split(separator: "#").last ?? Substring($0)) }
        code = type ?? "HTTP\(status)"
        let text = (object?["message"] as? String) ?? (object?["Message"] as? String) ?? String(decoding: body.prefix(200), as: UTF8.self)
        message = "\(action): \(text)"
        self.status = status
        retryable = status >= 500 || status == 429 || Self.retryableCodes.contains(code)
    }

    package var description: String { "SQS \(code)\(status.map { " (HTTP \($0))" } ?? ""): \(message)" }
}
