import ArgumentParser
import Foundation
import NIOCore
import NIOHTTP1
import ServiceLifecycle
import Synchronization
import UptickApp
import UptickCore
import UptickHTTPClient
import UptickStore
import UptickTargets

/// The status page, the API and `/metrics` of a runner with N public monitors and D days of rollups (daily for every
/// day, hourly for the last 7 as the default retention keeps), while the runner checks them: response time and size.
struct WebBench: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "web", abstract: "Measure the web server's pages over N monitors with D days of rollups.")

    @Option(help: "Public monitors.") var monitors = 10_000
    @Option(help: "Days of daily rollups.") var days = 90
    @Option(help: "Requests per path.") var requests = 200
    @Option(help: "Interval of every monitor, seconds (the per-monitor series fill in one interval).") var interval: Int64 = 30
    @Flag(help: "JSON output.") var json = false

    func run() async throws {
        ResourceLimits.raiseOpenFiles()
        let server = try Child(["serve", "--kind", "tcp"])
        defer { server.stop() }
        let scratch = try Scratch()
        defer { scratch.remove() }
        try await seed(scratch, count: monitors, dueAt: nil, target: "127.0.0.1:\(server.firstLine())", intervalSeconds: interval,
                       settings: #"{"public":true}"#)
        let now = SystemClock().now()
        try await seedRollups(scratch, days: days, hourlyDays: 7, now: now)
        let port = try LoopbackServer.freePort()
        let assembly = scratch.assembly(webPort: port, monitorSeries: monitors)
        // `{n}`: the request's number, so each request asks for another page and renders it (the page cache's misses).
        let pages = max(1, monitors / 50)
        let paths = ["/", "/?page={n}", "/api/v1/monitors?per_page=100", "/badges/\(monitors / 2)/uptime.svg", "/metrics"]
        let measured = Mutex<[String: [String: Double]]>([:])
        _ = try await Daemon(assembly: assembly, signals: []).run { group in
            // One interval, so every monitor has been checked once and has its per-monitor series.
            let progress = Progress("web: first checks", total: Int(interval) + 2)
            for second in 0..<(Int(interval) + 2) {
                progress.update(second, unit: "s")
                try? await Task.sleep(for: .seconds(1))
            }
            progress.finish("done")
            for path in paths {
                let result = (try? await measure(port: port, path: path, count: path.contains("{n}") ? min(requests, pages) : requests)) ?? [:]
                measured.withLock { $0[path] = result }
            }
            await group.triggerGracefulShutdown()
        }
        let results = measured.withLock { $0 }
        if json {
            print(String(decoding: try JSONSerialization.data(withJSONObject: results, options: [.sortedKeys]), as: UTF8.self))
        } else {
            print("web: \(monitors) public monitors, \(days) days of daily and 7 of hourly rollups, while checking them every \(interval) s; \(requests) requests per path, one at a time")
            for path in paths {
                guard let result = results[path] else { continue }
                print(String(format: "  %-34@ p50 %6.1f ms  p99 %6.1f ms  %8.0f bytes  %@", path as NSString, result["p50_ms"] ?? 0, result["p99_ms"] ?? 0,
                             result["bytes"] ?? 0, (result["status"] == 200 ? "" : "status \(Int(result["status"] ?? 0))") as NSString))
            }
        }
    }
}

/// `count` GETs of `path` (`{n}` in it replaced by 1, 2, …), one after another on one keep-alive connection: p50, p99,
/// the body's size, the status.
func measure(port: Int, path: String, count: Int) async throws -> [String: Double] {
    let pool = try HTTPConnectionPool(origin: .init(host: "127.0.0.1", port: port, tls: false))
    var times: [Double] = [], bytes = 0, status = 0
    for index in 0..<count {
        let started = ContinuousClock.now
        let response = try await pool.send(method: .GET, path: path.replacingOccurrences(of: "{n}", with: String(index + 1)), headers: [],
                                           body: nil, timeout: .seconds(30))
        times.append(seconds(ContinuousClock.now - started) * 1000)
        bytes = response.body.readableBytes
        status = response.status
    }
    times.sort()
    return ["p50_ms": times[times.count / 2], "p99_ms": times[min(times.count - 1, Int(Double(times.count) * 0.99))], "bytes": Double(bytes),
            "status": Double(status)]
}

