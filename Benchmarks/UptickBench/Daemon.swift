import ServiceLifecycle
import ArgumentParser
import Foundation
import Logging
import UptickApp
import UptickCore
import UptickEngine
import UptickNet
import UptickProbes
import UptickStore
import UptickTargets

/// The daemon at scale: N monitors at one interval against a target server in another process, for a
/// fixed time. Reports the sustained rate, schedule lateness, the share of the machine's CPU and peak RSS.
struct DaemonCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "daemon", abstract: "Run the daemon over N monitors for a while and measure it.")

    @Option(help: "Monitors.") var monitors = 100_000
    @Option(help: "Interval of every monitor, seconds.") var interval: Int64 = 30
    @Option(help: "How long to run, seconds.") var duration = 300
    @Option(help: "port or http.") var type = "port"
    @Option(help: "Checks in flight at most.") var concurrency = 500
    @Option(help: "Also serve HTTP and have another process GET the status page this many times a second (0: no server).") var pageRate = 0
    @Option(help: "A PostgreSQL server (postgres://USER:PASSWORD@HOST:PORT/DB) to run on, in a database of its own, instead of a SQLite file.")
    var postgres: String?
    @Flag(help: "JSON output.") var json = false

    func run() async throws {
        ResourceLimits.raiseOpenFiles()
        let server = try Child(["serve", "--kind", type == "http" ? "http" : "tcp"])
        defer { server.stop() }
        let port = server.firstLine()
        let target = type == "http" ? "http://127.0.0.1:\(port)/" : "127.0.0.1:\(port)"
        let scratch = try await Scratch.make(postgres: postgres)
        defer { scratch.remove() }
        try await seed(scratch, count: monitors, dueAt: nil, type: type, target: target, intervalSeconds: interval,
                       settings: pageRate > 0 ? #"{"public":true}"# : nil)

        let seededRSS = Self.currentRSSMegabytes()
        var load: Child?
        var webPort: Int?
        if pageRate > 0 {
            let port = try LoopbackServer.freePort()
            webPort = port
            // Starts after the server, and stops before the daemon's drain.
            load = try Child(["load", "--port", String(port), "--rate", String(pageRate), "--delay", "2", "--seconds", String(max(1, duration - 4))])
            _ = load?.firstLine()
        }
        let serverBefore = Self.postgresCPUSeconds()
        let (finished, wall, cpuShare) = try await runDaemon(scratch.assembly(concurrency: concurrency, webPort: webPort), seconds: duration)
        let serverShare = (Self.postgresCPUSeconds() - serverBefore) / wall / Double(ProcessInfo.processInfo.activeProcessorCount)
        let after = Measurement.usage()
        var result: [String: Double] = [
            "monitors": Double(monitors), "interval_s": Double(interval), "duration_s": wall,
            "checks": Double(finished.persisted), "checks_per_s": Double(finished.persisted) / wall,
            "expected_per_s": Double(monitors) / Double(interval),
            "lateness_p50_ms": Double(finished.lateness.percentile(0.5) ?? 0), "lateness_p99_ms": Double(finished.lateness.percentile(0.99) ?? 0),
            "lateness_max_ms": Double(finished.lateness.max), "cpu_share_of_machine": cpuShare,
            "peak_rss_mb": Double(after.peakRSSKilobytes) / 1024, "failures": Double(finished.down),
            "rss_after_seeding_mb": seededRSS, "rss_end_mb": Self.currentRSSMegabytes(),
        ]
        if postgres != nil { result["server_cpu_share_of_machine"] = serverShare }
        if let load, let summary = try? JSONSerialization.jsonObject(with: load.output()) as? [String: Double] {
            for (key, value) in summary { result["page_" + key] = value }
        }
        if json {
            print(String(decoding: try JSONSerialization.data(withJSONObject: result, options: [.sortedKeys]), as: UTF8.self))
        } else {
            print(String(format: "daemon: %d %@ monitors every %llds for %.0f s: %.0f checks/s (expected %.0f), lateness p50 %.0f / p99 %.0f / max %.0f ms, "
                         + "CPU %.0f%% of the machine, RSS %.0f MB after seeding / %.0f MB at the end / %.0f MB peak, %.0f down",
                         monitors, type, interval, wall, result["checks_per_s"]!, result["expected_per_s"]!, result["lateness_p50_ms"]!,
                         result["lateness_p99_ms"]!, result["lateness_max_ms"]!, cpuShare * 100, seededRSS, result["rss_end_mb"]!,
                         result["peak_rss_mb"]!, result["failures"]!))
            if postgres != nil { print(String(format: "  PostgreSQL's processes: CPU %.0f%% of the machine", serverShare * 100)) }
            if pageRate > 0 {
                print(String(format: "  status page: %.0f of %.0f requests answered at %.0f/s, p50 %.1f / p99 %.1f ms",
                             result["page_ok"] ?? 0, result["page_requests"] ?? 0, result["page_rate_per_s"] ?? 0, result["page_p50_ms"] ?? 0,
                             result["page_p99_ms"] ?? 0))
            }
        }
    }

    /// CPU seconds used so far by every process named `postgres` on this machine (the server under test; it runs
    /// beside the benchmark). Processes that exited meanwhile are not counted, so connections are kept open.
    static func postgresCPUSeconds() -> Double {
        let ticks = Double(sysconf(Int32(_SC_CLK_TCK)))
        var total = 0.0
        for entry in (try? FileManager.default.contentsOfDirectory(atPath: "/proc")) ?? [] where entry.allSatisfy(\.isNumber) {
            guard let stat = try? String(contentsOfFile: "/proc/\(entry)/stat", encoding: .utf8),
                  let open = stat.firstIndex(of: "("), let close = stat.lastIndex(of: ")"),
                  stat[stat.index(after: open)..<close] == "postgres" else { continue }
            let fields = stat[stat.index(after: close)...].split(separator: " ")
            // After the name: state is field 3, utime 14 and stime 15 (1-based over the whole line).
            if fields.count > 12, let user = Double(fields[11]), let system = Double(fields[12]) { total += (user + system) / ticks }
        }
        return total
    }

    /// VmRSS from /proc/self/status, megabytes.
    static func currentRSSMegabytes() -> Double {
        guard let status = try? String(contentsOfFile: "/proc/self/status", encoding: .utf8),
              let line = status.split(separator: "\n").first(where: { $0.hasPrefix("VmRSS:") }),
              let kilobytes = line.split(separator: " ").compactMap({ Double($0) }).first else { return 0 }
        return kilobytes / 1024
    }
}

/// Runs the daemon `uptick run` runs (engine and deliverer in one service group) for `seconds`, then shuts it
/// down: the engine's report, the wall time and this process's share of the machine's CPU meanwhile.
func runDaemon(_ assembly: Assembly, seconds duration: Int) async throws -> (report: EngineReport, wall: Double, cpuShare: Double) {
    let before = Measurement.usage()
    let start = ContinuousClock.now
    let progress = Progress("daemon run", total: duration)
    let finished = try await Daemon(assembly: assembly, signals: []).run { group in
        for second in 0..<duration {
            progress.update(second, unit: "s")
            try? await Task.sleep(for: .seconds(1))
        }
        progress.finish("\(duration) s; draining")
        await group.triggerGracefulShutdown()
    }.report
    let wall = seconds(ContinuousClock.now - start)
    let after = Measurement.usage()
    let cpuShare = Double(after.cpuMicroseconds - before.cpuMicroseconds) / 1e6 / wall / Double(ProcessInfo.processInfo.activeProcessorCount)
    return (finished, wall, cpuShare)
}
