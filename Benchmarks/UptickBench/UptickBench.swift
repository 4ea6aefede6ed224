import ArgumentParser
import Foundation
import Logging
import NIOCore
import NIOPosix
import UptickAlerts
import UptickApp
import UptickCore
import UptickEngine
import UptickNet
import UptickPostgres
import UptickProbes
import UptickStore
import UptickTargets
import UptickWeb

/// `uptick-bench`: measurements recorded in BENCHMARKS.md. Each run makes its own temporary database
/// and local targets on 127.0.0.1, and removes them afterwards.
@main
struct UptickBench: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "uptick-bench",
        abstract: "Benchmarks of the store and the engine (see BENCHMARKS.md).",
        subcommands: [CompareCommand.self, DaemonCommand.self, StoreBench.self, TickBench.self, ServeCommand.self, ScenarioCommand.self, AlertsBench.self, WebBench.self, LoadCommand.self,
                      DNSBench.self, NoisyNeighbourBench.self, NoisyAlertsBench.self]
    )

    static func main() async {
        if ProcessInfo.processInfo.environment["UPTICK_NIO_EXECUTOR"] != "0" {
            NIOSingletons.unsafeTryInstallSingletonPosixEventLoopGroupAsConcurrencyGlobalExecutor()
        }
        do {
            var command = try parseAsRoot()
            if var asyncCommand = command as? any AsyncParsableCommand {
                try await asyncCommand.run()
            } else {
                try command.run()
            }
        } catch {
            exit(withError: error)
        }
    }
}

/// Claim and persist cost on SQLite, or on PostgreSQL.
struct StoreBench: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "store", abstract: "Claim and persist N due monitors on a SQLite file (or PostgreSQL).")

    @Option(help: "A PostgreSQL server (postgres://USER:PASSWORD@HOST:PORT/DB): each run creates a database of its own there.") var postgres: String?
    @Option(help: "Due monitors.") var monitors = 10_000
    @Option(help: "Claim batch size.") var batch = 500
    @Option(help: "Claims to make (default: until every monitor is claimed).") var claims: Int?
    @Option(help: "Repetitions (the best is reported).") var repetitions = 3
    @Flag(help: "JSON output.") var json = false

    func run() async throws {
        var results: [[String: Double]] = []
        for _ in 0..<repetitions {
            let scratch = try await Scratch.make(postgres: postgres)
            defer { scratch.remove() }
            let store = scratch.store
            let now: EpochMilliseconds = 1_764_460_800_000
            try await seed(scratch, count: monitors, dueAt: now)

            let claimStart = ContinuousClock.now
            var claimed: [ClaimedMonitor] = []
            var claimCount = 0
            var slowestClaim = 0.0
            while claimCount < (self.claims ?? .max) {
                let started = ContinuousClock.now
                let claim = try await store.claimDue(now: now, limit: batch, leaseGrace: .seconds(60))
                slowestClaim = max(slowestClaim, seconds(ContinuousClock.now - started))
                if claim.monitors.isEmpty { break }
                claimCount += 1
                claimed += claim.monitors
            }
            let claims = claimCount
            let claimSeconds = seconds(ContinuousClock.now - claimStart)
            precondition(self.claims != nil || claimed.count == monitors, "claimed \(claimed.count) of \(monitors)")

            let outcomes = claimed.map { item in
                let result = CheckResult(status: .up, message: "HTTP 200", httpStatus: 200,
                                         timings: PhaseTimings(dnsMicroseconds: 12, connectMicroseconds: 180, firstByteMicroseconds: 400),
                                         durationMicroseconds: 650)
                let decision = item.monitor.state.applying(result, at: now + 5)
                return CheckOutcome(monitorID: item.monitor.id, monitorName: item.monitor.name, scheduledAt: item.slot, startedAt: now + 5,
                                    result: result, runner: "bench", state: decision.state, transition: decision.transition)
            }
            let persistStart = ContinuousClock.now
            try await store.persist(outcomes)
            let persistSeconds = seconds(ContinuousClock.now - persistStart)
            results.append([
                "claims": Double(claims),
                "claim_total_ms": claimSeconds * 1000,
                "claim_per_batch_ms": claimSeconds * 1000 / Double(claims),
                "slowest_claim_ms": slowestClaim * 1000,
                "persist_ms": persistSeconds * 1000,
                "persist_rows": Double(outcomes.count),
                "persist_rows_per_s": Double(outcomes.count) / persistSeconds,
            ])
        }
        let best = results.min { $0["persist_ms"]! + $0["claim_total_ms"]! < $1["persist_ms"]! + $1["claim_total_ms"]! }!
        if json {
            print(String(decoding: try JSONSerialization.data(withJSONObject: best, options: [.sortedKeys]), as: UTF8.self))
        } else {
            print("store: \(monitors) due monitors on \(postgres == nil ? "SQLite" : "PostgreSQL"), claim batch \(batch), best of \(repetitions)")
            print(String(format: "  claim:   %d claims, %.1f ms total, %.2f ms per claim of %d (slowest %.2f ms)", Int(best["claims"]!),
                         best["claim_total_ms"]!, best["claim_per_batch_ms"]!, batch, best["slowest_claim_ms"]!))
            print(String(format: "  persist: %.0f checks rows + %.0f monitor updates in one transaction: %.1f ms = %.0f rows/s",
                         best["persist_rows"]!, best["persist_rows"]!, best["persist_ms"]!, best["persist_rows_per_s"]!))
        }
    }
}

