import ArgumentParser
import Foundation
import NIOCore
import NIOPosix
import UptickApp
import UptickCore
import UptickEngine
import UptickNet
import UptickStore

/// Which resolver a DNS benchmark runs with.
enum ResolverChoice: String, ExpressibleByArgument, CaseIterable {
    /// uptick's own (``DNSResolver``), asking the benchmark's DNS server.
    case uptick
    /// `getaddrinfo` on a pool of 32 threads, as uptick resolved names before: it asks the nameserver of
    /// /etc/resolv.conf on port 53, so run it where that is the benchmark's server (see BENCHMARKS.md).
    case getaddrinfo
}

/// The resolver uptick used before its own: `getaddrinfo` on a dedicated pool of 32 threads. Kept here only
/// as the baseline the benchmarks compare against. A lookup holds its thread until glibc gives up, whatever
/// the check's deadline.
struct GetaddrinfoResolver: NameResolver {
    static let pool: NIOThreadPool = {
        let pool = NIOThreadPool(numberOfThreads: 32)
        pool.start()
        return pool
    }()

    func lookup(_ name: String, families: AddressFamilies, deadline: NIODeadline) async throws(CheckFailure) -> [IPAddress] {
        let result: Result<[IPAddress], CheckFailure>
        do {
            result = try await Self.pool.runIfActive { Self.getaddrinfo(name) }
        } catch {
            throw CheckFailure(.other, "resolver unavailable: \(error)")
        }
        return try result.get()
    }

    private static func getaddrinfo(_ host: String) -> Result<[IPAddress], CheckFailure> {
        var hints = addrinfo()
        hints.ai_family = AF_UNSPEC
        hints.ai_socktype = Int32(SOCK_STREAM.rawValue)
        var list: UnsafeMutablePointer<addrinfo>?
        let rc = Glibc.getaddrinfo(host, "80", &hints, &list)
        guard rc == 0, let list else { return .failure(CheckFailure(.dns, "cannot resolve \(host): \(String(cString: gai_strerror(rc)))")) }
        defer { freeaddrinfo(list) }
        var addresses: [IPAddress] = []
        var cursor: UnsafeMutablePointer<addrinfo>? = list
        while let entry = cursor {
            if let raw = entry.pointee.ai_addr {
                let address: SocketAddress? = switch entry.pointee.ai_family {
                case AF_INET: raw.withMemoryRebound(to: sockaddr_in.self, capacity: 1) { SocketAddress($0.pointee, host: host) }
                case AF_INET6: raw.withMemoryRebound(to: sockaddr_in6.self, capacity: 1) { SocketAddress($0.pointee, host: host) }
                default: nil
                }
                if let ip = address.flatMap(IPAddress.init) { addresses.append(ip) }
            }
            cursor = entry.pointee.ai_next
        }
        return .success(addresses)
    }
}

/// What one run of HTTP monitors on host names measured, from the engine's report and the checks it wrote.
struct DNSRun {
    var checks = 0
    var expectedPerSecond = 0.0
    var perSecond = 0.0
    var latenessP50 = 0.0, latenessP99 = 0.0, latenessMax = 0.0
    var durationP50 = 0.0, durationP99 = 0.0
    /// Checks of the measured monitors that were not up, by error class.
    var notUp: [String: Int] = [:]
    var statistics: DNSResolver.Statistics?
    var serverQueries = 0
    var cpuShare = 0.0

    var dictionary: [String: Any] {
        var object: [String: Any] = [
            "checks": checks, "expected_per_s": expectedPerSecond, "checks_per_s": perSecond, "lateness_p50_ms": latenessP50,
            "lateness_p99_ms": latenessP99, "lateness_max_ms": latenessMax, "duration_p50_ms": durationP50, "duration_p99_ms": durationP99,
            "not_up": notUp, "server_queries": serverQueries, "cpu_share_of_machine": cpuShare,
        ]
        if let statistics {
            let lookups = statistics.cacheHits + statistics.joined + statistics.misses
            object["resolver"] = ["cache_hits": statistics.cacheHits, "joined": statistics.joined, "misses": statistics.misses,
                                  "queries": statistics.queries, "failures": statistics.failures,
                                  "cache_hit_rate": lookups == 0 ? 0 : Double(statistics.cacheHits) / Double(lookups)]
        }
        return object
    }

