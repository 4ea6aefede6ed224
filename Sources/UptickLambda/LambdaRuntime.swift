package import Foundation
import NIOCore
import NIOFoundationCompat
import NIOHTTP1
import UptickHTTPClient

/// One invocation as the Lambda Runtime API hands it over.
package struct Invocation: Sendable {
    package var requestID: String
    /// When Lambda freezes or stops the process, epoch milliseconds (`Lambda-Runtime-Deadline-Ms`).
    package var deadline: Int64
    package var traceID: String?
    package var event: Data

    package init(requestID: String, deadline: Int64, traceID: String? = nil, event: Data) {
        self.requestID = requestID
        self.deadline = deadline
        self.traceID = traceID
        self.event = event
    }
}

/// The AWS Lambda Runtime API (2018-06-01), spoken by hand over HTTP/1.1 to `AWS_LAMBDA_RUNTIME_API`:
/// `GET …/invocation/next`, then `POST …/invocation/ID/response` or `…/ID/error`; `POST …/init/error`
/// when start-up fails. See docs/deploy-aws.md.
package struct LambdaRuntimeClient: Sendable {
    let pool: HTTPConnectionPool
    static let prefix = "/2018-06-01/runtime"

    /// `api`: the `host:port` in `AWS_LAMBDA_RUNTIME_API`.
    package init(api: String) throws {
        let parts = api.split(separator: ":")
        guard parts.count == 2, let port = Int(parts[1]) else { throw RuntimeError("AWS_LAMBDA_RUNTIME_API '\(api)' is not host:port") }
        pool = try HTTPConnectionPool(origin: .init(host: String(parts[0]), port: port, tls: false))
    }

    /// Waits for the next invocation (the call blocks until Lambda has one).
    package func next() async throws -> Invocation {
        let response = try await send(.GET, "/invocation/next", body: nil, timeout: .hours(24))
        guard response.status == 200 else { throw RuntimeError("next invocation: HTTP \(response.status)") }
        let headers = response.headers
        guard let id = headers.first(name: "Lambda-Runtime-Aws-Request-Id"), !id.isEmpty,
              let deadline = headers.first(name: "Lambda-Runtime-Deadline-Ms").flatMap(Int64.init) else {
            throw RuntimeError("next invocation without a request id or deadline")
        }
        return Invocation(requestID: id, deadline: deadline, traceID: headers.first(name: "Lambda-Runtime-Trace-Id"),
                          event: Data(buffer: response.body))
    }

    /// Reports the invocation's result (a JSON document).
    package func respond(_ invocation: Invocation, with body: Data) async throws {
        try await post("/invocation/\(invocation.requestID)/response", body, errorType: nil)
    }

    /// Reports that the invocation failed.
    package func fail(_ invocation: Invocation, type: String, message: String) async throws {
        try await post("/invocation/\(invocation.requestID)/error", Self.errorBody(type: type, message: message), errorType: type)
    }

    /// Reports that the function could not start; Lambda then stops the process.
    package func failInit(type: String, message: String) async throws {
        try await post("/init/error", Self.errorBody(type: type, message: message), errorType: type)
    }

    static func errorBody(type: String, message: String) -> Data {
        (try? JSONSerialization.data(withJSONObject: ["errorType": type, "errorMessage": message, "stackTrace": [String]()],
                                     options: [.sortedKeys])) ?? Data()
    }

    private func post(_ path: String, _ body: Data, errorType: String?) async throws {
        let response = try await send(.POST, path, body: body, timeout: .seconds(10), errorType: errorType)
        guard (200..<300).contains(response.status) else {
            throw RuntimeError("POST \(path): HTTP \(response.status) \(String(buffer: response.body).prefix(200))")
        }
    }

    private func send(_ method: HTTPMethod, _ path: String, body: Data?, timeout: TimeAmount,
                      errorType: String? = nil) async throws -> HTTPConnectionPool.Response {
        var headers = [("Content-Type", "application/json")]
        if let errorType { headers.append(("Lambda-Runtime-Function-Error-Type", errorType)) }
        var attempt = 0
        while true {
            do {
                return try await pool.send(method: method, path: Self.prefix + path, headers: headers,
                                           body: body.map { ByteBuffer(data: $0) }, timeout: timeout)
            } catch {
                // A kept-alive connection the runtime closed while the process was frozen: once more, fresh.
                if case .staleConnection = error, attempt == 0 {
                    attempt += 1
                    continue
                }
                throw RuntimeError("\(method) \(path): \(error)")
            }
        }
    }
}

package struct RuntimeError: Error, CustomStringConvertible {
    package var description: String
    package init(_ description: String) { self.description = description }
}