/// A full tick of port monitors against a local listener.
struct TickBench: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "tick", abstract: "One full tick of N monitors against a local target.")

    @Option(help: "port (a TCP listener) or http (an HTTP server; a fresh connection per check).") var type = "port"
    @Option(help: "Due monitors.") var monitors = 2_000
    @Option(help: "Checks in flight.") var concurrency = 500
    @Option(help: "Repetitions (the best is reported).") var repetitions = 3
    @Flag(help: "JSON output.") var json = false

    func run() async throws {
        guard type == "port" || type == "http" else { throw ValidationError("--type must be port or http") }
        let listener = type == "http" ? try await LoopbackServer.http() : try await LoopbackServer.tcp()
        let target = type == "http" ? listener.url("/") : listener.target
        var best: (seconds: Double, report: EngineReport)?
        for _ in 0..<repetitions {
            let scratch = try Scratch()
            defer { scratch.remove() }
            let clock = SystemClock()
            try await seed(scratch, count: monitors, dueAt: clock.now(), type: type, target: target)
            let engine = scratch.assembly(concurrency: concurrency).engine(for: .tick)
            let start = ContinuousClock.now
            let report = await engine.tick()
            let elapsed = seconds(ContinuousClock.now - start)
            precondition(report.claimed == monitors && report.up == monitors, "claimed \(report.claimed), up \(report.up), errors \(report.errors)")
            if elapsed < (best?.seconds ?? .infinity) { best = (elapsed, report) }
        }
        try await listener.stop()
        guard let best else { return }
        let rate = Double(monitors) / best.seconds
        if json {
            let object: [String: Double] = ["tick_ms": best.seconds * 1000, "checks_per_s": rate,
                                            "lateness_p50_ms": Double(best.report.lateness.percentile(0.5) ?? 0),
                                            "lateness_p99_ms": Double(best.report.lateness.percentile(0.99) ?? 0)]
            print(String(decoding: try JSONSerialization.data(withJSONObject: object, options: [.sortedKeys]), as: UTF8.self))
        } else {
            print("tick: \(monitors) \(type) monitors against a local \(type == "http" ? "HTTP server" : "listener"), concurrency \(concurrency), best of \(repetitions)")
            print(String(format: "  %.1f ms for the whole tick (claim, connect, persist) = %.0f checks/s", best.seconds * 1000, rate))
        }
    }
}

/// A temporary migrated SQLite file.
struct Scratch {
    let directory: URL
    let database: any SQLExecutor
    let store: SQLStore
    /// What `--db` would say: the SQLite file, or the PostgreSQL database's URL.
    let location: String