    var summary: String {
        var text = String(format: "%d checks, %.0f/s (expected %.0f), lateness p50 %.0f / p99 %.0f / max %.0f ms, duration p50 %.1f / p99 %.1f ms, "
                          + "CPU %.0f%% of the machine, not up: %@", checks, perSecond, expectedPerSecond, latenessP50, latenessP99, latenessMax,
                          durationP50, durationP99, cpuShare * 100, notUp.isEmpty ? "none" : notUp.map { "\($0.key) \($0.value)" }.joined(separator: ", "))
        if let statistics {
            let lookups = statistics.cacheHits + statistics.joined + statistics.misses
            text += String(format: "\n  resolver: %d lookups, %d from the cache (%.1f %%), %d joined, %d to the network (%d queries, %d failed); server saw %d queries",
                           lookups, statistics.cacheHits, lookups == 0 ? 0 : 100 * Double(statistics.cacheHits) / Double(lookups), statistics.joined,
                           statistics.misses, statistics.queries, statistics.failures, serverQueries)
        }
        return text
    }
}

/// Runs `monitors` HTTP monitors named `m{n}.c{zone}.test` (and `silent` more under a zone that never
/// answers) against an HTTP target, resolving through `choice`, as a daemon for `duration` seconds.
func runDNSScenario(monitors: Int, silent: Int, zones: Int, interval: Int64, duration: Int, concurrency: Int, choice: ResolverChoice,
                    dnsPort: Int, delayMilliseconds: Int64, ttl: UInt32) async throws -> DNSRun {
    let http = try Child(["serve", "--kind", "http"])
    defer { http.stop() }
    let port = http.firstLine()
    let dns = try Child(["serve", "--kind", "dns", "--port", String(dnsPort), "--delay-ms", String(delayMilliseconds), "--ttl", String(ttl)])
    let dnsServer = try SocketAddress(ipAddress: "127.0.0.1", port: Int(dns.firstLine()) ?? 53)
    let scratch = try Scratch()
    defer { scratch.remove() }
    try await seed(scratch, count: monitors, dueAt: nil, type: "http", target: "http://m{n}.c{zone}.test:\(port)/",
                   intervalSeconds: interval, zones: zones)
    if silent > 0 {
        try await seed(scratch, count: silent, dueAt: nil, type: "http", target: "http://s{n}.silent.test:\(port)/",
                       intervalSeconds: interval, keyPrefix: "silent")
    }
    let resolver: (any NameResolver) = switch choice {
    case .uptick: DNSResolver(configuration: ResolverConfiguration(nameservers: [dnsServer], timeout: .seconds(5), attempts: 2))
    case .getaddrinfo: GetaddrinfoResolver()
    }
    let assembly = scratch.assembly(concurrency: concurrency, network: benchNetwork(resolver: resolver))
    let (finished, wall, cpuShare) = try await runDaemon(assembly, seconds: duration)
    var run = DNSRun()
    run.serverQueries = Int(dns.stopReadingLastLine()) ?? 0
    run.checks = finished.persisted
    run.expectedPerSecond = Double(monitors + silent) / Double(interval)
    run.perSecond = Double(finished.persisted) / wall
    run.cpuShare = cpuShare
    run.statistics = (resolver as? DNSResolver)?.statistics
    // The measured monitors' checks: lateness and duration percentiles, and what was not up.
    let rows = try await scratch.database.execute([
        SQLStatement("""
            SELECT c.started_at - c.scheduled_at, c.duration_us, c.status, COALESCE(c.error_class, '')
            FROM checks c JOIN monitors m ON m.id = c.monitor_id WHERE m.key LIKE 'm%'
            """),
    ], transaction: false)[0].rows
    let lateness = rows.compactMap { $0[0].integer }.sorted()
    let durations = rows.compactMap { $0[1].integer }.sorted()
    func percentile(_ values: [Int64], _ fraction: Double) -> Double {
        values.isEmpty ? 0 : Double(values[min(values.count - 1, Int(Double(values.count) * fraction))])
    }
    run.latenessP50 = percentile(lateness, 0.5)
    run.latenessP99 = percentile(lateness, 0.99)
    run.latenessMax = Double(lateness.last ?? 0)
    run.durationP50 = percentile(durations, 0.5) / 1000
    run.durationP99 = percentile(durations, 0.99) / 1000
    for row in rows where row[2].text != "up" { run.notUp[row[3].text ?? "", default: 0] += 1 }
    return run
}

