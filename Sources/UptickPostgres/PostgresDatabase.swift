import Foundation
import Logging
import NIOCore
import NIOSSL
import PostgresNIO
import Synchronization
import UptickCore
package import UptickStore

/// A PostgreSQL database as an ``SQLExecutor``, on postgres-nio's `PostgresClient` (a connection pool, itself a
/// lifecycle `Service`, run by this executor for as long as it lives).
///
/// The store's statements arrive in its common SQL with `?` / `?N` placeholders, which are renumbered to `$N`
/// (outside quotes and comments); values go as typed binary parameters (bigint, double, text, bytea; NULL untyped,
/// so the server infers it). Each statement is one round trip: postgres-nio does not pipeline, so the store gives
/// PostgreSQL a constant number of statements per claim or commit (``SQLDialect/postgres``). A transaction is
/// `BEGIN`, the statements, `COMMIT` on one pooled connection, rolled back on any failure.
///
/// Bounds: at most ``Bounds/maximumConnections`` connections (idle ones closed after 60 s, one kept open); each
/// session has `statement_timeout` and `idle_in_transaction_session_timeout` set at startup; each `execute` (waiting
/// for a connection included) has a client-side deadline a little longer than the statement timeout.
package final class PostgresDatabase: SQLExecutor {
    /// The pool and timeouts; docs/postgres.md documents the defaults.
    package struct Bounds: Sendable {
        /// Connections open at most (URL parameter `pool_max`).
        package var maximumConnections = 5
        /// The server cancels a statement that runs longer (URL parameter `statement_timeout`, milliseconds).
        package var statementTimeout: Duration = .seconds(10)
        /// Connecting (TCP, TLS and login) gives up after this.
        package var connectTimeout: Duration = .seconds(5)

        package init() {}

        /// The client-side bound of one `execute`: a statement's own limit, plus time to get a connection.
        var deadline: Duration { statementTimeout + connectTimeout }
    }

    package let location: PostgresLocation
    package let bounds: Bounds
    private let client: PostgresClient
    /// TLS for the client and for ``probe(writable:)``'s own connection; `nil` with `sslmode=disable`.
    private let tlsConfiguration: TLSConfiguration?
    private let service: Task<Void, Never>
    private let logger = Logger(label: "uptick.postgres")

    /// A pool on `location`; nothing connects until the first statement (or ``probe(writable:)``).
    package init(location: PostgresLocation, bounds: Bounds = Bounds()) throws(StoreError) {
        self.location = location
        self.bounds = bounds
        let tls = try Self.tlsConfiguration(location)
        tlsConfiguration = tls
        var configuration = PostgresClient.Configuration(
            host: location.host, port: location.port, username: location.user, password: location.password,
            database: location.database, tls: tls.map { location.sslMode == .prefer ? .prefer($0) : .require($0) } ?? .disable)
        configuration.options.maximumConnections = bounds.maximumConnections
        // One connection kept open; postgres-nio needs the minimum below the maximum (so none with `pool_max=1`).
        configuration.options.minimumConnections = min(1, bounds.maximumConnections - 1)
        configuration.options.connectTimeout = bounds.connectTimeout
        configuration.options.additionalStartupParameters = Self.sessionParameters(bounds)
        let client = PostgresClient(configuration: configuration)
        self.client = client
        service = Task { await client.run() }
    }

    /// The executor for a `postgres://` URL, its bounds overridden by its `pool_max` and `statement_timeout` parameters.
    package convenience init(url: String, environment: [String: String] = ProcessInfo.processInfo.environment) throws(StoreError) {
        var bounds = Bounds()
        for item in URLComponents(string: url)?.queryItems ?? [] {
            switch item.name {
            case "pool_max":
                guard let value = item.value.flatMap(Int.init), (1...100).contains(value) else {
                    throw StoreError(.unavailable, "pool_max must be a number of connections from 1 to 100")
                }
                bounds.maximumConnections = value
            case "statement_timeout":
                guard let value = item.value.flatMap(Int64.init), (100...3_600_000).contains(value) else {
                    throw StoreError(.unavailable, "statement_timeout must be milliseconds from 100 to 3600000")
                }
                bounds.statementTimeout = .milliseconds(value)
            default:
                continue
            }
        }
        try self.init(location: try PostgresLocation(url: Self.withoutPoolParameters(url), environment: environment), bounds: bounds)
    }

    deinit { service.cancel() }

    static func withoutPoolParameters(_ url: String) -> String {
        guard var components = URLComponents(string: url), let items = components.queryItems else { return url }
        let kept = items.filter { $0.name != "pool_max" && $0.name != "statement_timeout" }
        components.queryItems = kept.isEmpty ? nil : kept
        return components.string ?? url
    }

    static func sessionParameters(_ bounds: Bounds) -> [(String, String)] {
        [("application_name", "uptick"), ("statement_timeout", "\(bounds.statementTimeout.wholeMilliseconds)"),
         ("idle_in_transaction_session_timeout", "\(max(60_000, bounds.deadline.wholeMilliseconds * 2))")]
    }

    static func tlsConfiguration(_ location: PostgresLocation) throws(StoreError) -> TLSConfiguration? {
        var tls = TLSConfiguration.makeClientConfiguration()
        switch location.sslMode {
        case .disable:
            return nil
        case .prefer, .require:
            tls.certificateVerification = .none
        case .verifyCA:
            tls.certificateVerification = .noHostnameVerification
        case .verifyFull:
            tls.certificateVerification = .fullVerification
        }
        if let file = location.rootCertificate {
            do {
                tls.trustRoots = .certificates(try NIOSSLCertificate.fromPEMFile(file))
            } catch {
                throw StoreError(.unavailable, "cannot read sslrootcert '\(file)': \(error)")
            }
        }
        return tls
    }

    // MARK: Executing

    package func execute(_ statements: [SQLStatement], transaction: Bool) async throws(StoreError) -> [SQLRows] {
        guard !statements.isEmpty else { return [] }
        let queries = statements.map(Self.query)
        let (client, logger, endpoint, bounds) = (client, logger, location.endpoint, bounds)
        do {
            return try await Self.within(bounds) { leased in
                try await client.withConnection { connection in
                    leased.hold(connection)
                    return try await Self.run(queries, transaction: transaction, on: connection, logger: logger)
                }
            }
        } catch {
            throw Self.storeError(error, endpoint: endpoint, deadline: bounds.deadline)
        }
    }

    static func run(_ queries: [PostgresQuery], transaction: Bool, on connection: PostgresConnection, logger: Logger) async throws -> [SQLRows] {
        if transaction { _ = try await connection.query("BEGIN", logger: logger).get() }
        do {
            var results: [SQLRows] = []
            results.reserveCapacity(queries.count)
            for query in queries {
                results.append(try rows(try await connection.query(query, logger: logger).get()))
            }
            if transaction { _ = try await connection.query("COMMIT", logger: logger).get() }
            return results
        } catch {
            if transaction { _ = try? await connection.query("ROLLBACK", logger: logger).get() }
            throw error
        }
    }

    /// `body`'s answer, or a timeout error, whichever comes first; the caller never waits longer, even for a body
    /// that does not answer cancellation (a query in flight). No connection leased within the connect timeout (the
    /// server is down, or every pooled connection is busy): ``NoConnection``, and the wait is cancelled. No answer
    /// within the whole deadline: ``DeadlineExceeded``, and the leased connection is closed, which fails its query
    /// (the server's own `statement_timeout` has normally cancelled the statement before).
    static func within<T: Sendable>(_ bounds: Bounds, _ body: @escaping @Sendable (Lease) async throws -> T) async throws -> T {
        let lease = Lease()
        let race = Race<T>()
        return try await withCheckedThrowingContinuation { continuation in
            race.start(continuation)
            let work = Task {
                do { race.finish(.success(try await body(lease))) } catch { race.finish(.failure(error)) }
            }
            let watchdog = Task {
                try? await Task.sleep(for: bounds.connectTimeout)
                guard !Task.isCancelled else { return }
                guard lease.connection != nil else {
                    if race.finish(.failure(NoConnection(waited: bounds.connectTimeout))) { work.cancel() }
                    return
                }
                try? await Task.sleep(for: bounds.statementTimeout)
                guard !Task.isCancelled, race.finish(.failure(DeadlineExceeded())) else { return }
                work.cancel()
                if let connection = lease.connection { Task { try? await connection.close() } }
            }
            race.onFinish { watchdog.cancel() }
        }
    }

    /// The connection a statement list holds, once the pool has given it.
    final class Lease: Sendable {
        private let held = Mutex<PostgresConnection?>(nil)

        func hold(_ connection: PostgresConnection) { held.withLock { $0 = connection } }
        var connection: PostgresConnection? { held.withLock { $0 } }
    }

    /// One answer for a continuation, from whichever side gives it first.
    final class Race<T: Sendable>: Sendable {
        private struct State {
            var continuation: CheckedContinuation<T, any Error>?
            var finished = false
            var onFinish: (@Sendable () -> Void)?
        }

        private let state = Mutex(State())

        func start(_ continuation: CheckedContinuation<T, any Error>) { state.withLock { $0.continuation = continuation } }

        func onFinish(_ action: @escaping @Sendable () -> Void) {
            let run = state.withLock { state in
                if state.finished { return true }
                state.onFinish = action
                return false
            }
            if run { action() }
        }

        /// Resumes the continuation unless it was already; true if this call did.
        @discardableResult
        func finish(_ result: Result<T, any Error>) -> Bool {
            let (continuation, action) = state.withLock { state -> (CheckedContinuation<T, any Error>?, (@Sendable () -> Void)?) in
                guard !state.finished else { return (nil, nil) }
                state.finished = true
                defer { state.continuation = nil; state.onFinish = nil }
                return (state.continuation, state.onFinish)
            }
            guard let continuation else { return false }
            continuation.resume(with: result)
            action?()
            return true
        }
    }

    struct NoConnection: Error {
        var waited: Duration
    }

    struct DeadlineExceeded: Error {}

    // MARK: Values

    /// The statement as postgres-nio's query: `$N` placeholders and typed binds.
    static func query(_ statement: SQLStatement) -> PostgresQuery {
        var binds = PostgresBindings(capacity: statement.arguments.count)
        for value in statement.arguments {
            switch value {
            case .null: binds.appendNull()
            case .integer(let integer): binds.append(integer)
            case .real(let real): binds.append(real)
            case .text(let text): binds.append(text)
            case .blob(let bytes): binds.append(ByteBuffer(bytes: bytes))
            }
        }
        return PostgresQuery(unsafeSQL: numbered(statement.sql), binds: binds)
    }

    /// `?` and `?N` placeholders as `$N`, numbered as SQLite numbers them (a bare `?` is one more than the largest
    /// number so far), outside string literals, quoted names, dollar-quoted bodies and comments.
    static func numbered(_ sql: String) -> String {
        let characters = Array(sql.utf8)
        var output: [UInt8] = []
        output.reserveCapacity(characters.count + 16)
        var largest = 0
        var index = 0
        func copy(until end: Int) {
            output.append(contentsOf: characters[index..<min(end, characters.count)])
            index = min(end, characters.count)
        }
        func find(_ needle: [UInt8], from start: Int) -> Int {
            var position = start
            while position + needle.count <= characters.count {
                if characters[position..<(position + needle.count)].elementsEqual(needle) { return position + needle.count }
                position += 1
            }
            return characters.count
        }
        while index < characters.count {
            let character = characters[index]
            switch character {
            case UInt8(ascii: "'"), UInt8(ascii: "\""):
                copy(until: find([character], from: index + 1))
            case UInt8(ascii: "-") where index + 1 < characters.count && characters[index + 1] == UInt8(ascii: "-"):
                copy(until: find([UInt8(ascii: "\n")], from: index + 2))
            case UInt8(ascii: "/") where index + 1 < characters.count && characters[index + 1] == UInt8(ascii: "*"):
                copy(until: find(Array("*/".utf8), from: index + 2))
            case UInt8(ascii: "$"):
                // A dollar quote: $$ or $tag$ … the same tag. ($1 is not one: a tag does not start with a digit.)
                var end = index + 1
                while end < characters.count, characters[end] == UInt8(ascii: "_") || (characters[end] | 0x20) >= UInt8(ascii: "a")
                    && (characters[end] | 0x20) <= UInt8(ascii: "z") {
                    end += 1
                }
                if end < characters.count, characters[end] == UInt8(ascii: "$") {
                    let tag = Array(characters[index...end])
                    copy(until: find(tag, from: end + 1))
                } else {
                    copy(until: index + 1)
                }
            case UInt8(ascii: "?"):
                var end = index + 1
                var number = 0
                while end < characters.count, characters[end] >= UInt8(ascii: "0"), characters[end] <= UInt8(ascii: "9") {
                    number = number * 10 + Int(characters[end] - UInt8(ascii: "0"))
                    end += 1
                }
                if end == index + 1 { number = largest + 1 }
                largest = max(largest, number)
                output.append(contentsOf: Array("$\(number)".utf8))
                index = end
            default:
                copy(until: index + 1)
            }
        }
        return String(decoding: output, as: UTF8.self)
    }

    static func rows(_ result: PostgresQueryResult) throws -> SQLRows {
        var columns: [String] = []
        var rows: [[SQLValue]] = []
        rows.reserveCapacity(result.rows.count)
        for row in result.rows {
            if columns.isEmpty { columns = row.map(\.columnName) }
            rows.append(try row.map(value))
        }
        var set = SQLRows(columns: columns, rows: rows)
        set.changes = Int64(result.metadata.rows ?? 0)
        return set
    }

    /// One cell as the store's value: integers (booleans as 1 and 0, integral numerics), reals, text, bytes.
    static func value(_ cell: PostgresCell) throws -> SQLValue {
        guard cell.bytes != nil else { return .null }
        switch cell.dataType {
        case .int2, .int4, .int8, .oid:
            return .integer(try cell.decode(Int64.self))
        case .bool:
            return .integer(try cell.decode(Bool.self) ? 1 : 0)
        case .float4, .float8:
            return .real(try cell.decode(Double.self))
        case .numeric:
            let text = "\(try cell.decode(Decimal.self))"
            return Int64(text).map(SQLValue.integer) ?? Double(text).map(SQLValue.real) ?? .text(text)
        case .bytea:
            return .blob(try cell.decode([UInt8].self))
        default:
            return .text(try cell.decode(String.self))
        }
    }

    // MARK: Faults

    /// Server facts checked before a runner starts: reachable, logged in, and (for `writable`) not a read-only
    /// standby. One direct connection, so an unreachable server or a refused login is reported as such at once,
    /// not after the pool's retries.
    package func probe(writable: Bool) async throws(StoreError) {
        var connection = PostgresConnection.Configuration(
            host: location.host, port: location.port, username: location.user, password: location.password,
            database: location.database, tls: .disable)
        connection.options.connectTimeout = TimeAmount(bounds.connectTimeout)
        connection.options.additionalStartupParameters = Self.sessionParameters(bounds)
        let endpoint = location.endpoint
        do {
            if let tls = tlsConfiguration {
                let context = try NIOSSLContext(configuration: tls)
                connection.tls = location.sslMode == .prefer ? .prefer(context) : .require(context)
            }
        } catch {
            throw StoreError(.unavailable, "cannot set up TLS for PostgreSQL at \(endpoint): \(error)")
        }
        let (configuration, logger) = (connection, logger)
        do {
            let facts = try await Self.within(bounds) { lease in
                let link = try await PostgresConnection.connect(configuration: configuration, id: 0, logger: logger)
                lease.hold(link)
                defer { Task { try? await link.close() } }
                let rows = try await link.query("SELECT pg_is_in_recovery(), current_setting('transaction_read_only') = 'on'", logger: logger).get()
                let cells = rows.rows.first.map(Array.init) ?? []
                return (try cells.first?.decode(Bool.self) ?? false, try cells.last?.decode(Bool.self) ?? false)
            }
            if writable && (facts.0 || facts.1) {
                throw StoreError(.unavailable, "PostgreSQL at \(endpoint) is read-only (\(facts.0 ? "a standby in recovery" : "default_transaction_read_only is on")): a runner writes, point --db at the primary")
            }
        } catch let error as StoreError {
            throw error
        } catch {
            throw Self.storeError(error, endpoint: endpoint, deadline: bounds.deadline)
        }
    }

    /// The store's error for a PostgreSQL failure: the SQLSTATE decides the code; the message is one line without
    /// the statement's values (postgres-nio's own description hides everything; its server fields are safe to show).
    static func storeError(_ error: any Error, endpoint: String, deadline: Duration) -> StoreError {
        if let error = error as? StoreError { return error }
        if error is DeadlineExceeded {
            return StoreError(.unavailable, "PostgreSQL at \(endpoint) did not answer within \(deadline)")
        }
        if let error = error as? NoConnection {
            return StoreError(.unavailable, "no connection to PostgreSQL at \(endpoint) within \(error.waited) (is the server down?)")
        }
        guard let psql = error as? PSQLError else {
            return StoreError(.unavailable, "PostgreSQL at \(endpoint): \(String(describing: error).prefix(300))")
        }
        if let info = psql.serverInfo, let state = info[.sqlState] {
            // The server's message and code only: its detail field can quote a row's values.
            let message = "PostgreSQL: \(info[.message] ?? "error") [SQLSTATE \(state)]"
            switch state {
            case "25006":
                return StoreError(.unavailable, "PostgreSQL at \(endpoint) is read-only (a standby?): \(info[.message] ?? ""); point --db at the primary")
            case "57014":
                return StoreError(.busy, "PostgreSQL cancelled a statement (statement_timeout or a cancel request): \(info[.message] ?? "")")
            case "40001", "40P01", "55P03":
                return StoreError(.busy, message)
            case "28P01", "28000":
                return StoreError(.unavailable, "PostgreSQL at \(endpoint) refused the login: \(info[.message] ?? "")")
            case "3D000":
                return StoreError(.unavailable, "PostgreSQL at \(endpoint): \(info[.message] ?? "no such database") (create it first)")
            case "42P01":
                return StoreError(.schema, "\(message): run `uptick migrate`")
            case let state where state.hasPrefix("23"):
                return StoreError(.constraint, message)
            case let state where state.hasPrefix("08") || state.hasPrefix("57P") || state.hasPrefix("53"):
                return StoreError(.unavailable, "PostgreSQL at \(endpoint): \(message)")
            default:
                return StoreError(.failed, message)
            }
        }
        let underlying = psql.underlying.map { String(describing: $0) } ?? ""
        let known = ["Connection refused", "Network is unreachable", "No route to host", "timed out", "Connection reset by peer"]
        let cause = known.first { underlying.localizedCaseInsensitiveContains($0) }.map { $0.lowercased() } ?? String(underlying.prefix(200))
        return StoreError(.unavailable, "cannot connect to PostgreSQL at \(endpoint): \(cause.isEmpty ? "\(psql.code)" : cause)")
    }
}