    /// A new SQLite file in a temporary folder.
    init() throws {
        directory = FileManager.default.temporaryDirectory.appendingPathComponent("uptick-bench-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        location = directory.appendingPathComponent("bench.db").path
        database = try SQLiteDatabase(path: location, create: true)
        store = SQLStore(executor: database)
    }

    /// A new database on the PostgreSQL server `server` (a `postgres://…` URL of an existing database, from which
    /// `CREATE DATABASE` is run), or a new SQLite file when `server` is nil. A PostgreSQL database is left on the server.
    static func make(postgres server: String?) async throws -> Scratch {
        guard let server else { return try Scratch() }
        let name = "bench_" + UUID().uuidString.prefix(8).lowercased()
        _ = try await PostgresDatabase(url: server).execute([SQLStatement("CREATE DATABASE \(name)")], transaction: false)
        guard var components = URLComponents(string: server) else { throw ValidationError("--postgres: not a URL") }
        components.path = "/" + name
        return try Scratch(location: components.string ?? server)
    }

    private init(location: String) throws {
        directory = FileManager.default.temporaryDirectory.appendingPathComponent("uptick-bench-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        self.location = location
        database = try PostgresDatabase(url: location)
        store = SQLStore(executor: database, dialect: .postgres)
    }

    func remove() {
        try? FileManager.default.removeItem(at: directory)
    }

    /// The runner as production wires it (``Assembly``), on this database: real probes allowed onto
    /// 127.0.0.1 only, quiet logging, no housekeeping.
    /// `webPort`: also serve the web server there, with `monitorSeries` per-monitor series.
    func assembly(concurrency: Int = 500, network: Network = benchNetwork(), delivery: DeliveryConfiguration = DeliveryConfiguration(),
                  webPort: Int? = nil, monitorSeries: Int = 0) -> Assembly {
        var configuration = RunnerConfiguration()
        configuration.database = location
        configuration.concurrency = concurrency
        if let webPort {
            configuration.servesHTTP = true
            configuration.web.port = webPort
            configuration.web.monitorSeries = monitorSeries
        }
        configuration.retention = Retention.Keep(checks: nil, hourly: nil, daily: nil)
        configuration.delivery = delivery
        var logger = Logger(label: "bench")
        logger.logLevel = .critical
        return Assembly(configuration: configuration, store: store, network: network,
                        spool: Spool(path: directory.appendingPathComponent("bench.db.spool").path), logger: logger)
    }
}

/// The network the benchmarks use: 127.0.0.1 allowed, the system's resolver configuration unless told.
func benchNetwork(resolver: (any NameResolver)? = nil) -> Network {
    Network(policy: AddressPolicy(allow: [AddressPolicy.Rule(CIDR("127.0.0.1/32")!)]), resolver: resolver)
}

/// Migrates and adds `count` monitors of `type` with one INSERT … SELECT (fast for a million rows, and no
/// Swift value per monitor, so seeding adds nothing to the measured process's peak memory), due at
/// `dueAt`, or unscheduled (`nil`: the runner spreads them over their interval). In `target`, `{n}` stands
/// for the monitor's number (1…count) and `{zone}` for it modulo `zones`; keys are `keyPrefix` and the number.
func seed(_ scratch: Scratch, count: Int, dueAt: EpochMilliseconds?, type: String = "port", target: String = "127.0.0.1:9",
          intervalSeconds: Int64 = 30, zones: Int = 1, keyPrefix: String = "m", settings extra: String? = nil) async throws {
    let progress = Progress("seed")
    progress.show("\(count) \(type) monitors")
    defer { progress.finish("\(count) \(type) monitors") }
    try await scratch.store.migrate(now: dueAt ?? SystemClock().now())
    let quoted = "'" + target.replacingOccurrences(of: "'", with: "''") + "'"
    let targetSQL = quoted.replacingOccurrences(of: "{n}", with: "' || x || '").replacingOccurrences(of: "{zone}", with: "' || (x % \(max(zones, 1))) || '")
    // Ping checks send one echo request each, so they measure the check, not the spacing between requests.
    let settings = extra ?? (type == "ping" ? #"{"ping_count":1}"# : "{}")
    _ = try await scratch.database.execute([SQLStatement("""
        WITH RECURSIVE n(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM n WHERE x < ?1)
        INSERT INTO monitors (key, name, type, target, interval_seconds, timeout_ms, settings, next_check_at)
        SELECT ?6 || x, ?6 || x, ?2, \(targetSQL), ?3, 5000, ?4, CAST(?5 AS BIGINT) FROM n
        """, [.integer(Int64(count)), .text(type), .integer(intervalSeconds), .text(settings), SQLValue(dueAt), .text(keyPrefix)])],
        transaction: true)
}

func seconds(_ duration: Duration) -> Double {
    Double(duration.components.seconds) + Double(duration.components.attoseconds) / 1e18
}
