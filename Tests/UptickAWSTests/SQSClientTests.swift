import Foundation
import Testing
import UptickAWS
import UptickTargets
import UptickTestSupport

@Suite struct SQSClientTests {
    @Test func sendReceiveChangeVisibilityAndDelete() async throws {
        let moto = try await Moto.start()
        defer { moto.stop() }
        let queue = try await moto.queue("round-trip", attributes: ["VisibilityTimeout": "30"])
        let bodies = ["plain", #"{"json":"ünïcødé ✓"}"#, String(repeating: "x", count: 200_000)]
        let failed = try await queue.sendMessageBatch(bodies.enumerated().map { (id: "m\($0.offset)", body: $0.element) })
        #expect(failed.isEmpty)
        var received: [SQSClient.Message] = []
        while received.count < 3 {
            let batch = try await queue.receiveMessages(max: 10, wait: .seconds(1), visibility: .seconds(30))
            try #require(!batch.isEmpty, "moto handed out \(received.count) of 3 messages")
            received += batch
        }
        #expect(Set(received.map(\.body)) == Set(bodies))
        #expect(received.allSatisfy { $0.receiveCount == 1 && $0.sentAt != nil })
        // Back to visible at once: received again, counted twice.
        #expect(try await queue.changeMessageVisibilityBatch([(id: "a", receiptHandle: received[0].receiptHandle)], visibility: .zero).isEmpty)
        let again = try await queue.receiveMessages(max: 10, wait: .seconds(1), visibility: .seconds(30))
        #expect(again.map(\.id) == [received[0].id])
        #expect(again.first?.receiveCount == 2)
        let deletes = (received.dropFirst() + again).enumerated().map { (id: "d\($0.offset)", receiptHandle: $0.element.receiptHandle) }
        #expect(try await queue.deleteMessageBatch(deletes).isEmpty)
        let left = try await queue.queueAttributes(["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"])
        #expect(left["ApproximateNumberOfMessages"] == "0")
        #expect(left["ApproximateNumberOfMessagesNotVisible"] == "0")
    }

    /// Per-entry failures come back by entry id, the rest of the batch is sent.
    @Test func partialBatchFailure() async throws {
        let moto = try await Moto.start()
        defer { moto.stop() }
        let queue = try await moto.queue("partial")
        // The one per-entry fault moto reproduces: a delay past SQS's 900 s.
        let failed = try await queue.sendMessageBatch([(id: "good", body: "ok"), (id: "bad", body: "later")], delaySeconds: ["bad": 1800])
        #expect(failed.map(\.id) == ["bad"])
        #expect(failed.first?.senderFault == true)
        #expect(try await queue.receiveMessages(max: 10, wait: .seconds(1), visibility: .seconds(30)).map(\.body) == ["ok"])
    }

    @Test func serviceErrorsAreTyped() async throws {
        let moto = try await Moto.start()
        defer { moto.stop() }
        let missing = try SQSClient(queueURL: "\(moto.endpoint)/123456789012/missing", endpoint: moto.endpoint, region: "us-east-1",
                                    credentials: Moto.credentials)
        let error = await #expect(throws: SQSError.self) { try await missing.receiveMessages(max: 1, wait: .zero, visibility: .seconds(30)) }
        #expect(error?.code == "QueueDoesNotExist")
        #expect(error?.status == 400)
        #expect(error?.retryable == false)
    }

    /// 5xx answers are retried `attempts` times in all, with backoff; a 4xx is not retried; neither says a secret.
    @Test func retriesServerFaultsOnly() async throws {
        let receiver = try await Receiver.start()
        let credentials = AWSCredentials(accessKeyID: "AKIDTEST", secretAccessKey: "do-not-print-me", sessionToken: "token-do-not-print")
        let client = try SQSClient(queueURL: receiver.url("/123456789012/q"), region: "us-east-1", credentials: credentials,
                                   retry: RetryPolicy(attempts: 3, base: .milliseconds(1), cap: .milliseconds(5)))
        receiver.respond(with: 503)
        let unavailable = await #expect(throws: SQSError.self) { try await client.sendMessageBatch([(id: "1", body: "x")]) }
        #expect(unavailable?.retryable == true)
        #expect(receiver.requests.count == 3)
        receiver.respond(with: 403)
        let refused = await #expect(throws: SQSError.self) { try await client.sendMessageBatch([(id: "1", body: "x")]) }
        #expect(refused?.retryable == false)
        #expect(receiver.requests.count == 4)
        for error in [unavailable, refused].compactMap({ $0 }) {
            #expect(!error.description.contains("do-not-print"))
        }
        try await receiver.stop()
    }

    @Test func fullJitterStaysUnderTheCeiling() {
        let policy = RetryPolicy(attempts: 5, base: .milliseconds(100), cap: .seconds(1))
        #expect(policy.delay(afterFailure: 1, random: 1) == .milliseconds(200))
        #expect(policy.delay(afterFailure: 3, random: 0.5) == .milliseconds(400))
        #expect(policy.delay(afterFailure: 9, random: 1) == .seconds(1))
        #expect(policy.delay(afterFailure: 2, random: 0) == .zero)
    }

    /// An independent signer: every request the client sends is re-signed by botocore on the server and must match.
    @Test func botocoreAgreesWithEverySignature() async throws {
        let token = "session/token+with=odd chars"
        let server = try await HelperProcess.start("sigv4_server.py", ["AKIDCHECK", "check-secret", "eu-west-1", "sqs", token], requires: ["botocore"])
        defer { server.stop() }
        var lines = server.lines().makeAsyncIterator()
        let endpoint = "http://127.0.0.1:\(server.port)"
        let good = try SQSClient(queueURL: "\(endpoint)/123456789012/q", region: "eu-west-1",
                                 credentials: AWSCredentials(accessKeyID: "AKIDCHECK", secretAccessKey: "check-secret", sessionToken: token))
        _ = try await good.sendMessageBatch([(id: "1", body: #"{"name":"ünïcødé ✓ & < >"}"#), (id: "2", body: "")])
        _ = try await good.receiveMessages(max: 10, wait: .zero, visibility: .seconds(30))
        _ = try await good.deleteMessageBatch([(id: "1", receiptHandle: "r/1+=")])
        for target in ["AmazonSQS.SendMessageBatch", "AmazonSQS.ReceiveMessage", "AmazonSQS.DeleteMessageBatch"] {
            let line = try #require(await lines.next())
            let json = try #require(try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any])
            #expect(json["target"] as? String == target)
            #expect(json["match"] as? Bool == true, "\(line)")
            #expect(json["token"] as? String == token)
        }
        let wrong = try SQSClient(queueURL: "\(endpoint)/123456789012/q", region: "eu-west-1",
                                  credentials: AWSCredentials(accessKeyID: "AKIDCHECK", secretAccessKey: "not-the-secret", sessionToken: token))
        let error = await #expect(throws: SQSError.self) { try await wrong.sendMessageBatch([(id: "1", body: "x")]) }
        #expect(error?.code == "SignatureDoesNotMatch")
        let line = try #require(await lines.next())
        #expect(line.contains(#""match": false"#))
    }

    @Test func regionFromTheEnvironmentOrTheQueueURL() throws {
        #expect(try SQSClient.region(environment: ["AWS_REGION": "eu-central-1"], queueURL: "https://sqs.us-east-1.amazonaws.com/1/q") == "eu-central-1")
        #expect(try SQSClient.region(environment: [:], queueURL: "https://sqs.ap-south-1.amazonaws.com/1/q") == "ap-south-1")
        #expect(throws: AWSConfigurationError.self) { try SQSClient.region(environment: [:], queueURL: "http://127.0.0.1:9324/1/q") }
    }
}
