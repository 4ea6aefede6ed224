import ArgumentParser
import Foundation

/// The comparison of issue #4: the ceiling, uptick and the naive design, in one run, each in its own process,
/// against one target server in another process; optionally blackbox_exporter through `ab`.
struct CompareCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "compare",
        abstract: "Measure the ceiling, uptick and the naive design side by side (and blackbox_exporter if installed)."
    )

    @Option(help: "http, port or ping (ping needs an ICMP socket: root or ping_group_range).") var type = "http"
    @Option(help: "Checks per scenario.") var monitors = 10_000
    @Option(help: "Checks in flight for the ceiling and uptick.") var concurrency = 500
    @Flag(help: "Also measure prometheus-blackbox-exporter with ab (both must be installed).") var blackbox = false
    @Option(help: "ab concurrencies to drive blackbox_exporter with; uptick is compared with the best.") var blackboxConcurrency = "50,100,200"
    @Flag(help: "JSON output.") var json = false

    func run() async throws {
        guard ["http", "port", "ping"].contains(type) else { throw ValidationError("--type must be http, port or ping") }
        let server = try Child(["serve", "--kind", type == "http" ? "http" : "tcp"])
        defer { server.stop() }
        let port = server.firstLine()
        let target = type == "http" ? "http://127.0.0.1:\(port)/" : (type == "port" ? "127.0.0.1:\(port)" : "127.0.0.1")
        var results: [Measurement] = []
        let scenarios: [ScenarioCommand.Name] = type == "http" ? [.ceiling, .uptick, .naive] : [.uptick, .naive]
        for scenario in scenarios {
            let child = try Child(["scenario", scenario.rawValue, "--type", type, "--target", target,
                                   "--monitors", String(monitors), "--concurrency", String(concurrency)])
            results.append(try JSONDecoder().decode(Measurement.self, from: child.output()))
        }
        var blackboxRates: [(concurrency: Int, rate: Double)] = []
        if blackbox {
            for concurrency in blackboxConcurrency.split(separator: ",").compactMap({ Int($0) }) {
                blackboxRates.append((concurrency, try Blackbox.measure(target: target, requests: min(monitors, 5_000), concurrency: concurrency)))
            }
        }
        if json {
            print(String(decoding: try JSONEncoder().encode(results), as: UTF8.self))
            return
        }
        let ceiling = results.first { $0.scenario == "ceiling" }?.checksPerSecond
        print("compare: \(monitors) \(type) checks per scenario against one loopback server process; concurrency \(concurrency) (naive: unbounded)")
        print("scenario   checks/s   ×ceiling   CPU µs/check   peak RSS   lateness p50/p99/max   DB rows/s   failures")
        for result in results {
            let ratio = ceiling.map { String(format: "%.2f", result.checksPerSecond / $0) } ?? "-"
            let lateness = result.latenessP99Milliseconds.map { "\(result.latenessP50Milliseconds ?? 0)/\($0)/\(result.latenessMaxMilliseconds ?? 0) ms" } ?? "-"
            let rows = result.databaseRowsPerSecond.map { String(format: "%.0f", $0) } ?? "-"
            print(String(format: "%-9@  %8.0f   %8@   %12.0f   %5.0f MB   %20@   %9@   %8d", result.scenario, result.checksPerSecond, ratio,
                         result.cpuMicrosecondsPerCheck, Double(result.peakRSSKilobytes) / 1024, lateness, rows, result.failures))
        }
        if let best = blackboxRates.max(by: { $0.rate < $1.rate }) {
            let rates = blackboxRates.map { String(format: "-c %d: %.0f", $0.concurrency, $0.rate) }.joined(separator: ", ")
            let ratio = results.first { $0.scenario == "uptick" }.map { String(format: "uptick is %.1f× the best", $0.checksPerSecond / best.rate) } ?? ""
            print("blackbox_exporter via ab, probes/s: \(rates) (\(ratio))")
        }
    }
}

/// prometheus-blackbox-exporter probing the same target, driven by ApacheBench through its /probe endpoint.
enum Blackbox {
    static func measure(target: String, requests: Int, concurrency: Int) throws -> Double {
        let config = FileManager.default.temporaryDirectory.appendingPathComponent("blackbox-\(UUID()).yml")
        try """
            modules:
              http_2xx:
                prober: http
                timeout: 5s
              tcp_connect:
                prober: tcp
                timeout: 5s
            """.write(to: config, atomically: true, encoding: .utf8)
        defer { try? FileManager.default.removeItem(at: config) }
        let exporter = Process()
        exporter.executableURL = URL(fileURLWithPath: "/usr/bin/prometheus-blackbox-exporter")
        exporter.arguments = ["--config.file=\(config.path)", "--web.listen-address=127.0.0.1:19115", "--log.level=error"]
        exporter.standardOutput = FileHandle.nullDevice
        exporter.standardError = FileHandle.nullDevice
        try exporter.run()
        defer { exporter.terminate(); exporter.waitUntilExit() }
        let module = target.hasPrefix("http") ? "http_2xx" : "tcp_connect"
        let url = "http://127.0.0.1:19115/probe?module=\(module)&target=\(target.addingPercentEncoding(withAllowedCharacters: .alphanumerics) ?? target)"
        // Wait until it answers (a signal: its own endpoint), at most 5 s.
        for _ in 0..<50 {
            if (try? run("/usr/bin/curl", ["-sf", "-o", "/dev/null", url])) != nil { break }
            Thread.sleep(forTimeInterval: 0.1)
        }
        let output = try run("/usr/bin/ab", ["-q", "-n", String(requests), "-c", String(concurrency), url])
        guard let line = output.split(separator: "\n").first(where: { $0.hasPrefix("Requests per second:") }),
              let rate = line.split(separator: " ").compactMap({ Double($0) }).first else {
            throw ValidationError("could not read ab's output:\n\(output)")
        }
        return rate
    }

    static func run(_ tool: String, _ arguments: [String]) throws -> String {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: tool)
        process.arguments = arguments
        let pipe = Pipe()
        process.standardOutput = pipe
        process.standardError = FileHandle.nullDevice
        try process.run()
        let data = pipe.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        guard process.terminationStatus == 0 else { throw ValidationError("\(tool) failed") }
        return String(decoding: data, as: UTF8.self)
    }
}