/// The options both DNS benchmarks take.
struct DNSRunOptions: ParsableArguments {
    @Option(help: "Interval, seconds.") var interval: Int64 = 3
    @Option(help: "How long to run (each run), seconds.") var duration = 60
    @Option(help: "Checks in flight at most.") var concurrency = 1_000
    @Option(help: "uptick or getaddrinfo.") var resolver = ResolverChoice.uptick
    @Option(help: "The DNS server's port (53 for getaddrinfo).") var dnsPort = 0
    @Flag(help: "JSON output.") var json = false
}

/// Lookups at scale: distinct names served by a DNS server that takes a while to answer.
struct DNSBench: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "dns", abstract: "HTTP monitors on distinct host names, each lookup answered after a delay: checks/s, lateness, cache.")

    @Option(help: "Monitors, each with its own name.") var monitors = 10_000
    @Option(help: "Zones the names are spread over (names m{n}.c{n mod zones}.test).") var zones = 1_000
    @Option(help: "Milliseconds the DNS server waits before each answer.") var delayMs: Int64 = 50
    @Option(help: "TTL of the answers (0: every check asks).") var ttl: UInt32 = 0
    @OptionGroup var options: DNSRunOptions

    func run() async throws {
        ResourceLimits.raiseOpenFiles()
        let (interval, duration, resolver) = (options.interval, options.duration, options.resolver)
        let result = try await runDNSScenario(monitors: monitors, silent: 0, zones: zones, interval: interval, duration: duration,
                                              concurrency: options.concurrency, choice: resolver, dnsPort: options.dnsPort,
                                              delayMilliseconds: delayMs, ttl: ttl)
        if options.json {
            print(String(decoding: try JSONSerialization.data(withJSONObject: result.dictionary, options: [.sortedKeys]), as: UTF8.self))
        } else {
            print("dns: \(monitors) HTTP monitors on distinct names in \(zones) zones every \(interval) s for \(duration) s, "
                  + "answers after \(delayMs) ms with TTL \(ttl), resolver \(resolver.rawValue)")
            print("  " + result.summary)
        }
    }
}

/// A silent zone beside normal monitors: how much the normal ones suffer.
struct NoisyNeighbourBench: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "noisy-dns", abstract: "Normal monitors alone, then beside monitors whose zone never answers: their duration and lateness.")

    @Option(help: "Normal monitors.") var monitors = 5_000
    @Option(help: "Monitors whose zone never answers.") var silent = 50
    @Option(help: "Runs of each kind, alternating (alone, beside, alone, …), to see the noise between runs.") var pairs = 1
    @OptionGroup var options: DNSRunOptions

    func run() async throws {
        ResourceLimits.raiseOpenFiles()
        let (interval, duration, resolver) = (options.interval, options.duration, options.resolver)
        // Normal names answer at once with TTL 0: every check asks, the worst case for sharing the resolver.
        func scenario(_ silent: Int) async throws -> DNSRun {
            try await runDNSScenario(monitors: monitors, silent: silent, zones: 1_000, interval: interval, duration: duration,
                                     concurrency: options.concurrency, choice: resolver, dnsPort: options.dnsPort, delayMilliseconds: 0, ttl: 0)
        }
        var runs: [(alone: DNSRun, beside: DNSRun)] = []
        if !options.json {
            print("noisy-dns: \(monitors) HTTP monitors every \(interval) s for \(duration) s, resolver \(resolver.rawValue); "
                  + "names answer at once with TTL 0")
        }
        for _ in 0..<pairs {
            let alone = try await scenario(0)
            let beside = try await scenario(silent)
            runs.append((alone, beside))
            if !options.json {
                print("  alone:            " + alone.summary)
                print("  beside \(silent) silent: " + beside.summary)
                print(String(format: "  beside / alone: duration p99 × %.2f, lateness p99 × %.2f", beside.durationP99 / max(alone.durationP99, 0.001),
                             beside.latenessP99 / max(alone.latenessP99, 1)))
            }
        }
        if options.json {
            let object = runs.map { run -> [String: Any] in
                ["alone": run.alone.dictionary, "beside_silent": run.beside.dictionary,
                 "duration_p99_ratio": run.beside.durationP99 / max(run.alone.durationP99, 0.001),
                 "lateness_p99_ratio": run.beside.latenessP99 / max(run.alone.latenessP99, 1)]
            }
            print(String(decoding: try JSONSerialization.data(withJSONObject: object, options: [.sortedKeys]), as: UTF8.self))
        }
    }
}
