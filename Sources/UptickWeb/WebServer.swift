import Foundation
import Hummingbird
package import Logging
import NIOCore
import NIOPosix
import ServiceLifecycle
package import UptickCore
package import UptickStore

/// `uptick run --http` and `uptick serve`: health, readiness, metrics, the status page, badges and the JSON API on one
/// Hummingbird server, a lifecycle ``Service`` in the runner's group. It binds loopback unless told otherwise, reads
/// through its own database connection (a page never waits behind the engine's commit on SQLite), and never writes.
package struct WebServer: Service {
    package struct Configuration: Sendable {
        /// `http`: where to listen, `HOST:PORT` (default 127.0.0.1:9090; port 0 picks a free one).
        package var host = "127.0.0.1"
        package var port = 9090
        /// `status-title`: the status page's heading.
        package var title = "Status"
        /// `api-token` (also `UPTICK_API_TOKEN`): a client bearing it sees every monitor, its target and messages.
        package var apiToken: String?
        /// `monitor-metrics`: the most monitors with `uptick_monitor_*` series (0: none).
        package var monitorSeries = 0

        package init() {}

        /// `HOST:PORT`, `:PORT` or `[v6]:PORT`.
        package mutating func listen(_ text: String) throws(WebError) {
            guard let colon = text.lastIndex(of: ":"), let port = Int(text[text.index(after: colon)...]), (0...65535).contains(port) else {
                throw WebError("'\(text)' is not HOST:PORT (e.g. 127.0.0.1:9090)")
            }
            var host = String(text[..<colon])
            if host.hasPrefix("["), host.hasSuffix("]") { host = String(host.dropFirst().dropLast()) }
            self.host = host.isEmpty ? "127.0.0.1" : host
            self.port = port
        }
    }

    let catalogue: any Catalogue
    let metrics: RunnerMetrics
    /// The engine's heartbeat counts for readiness (`uptick run`), or only the database does (`uptick serve`).
    let watchesEngine: Bool
    let spoolPath: String?
    let configuration: Configuration
    let bounds: Readiness.Bounds
    let clock: any WallClock
    let logger: Logger
    let onListening: @Sendable (_ port: Int) -> Void
    /// The resolver's counters, read at each scrape.
    let resolverCounts: @Sendable () -> RunnerMetrics.ResolverCounts?
    let startedAt: EpochMilliseconds
    let pages = PageCache()

    package init(catalogue: any Catalogue, metrics: RunnerMetrics, watchesEngine: Bool, spoolPath: String?, configuration: Configuration,
                 bounds: Readiness.Bounds = Readiness.Bounds(), clock: any WallClock = SystemClock(), logger: Logger,
                 resolverCounts: @escaping @Sendable () -> RunnerMetrics.ResolverCounts? = { nil },
                 onListening: @escaping @Sendable (_ port: Int) -> Void = { _ in }) {
        self.catalogue = catalogue
        self.metrics = metrics
        self.watchesEngine = watchesEngine
        self.spoolPath = spoolPath
        self.configuration = configuration
        self.bounds = bounds
        self.clock = clock
        self.logger = logger
        self.onListening = onListening
        self.resolverCounts = resolverCounts
        self.startedAt = clock.now()
    }

    /// Binds the configured address once and lets it go, so that an address that is taken (or not this machine's)
    /// fails here, before anything runs, instead of inside the server. Hummingbird's application, failing to bind,
    /// cancels its own date-cache service at the moment that service first waits, and that wait (a
    /// `cancelOnGracefulShutdown()` merge of swift-async-algorithms 1.1.4) holds a lock across its first suspension:
    /// the cancellation then blocked forever on the event loop that would have released it, and the process never
    /// exited (apple/swift-async-algorithms#430; docs/architecture.md, "A failed start exits"). Another process can
    /// still take the port between this check and the server's bind: that narrow race is all that is left.
    package func checkAddress() async throws(WebError) {
        do {
            let channel = try await ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton)
                .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
                .bind(host: configuration.host, port: configuration.port).get()
            try await channel.close()
        } catch {
            throw WebError("cannot serve HTTP on \(configuration.host):\(configuration.port): \(error)")
        }
    }

    package func run() async throws {
        let onListening = onListening
        let application = Application(
            router: router(),
            configuration: ApplicationConfiguration(address: .hostname(configuration.host, port: configuration.port), serverName: "uptick"),
            onServerRunning: { channel in onListening(channel.localAddress?.port ?? 0) },
            logger: logger
        )
        do {
            try await application.run()
        } catch {
            throw WebError("cannot serve HTTP on \(configuration.host):\(configuration.port): \(error)")
        }
    }

    func router() -> Router<BasicRequestContext> {
        let router = Router()
        router.get("/healthz") { _, _ in
            Self.response(.ok, type: "application/json", #"{"status":"alive"}"#)
        }
        router.get("/readyz") { _, _ in await readiness() }
        router.get("/metrics") { _, _ in await scrape() }
        router.get("/") { request, _ in await statusPage(request) }
        router.get("/badges/:id/:kind") { request, context in await badge(request, context) }
        router.get("/api/v1/monitors") { request, _ in await api(request) { full, scope in try await monitorList(request, scope: scope, full: full) } }
        router.get("/api/v1/monitors/:id") { request, context in
            await api(request) { full, scope in try await monitorDocument(try id(context), scope: scope, full: full) }
        }
        router.get("/api/v1/monitors/:id/checks") { request, context in
            await api(request) { full, scope in try await checks(request, id: try id(context), scope: scope, full: full) }
        }
        router.get("/api/v1/monitors/:id/rollups") { request, context in
            await api(request) { _, scope in try await rollups(request, id: try id(context), scope: scope) }
        }
        router.get("/api/v1/incidents") { request, _ in await api(request) { full, scope in try await incidents(request, scope: scope, full: full) } }
        return router
    }

    // MARK: Health and metrics

    func readiness() async -> Response {
        let databaseError: String?
        do {
            try await withTimeout(.seconds(2)) { () async throws(StoreError) in try await catalogue.requireSchema() }
            databaseError = nil
        } catch {
            databaseError = "\(error)"
        }
        let verdict = Readiness.evaluate(heartbeat: watchesEngine ? metrics.snapshot : nil, databaseError: databaseError,
                                         startedAt: startedAt, now: clock.now(), bounds: bounds)
        return Self.response(verdict.ready ? .ok : .serviceUnavailable, type: "application/json", API.json(verdict), cache: "no-store")
    }

    func scrape() async -> Response {
        var values = RunnerMetrics.ScrapeValues(databaseUp: false)
        if let counts = try? await withTimeout(.seconds(2), { () async throws(StoreError) in try await catalogue.outboxCounts() }) {
            values = RunnerMetrics.ScrapeValues(outboxPending: counts.pending, outboxDead: counts.dead, databaseUp: true)
        }
        values.resolver = resolverCounts()
        if let spoolPath {
            values.spoolBytes = (try? FileManager.default.attributesOfItem(atPath: spoolPath)[.size] as? Int) ?? 0
        }
        return Self.response(.ok, type: "text/plain; version=0.0.4; charset=utf-8", metrics.exposition(values, now: clock.now()), cache: "no-store")
    }

    // MARK: Status page and badges

    func statusPage(_ request: Request) async -> Response {
        // Clamped: a page number is multiplied into an offset, and `?page=9223372036854775807` must not trap.
        let page = min(max(1, request.uri.queryParameters.get("page", as: Int.self) ?? 1), 1_000_000)
        let now = clock.now()
        do {
            let html = try await pages.page(page, now: now) { [self] in
                let (board, views) = try await board(scope: .publicOnly, page: page, perPage: StatusPage.pageSize, now: now)
                return StatusPage.render(title: configuration.title, board: board, views: views, page: page, now: now)
            }
            var response = Self.response(.ok, type: "text/html; charset=utf-8", html, cache: "public, max-age=5")
            response.headers[.contentSecurityPolicy] = StatusPage.contentSecurityPolicy
            return response
        } catch {
            logger.error("status page: \(error)")
            return Self.response(.serviceUnavailable, type: "text/plain; charset=utf-8", "The status page is unavailable right now.\n", cache: "no-store")
        }
    }

    func board(scope: BoardScope, page: Int, perPage: Int, now: EpochMilliseconds) async throws(StoreError) -> (Board, [MonitorView]) {
        let windows = MonitorView.windows(now: now)
        let board = try await catalogue.board(scope: scope, offset: (page - 1) * perPage, limit: perPage, dailyFrom: windows.daily,
                                              hourlyFrom: windows.hourly, incidentsFrom: now - 14 * 86_400_000, incidentLimit: 100)
        let views = board.monitors.map { MonitorView(monitor: $0, daily: board.daily[$0.id] ?? [], hourly: board.hourly[$0.id] ?? [], now: now) }
        return (board, views)
    }

    func view(_ id: Int64, scope: BoardScope) async throws(StoreError) -> MonitorView {
        let now = clock.now()
        let monitor = try await catalogue.monitor(id: id, scope: scope)
        let windows = MonitorView.windows(now: now)
        let daily = try await catalogue.rollups(monitorIDs: [id], resolution: .daily, from: windows.daily)[id] ?? []
        let hourly = try await catalogue.rollups(monitorIDs: [id], resolution: .hourly, from: windows.hourly)[id] ?? []
        return MonitorView(monitor: monitor, daily: daily, hourly: hourly, now: now)
    }

    func badge(_ request: Request, _ context: BasicRequestContext) async -> Response {
        let kindText = context.parameters.get("kind") ?? ""
        guard kindText.hasSuffix(".svg"), let kind = Badge.Kind(rawValue: String(kindText.dropLast(4))),
              let id = context.parameters.get("id", as: Int64.self) else {
            return Self.response(.notFound, type: "text/plain; charset=utf-8", "badges are /badges/ID/status.svg and /badges/ID/uptime.svg\n")
        }
        let label = request.uri.queryParameters.get("label").map { String($0.prefix(40)) }
        var response: Response
        do {
            let view = try await view(id, scope: .publicOnly)
            response = Self.response(.ok, type: "image/svg+xml", Badge.render(view, kind: kind, label: label), cache: "public, max-age=60")
        } catch where error.code == .notFound {
            response = Self.response(.notFound, type: "image/svg+xml", Badge.render(label: label ?? kind.rawValue, value: "not found", color: "#8c959f"))
        } catch {
            response = Self.response(.serviceUnavailable, type: "image/svg+xml", Badge.render(label: label ?? kind.rawValue, value: "unavailable", color: "#8c959f"),
                                     cache: "no-store")
        }
        response.headers[.contentSecurityPolicy] = "default-src 'none'; style-src 'unsafe-inline'"
        return response
    }

    // MARK: API

    /// Runs an API handler with the request's scope: everything for the operator's token, public monitors otherwise.
    /// A wrong token is refused rather than quietly answered as public.
    func api(_ request: Request, _ handler: (_ full: Bool, _ scope: BoardScope) async throws -> String) async -> Response {
        var full = false
        if let authorization = request.headers[.authorization] {
            guard let token = configuration.apiToken, Self.constantTimeEqual(authorization, "Bearer " + token) else {
                return Self.response(.unauthorized, type: "application/json", API.json(API.Problem(error: "invalid token")), cache: "no-store")
            }
            full = true
        }
        do {
            let body = try await handler(full, full ? .all : .publicOnly)
            return Self.response(.ok, type: "application/json", body, cache: full ? "private, no-store" : "public, max-age=10")
        } catch let error as StoreError where error.code == .notFound {
            return Self.response(.notFound, type: "application/json", API.json(API.Problem(error: "not found")), cache: "no-store")
        } catch let error as WebError {
            return Self.response(.badRequest, type: "application/json", API.json(API.Problem(error: error.message)), cache: "no-store")
        } catch {
            logger.error("api \(request.uri.path): \(error)")
            return Self.response(.serviceUnavailable, type: "application/json", API.json(API.Problem(error: "database unavailable")), cache: "no-store")
        }
    }

    func id(_ context: BasicRequestContext) throws(WebError) -> Int64 {
        guard let id = context.parameters.get("id", as: Int64.self) else { throw WebError("the monitor id must be a number") }
        return id
    }

    static func number(_ request: Request, _ name: String, in range: ClosedRange<Int64>, default value: Int64?) throws(WebError) -> Int64? {
        guard let text = request.uri.queryParameters.get(name) else { return value }
        guard let number = Int64(text), range.contains(number) else {
            throw WebError("'\(name)' must be a whole number from \(range.lowerBound) to \(range.upperBound)")
        }
        return number
    }

    func monitorList(_ request: Request, scope: BoardScope, full: Bool) async throws -> String {
        let page = Int(try Self.number(request, "page", in: 1...1_000_000, default: 1) ?? 1)
        let perPage = Int(try Self.number(request, "per_page", in: 1...500, default: 100) ?? 100)
        let (board, views) = try await board(scope: scope, page: page, perPage: perPage, now: clock.now())
        return API.json(API.MonitorList(monitors: views.map { API.MonitorDocument($0, full: full) }, total: board.total, page: page, perPage: perPage))
    }

    func monitorDocument(_ id: Int64, scope: BoardScope, full: Bool) async throws -> String {
        API.json(API.MonitorDocument(try await view(id, scope: scope), full: full))
    }

    func checks(_ request: Request, id: Int64, scope: BoardScope, full: Bool) async throws -> String {
        let limit = Int(try Self.number(request, "limit", in: 1...500, default: 100) ?? 100)
        let before = try Self.number(request, "before", in: 0...Int64.max, default: nil)
        _ = try await catalogue.monitor(id: id, scope: scope)
        let records = try await catalogue.history(monitorID: id, before: before, limit: limit)
        return API.json(API.CheckList(checks: records.map { API.CheckDocument($0, full: full) },
                                      nextBefore: records.count == limit ? records.last?.scheduledAt : nil))
    }

    func rollups(_ request: Request, id: Int64, scope: BoardScope) async throws -> String {
        guard let resolution = Rollup.Resolution(rawValue: request.uri.queryParameters.get("resolution") ?? "daily") else {
            throw WebError("'resolution' is hourly or daily")
        }
        let limit = Int(try Self.number(request, "limit", in: 1...1000, default: 500) ?? 500)
        let until = try Self.number(request, "until", in: 0...Int64.max, default: .max) ?? .max
        let from = try Self.number(request, "from", in: 0...Int64.max, default: 0) ?? 0
        _ = try await catalogue.monitor(id: id, scope: scope)
        let rollups = try await catalogue.rollups(monitorID: id, resolution: resolution, from: from, until: until, limit: limit)
        return API.json(API.RollupList(resolution: resolution.rawValue, rollups: rollups.map(API.RollupDocument.init),
                                       nextFrom: rollups.count == limit ? rollups.last.map { $0.periodStart + 1 } : nil))
    }

    func incidents(_ request: Request, scope: BoardScope, full: Bool) async throws -> String {
        let limit = Int(try Self.number(request, "limit", in: 1...500, default: 100) ?? 100)
        let before = try Self.number(request, "before", in: 0...Int64.max, default: nil)
        let openOnly = request.uri.queryParameters.get("open") == "true"
        let records = try await catalogue.incidents(scope: scope, openOnly: openOnly, before: before, limit: limit)
        return API.json(API.IncidentList(incidents: records.map { API.IncidentDocument($0, full: full) },
                                         nextBefore: records.count == limit ? records.last?.openedAt : nil))
    }

    // MARK: Helpers

    static func response(_ status: HTTPResponse.Status, type: String, _ body: String, cache: String? = nil) -> Response {
        var headers: HTTPFields = [.contentType: type, .init("X-Content-Type-Options")!: "nosniff"]
        if let cache { headers[.cacheControl] = cache }
        return Response(status: status, headers: headers, body: ResponseBody(byteBuffer: ByteBuffer(string: body)))
    }

    /// Compares without an early exit, so the time taken says nothing about how much of a guess was right.
    static func constantTimeEqual(_ a: String, _ b: String) -> Bool {
        let a = Array(a.utf8), b = Array(b.utf8)
        var difference = UInt8(a.count == b.count ? 0 : 1)
        for index in 0..<max(a.count, b.count) {
            difference |= (index < a.count ? a[index] : 0) ^ (index < b.count ? b[index] : 0)
        }
        return difference == 0
    }
}

/// A bad request or setting of the web server, in words.
package struct WebError: Error, CustomStringConvertible {
    package var message: String
    package init(_ message: String) { self.message = message }
    package var description: String { message }
}

/// `operation`, or a `StoreError(.unavailable)` once `limit` has passed.
func withTimeout<T: Sendable>(_ limit: Duration, _ operation: @escaping @Sendable () async throws(StoreError) -> T) async throws -> T {
    try await withThrowingTaskGroup(of: T?.self) { group in
        group.addTask { try await operation() }
        group.addTask {
            try? await Task.sleep(for: limit)
            return nil
        }
        defer { group.cancelAll() }
        guard let first = try await group.next(), let value = first else {
            throw StoreError(.unavailable, "the database did not answer within \(limit)")
        }
        return value
    }
}
