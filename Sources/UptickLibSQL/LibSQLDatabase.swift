package import Foundation
package import NIOCore
import NIOHTTP1
import NIOFoundationCompat
import NIOPosix
import UptickCore
import UptickHTTPClient
package import UptickStore

/// A libSQL database (Turso, or any server speaking Hrana over HTTP) as an ``SQLExecutor``: the store's
/// SQL, unchanged, over the network.
///
/// Every ``execute(_:transaction:)`` is **one HTTP request**: a pipeline of one `batch` and a `close` on a
/// fresh stream. A transaction is `BEGIN IMMEDIATE`, the statements each conditioned on the previous
/// step's success, `COMMIT` on the last, and `ROLLBACK` when the commit did not happen, so it is atomic
/// without a second round trip. No stream outlives its request, so no baton is ever carried over.
package final class LibSQLDatabase: SQLExecutor {
    /// Where requests go: `https://host[:port][/prefix]` or `http://…`.
    package let baseURL: String
    private let token: String?
    private let pool: HTTPConnectionPool
    private let pipelinePath: String
    /// Each request's deadline, and the attempts and backoff for 429, 5xx and connection failures.
    package let timeout: Duration
    let attempts: Int
    let backoff: Duration

    /// `url`: `libsql://NAME-ORG.turso.io` (HTTPS), `https://…` or `http://…`; `token`: the bearer token, if any.
    package init(url: String, token: String?, timeout: Duration = .seconds(10), attempts: Int = 4, backoff: Duration = .milliseconds(200),
                group: any EventLoopGroup = MultiThreadedEventLoopGroup.singleton) throws(StoreError) {
        guard let parsed = Self.parse(url) else {
            throw StoreError(.unavailable, "'\(url)' is not a libSQL URL (libsql://HOST, https://HOST or http://HOST:PORT)")
        }
        baseURL = parsed.base
        pipelinePath = parsed.prefix + "/v2/pipeline"
        self.token = token.flatMap { $0.isEmpty ? nil : $0 }
        self.timeout = timeout
        self.attempts = max(1, attempts)
        self.backoff = backoff
        do {
            pool = try HTTPConnectionPool(origin: parsed.origin, group: group)
        } catch {
            throw StoreError(.unavailable, "cannot set up TLS for \(url): \(error)")
        }
    }

    /// Whether `location` names a libSQL database rather than a file.
    package static func handles(_ location: String) -> Bool {
        location.hasPrefix("libsql://") || location.hasPrefix("https://") || location.hasPrefix("http://")
    }

    static func parse(_ url: String) -> (origin: HTTPConnectionPool.Origin, base: String, prefix: String)? {
        let web = url.hasPrefix("libsql://") ? "https://" + url.dropFirst("libsql://".count) : url
        guard let components = URLComponents(string: web), let scheme = components.scheme, scheme == "https" || scheme == "http",
              let host = components.host, !host.isEmpty, components.user == nil, components.query == nil else { return nil }
        let tls = scheme == "https"
        let port = components.port ?? (tls ? 443 : 80)
        let prefix = components.path.hasSuffix("/") ? String(components.path.dropLast()) : components.path
        let displayHost = host.contains(":") ? "[\(host)]" : host
        return (HTTPConnectionPool.Origin(host: host, port: port, tls: tls), "\(scheme)://\(displayHost):\(port)\(prefix)", prefix)
    }

    package func execute(_ statements: [SQLStatement], transaction: Bool) async throws(StoreError) -> [SQLRows] {
        guard !statements.isEmpty else { return [] }
        let steps = Self.steps(statements, transaction: transaction)
        let body: Data
        do {
            body = try JSONEncoder().encode(Hrana.PipelineRequest(baton: nil, requests: [.batch(steps), .close]))
        } catch {
            throw StoreError(.failed, "cannot encode the request: \(error)")
        }
        return try Self.rows(answer: try await post(body), statements: statements.count, transaction: transaction)
    }

    /// The batch: the statements alone, or wrapped in a conditional transaction.
    static func steps(_ statements: [SQLStatement], transaction: Bool) -> [Hrana.BatchStep] {
        func statement(_ sql: String, _ arguments: [SQLValue] = []) -> Hrana.Statement {
            Hrana.Statement(sql: sql, args: arguments.map(Hrana.Value.init), wantRows: true)
        }
        guard transaction else {
            return statements.map { Hrana.BatchStep(condition: nil, stmt: statement($0.sql, $0.arguments)) }
        }
        var steps = [Hrana.BatchStep(condition: nil, stmt: statement("BEGIN IMMEDIATE"))]
        for item in statements {
            steps.append(Hrana.BatchStep(condition: .ok(steps.count - 1), stmt: statement(item.sql, item.arguments)))
        }
        let commit = steps.count
        steps.append(Hrana.BatchStep(condition: .ok(commit - 1), stmt: statement("COMMIT")))
        steps.append(Hrana.BatchStep(condition: .not(.ok(commit)), stmt: statement("ROLLBACK")))
        return steps
    }

    /// The statements' rows from a successful answer's body (a Hrana pipeline response), or the first error.
    package static func rows(answer: Data, statements: Int, transaction: Bool) throws(StoreError) -> [SQLRows] {
        let response: Hrana.PipelineResponse
        do {
            response = try JSONDecoder().decode(Hrana.PipelineResponse.self, from: answer)
        } catch {
            throw StoreError(.failed, "libSQL answered with something that is not a Hrana pipeline response: \(error)")
        }
        return try rows(response, statements: statements, transaction: transaction)
    }

    /// The statements' rows from the pipeline response, or the first error.
    static func rows(_ response: Hrana.PipelineResponse, statements: Int, transaction: Bool) throws(StoreError) -> [SQLRows] {
        guard let first = response.results.first else { throw StoreError(.failed, "libSQL answered with no result") }
        if first.type == "error" { throw storeError(first.error) }
        guard let batch = first.response?.result else { throw StoreError(.failed, "libSQL answered without a batch result") }
        let offset = transaction ? 1 : 0
        let expected = statements + (transaction ? 3 : 0)
        guard batch.stepResults.count == expected, batch.stepErrors.count == expected else {
            throw StoreError(.failed, "libSQL answered \(batch.stepResults.count) step results for \(expected) steps")
        }
        // The first failing step is the cause; BEGIN failing (busy) or the COMMIT failing count too.
        let lastChecked = transaction ? expected - 1 : expected  // a ROLLBACK's own error never matters
        for index in 0..<lastChecked {
            if let error = batch.stepErrors[index] { throw storeError(error) }
        }
        if transaction && batch.stepResults[expected - 2] == nil {
            throw StoreError(.failed, "libSQL did not commit the transaction")
        }
        var rows: [SQLRows] = []
        for index in offset..<(offset + statements) {
            guard let result = batch.stepResults[index] else { throw StoreError(.failed, "libSQL skipped statement \(index - offset + 1)") }
            var set = SQLRows(columns: result.cols.map { $0.name ?? "" }, rows: result.rows.map { $0.map(\.value) })
            set.changes = result.affectedRowCount
            rows.append(set)
        }
        return rows
    }

    static func storeError(_ error: Hrana.ErrorBody?) -> StoreError {
        let message = error?.message ?? "unknown error"
        let code = error?.code ?? ""
        if code.contains("BUSY") || message.contains("database is locked") {
            return StoreError(.busy, "libSQL database is locked by another writer: \(message)")
        }
        if code.contains("CONSTRAINT") || message.contains("constraint failed") { return StoreError(.constraint, message) }
        return StoreError(.failed, "libSQL: \(message)\(code.isEmpty ? "" : " (\(code))")")
    }

    /// One POST of the pipeline: retried with exponential backoff on 429, 5xx, timeouts and connection
    /// failures (at most `attempts` times); a connection the server closed while idle is replaced at once.
    /// The body of the answer, once one is 2xx.
    private func post(_ body: Data) async throws(StoreError) -> Data {
        var headers = [("Content-Type", "application/json")]
        if let token { headers.append(("Authorization", "Bearer \(token)")) }
        var lastProblem = ""
        var attempt = 0
        while attempt < attempts {
            attempt += 1
            let response: HTTPConnectionPool.Response
            do {
                response = try await pool.send(method: .POST, path: pipelinePath, headers: headers, body: ByteBuffer(bytes: body),
                                               timeout: TimeAmount(timeout))
            } catch {
                switch error {
                case .staleConnection:
                    attempt -= 1  // not the server's answer: try again on a fresh connection
                case .timedOut:
                    lastProblem = "no answer within \(timeout)"
                    await pause(attempt)
                case .failed(let cause):
                    lastProblem = "\(cause)"
                    await pause(attempt)
                }
                continue
            }
            switch response.status {
            case 200..<300:
                return Data(buffer: response.body)
            case 429, 500...:
                lastProblem = "HTTP \(response.status)"
                await pause(attempt)
            case 401, 403:
                throw StoreError(.unavailable, "libSQL refused the token (HTTP \(response.status)): set --db-token or UPTICK_DB_TOKEN")
            default:
                let error = try? JSONDecoder().decode(Hrana.ErrorBody.self, from: Data(buffer: response.body))
                throw StoreError(.failed, "libSQL answered HTTP \(response.status): \(error?.message ?? String(buffer: response.body).prefix(200).description)")
            }
        }
        throw StoreError(.unavailable, "libSQL at \(baseURL) is unavailable after \(attempts) attempts: \(lastProblem)")
    }

    /// Backoff before attempt `attempt + 1`: backoff × 2^(attempt−1), with up to 50 % jitter.
    private func pause(_ attempt: Int) async {
        guard attempt < attempts else { return }
        let base = Double(backoff.wholeMilliseconds) * Double(1 << min(attempt - 1, 10))
        try? await Task.sleep(for: .milliseconds(Int64(base * Double.random(in: 0.5...1))))
    }
}