/// Daily rollups for every monitor and each of the last `days` days, hourly ones for the last `hourlyDays` days: 2 880
/// checks a day (30 s), a few down on some days, durations spread over the histogram.
func seedRollups(_ scratch: Scratch, days: Int, hourlyDays: Int, now: EpochMilliseconds) async throws {
    let progress = Progress("seed rollups")
    progress.show("\(days) days daily, \(hourlyDays) days hourly")
    defer { progress.finish("done") }
    let buckets = (0..<LatencyHistogram.bucketCount).map { "b\($0)" }.joined(separator: ", ")
    let values = (0..<LatencyHistogram.bucketCount).map { $0 == 6 ? "c - c / 4" : $0 == 9 ? "c / 4" : "0" }.joined(separator: ", ")
    for (period, count, checks) in [(Int64(86_400_000), days, 2_880), (Int64(3_600_000), hourlyDays * 24, 120)] {
        let first = now / period * period - Int64(count - 1) * period
        _ = try await scratch.database.execute([SQLStatement("""
            WITH RECURSIVE p(k) AS (SELECT 0 UNION ALL SELECT k + 1 FROM p WHERE k < ?1 - 1)
            INSERT INTO rollups (monitor_id, period_ms, period_start, up, degraded, down, duration_sum_us, duration_max_us, \(buckets))
            SELECT id, ?2, ?3 + k * ?2, c - d, 0, d, c * 9000, 40000, \(values)
            FROM (SELECT m.id AS id, p.k AS k, ?4 AS c, CASE WHEN (m.id + p.k) % 17 = 0 THEN 3 ELSE 0 END AS d FROM monitors m CROSS JOIN p)
            """, [.integer(Int64(count)), .integer(period), .integer(first), .integer(Int64(checks))])], transaction: true)
    }
    _ = try await scratch.database.execute([SQLStatement("""
        INSERT INTO incidents (monitor_id, opened_at, resolved_at, cause_class, cause_message)
        SELECT id, ?1 - id * 1000, ?1 - id * 1000 + 300000, 'timeout', 'timed out' FROM monitors WHERE id % 100 = 0
        """, [.integer(now - 86_400_000)])], transaction: true)
}

/// A paced HTTP client in its own process (so its CPU is not the runner's): `rate` GETs a second of `path` for
/// `seconds`, each started on schedule whatever the previous ones do. Prints `ready`, then at the end one JSON line.
struct LoadCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "load", abstract: "GET a path at a fixed rate; print latency percentiles.")

    @Option(help: "The server's port on 127.0.0.1.") var port: Int
    @Option(help: "Path to request.") var path = "/"
    @Option(help: "Requests a second.") var rate = 100
    @Option(name: .customLong("seconds"), help: "Seconds to run.") var duration = 60
    @Option(help: "Seconds to wait before the first request.") var delay = 0

    func run() async throws {
        FileHandle.standardOutput.write(Data("ready\n".utf8))
        try await Task.sleep(for: .seconds(delay))
        let pool = try HTTPConnectionPool(origin: .init(host: "127.0.0.1", port: port, tls: false))
        let start = ContinuousClock.now
        let total = rate * duration
        let results = await withTaskGroup(of: Double?.self) { group in
            for index in 0..<total {
                try? await Task.sleep(until: start + .milliseconds(index * 1000 / rate))
                group.addTask {
                    let sent = ContinuousClock.now
                    guard let response = try? await pool.send(method: .GET, path: path, headers: [], body: nil, timeout: .seconds(10)),
                          response.status == 200 else { return nil }
                    return seconds(ContinuousClock.now - sent) * 1000
                }
            }
            var times: [Double?] = []
            for await time in group { times.append(time) }
            return times
        }
        let times = results.compactMap { $0 }.sorted()
        let summary: [String: Double] = [
            "requests": Double(total), "ok": Double(times.count), "rate_per_s": Double(total) / seconds(ContinuousClock.now - start),
            "p50_ms": times.isEmpty ? 0 : times[times.count / 2], "p99_ms": times.isEmpty ? 0 : times[min(times.count - 1, times.count * 99 / 100)],
        ]
        print(String(decoding: try JSONSerialization.data(withJSONObject: summary, options: [.sortedKeys]), as: UTF8.self))
    }
}
