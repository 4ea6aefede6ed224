package import UptickAWS

/// A real SQS-compatible server for a test: moto's server mode on 127.0.0.1 (Tests/Helpers/sqs_server.py).
package struct Moto: Sendable {
    let process: HelperProcess
    package var endpoint: String { "http://127.0.0.1:\(process.port)" }
    package var port: Int { process.port }
    /// Any credentials do for moto; the signature is still computed and sent.
    package static let credentials = AWSCredentials(accessKeyID: "AKIDTEST", secretAccessKey: "test-secret")
    /// The environment a runner process needs to reach this server's queues.
    package static let environment = ["AWS_ACCESS_KEY_ID": "AKIDTEST", "AWS_SECRET_ACCESS_KEY": "test-secret", "AWS_REGION": "us-east-1"]

    /// Starts moto, on `port` when given (to bring a stopped server back at the same address).
    package static func start(port: Int? = nil) async throws -> Moto {
        Moto(process: try await HelperProcess.start("sqs_server.py", port.map { [String($0)] } ?? [], requires: ["moto", "werkzeug", "flask"]))
    }

    /// A client for a new queue with `attributes` (`CreateQueue`).
    package func queue(_ name: String, attributes: [String: String] = [:], retry: RetryPolicy = RetryPolicy()) async throws -> SQSClient {
        let admin = try SQSClient(queueURL: "\(endpoint)/123456789012/admin", endpoint: endpoint, region: "us-east-1", credentials: Self.credentials,
                                  retry: retry)
        return try admin.forQueue(try await admin.createQueue(name: name, attributes: attributes))
    }

    package func stop() { process.stop() }
}
