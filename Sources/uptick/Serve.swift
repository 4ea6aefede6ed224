import ArgumentParser
import Foundation
import UptickApp
import UptickWeb

/// The web server's options (docs/observability.md).
struct WebOptions: ParsableArguments {
    @Option(help: "Serve health, metrics, the status page and the API on HOST:PORT (loopback unless told otherwise; env UPTICK_HTTP).")
    var http: String?
    @Option(help: "The status page's title (default Status).") var statusTitle: String?
    @Option(help: "A client sending 'Authorization: Bearer TOKEN' sees every monitor in the API (env UPTICK_API_TOKEN).") var apiToken: String?
    @Option(help: "Export uptick_monitor_* series for at most this many monitors (default 0: none).") var monitorMetrics: Int?

    var flags: [String: [String]] {
        ["http": http.map { [$0] }, "status-title": statusTitle.map { [$0] }, "api-token": apiToken.map { [$0] },
         "monitor-metrics": monitorMetrics.map { [String($0)] }].compactMapValues { $0 }
    }
}

/// Says where the web server listens, on stderr, once it does.
func announceListening(_ configuration: RunnerConfiguration) -> @Sendable (Int) -> Void {
    let host = configuration.web.host.contains(":") ? "[\(configuration.web.host)]" : configuration.web.host
    return { port in LineWriter.standardError.write("uptick: serving http://\(host):\(port)/") }
}

struct Serve: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Serve the status page, badges, the JSON API, /metrics and health checks, without running checks."
    )

    @OptionGroup var options: GlobalOptions
    @OptionGroup var webOptions: WebOptions

    func run() async throws {
        var configuration = try options.configuration(webOptions.flags)
        configuration.servesHTTP = true
        let assembly = try await Assembly.open(configuration, role: .daemon)
        try await assembly.serve(onListening: announceListening(configuration))
    }
}
