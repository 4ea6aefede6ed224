import ArgumentParser
import Foundation
import UptickApp
import UptickCore
import UptickEngine
import UptickNet
import UptickProbes

struct Check: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Run one check now, through the same code path as the engine, without a database.",
        discussion: "Exit status: 0 up, 1 degraded, 2 down or blocked, 64 bad input."
    )

    @Argument(help: "URL for http, host:port for port, host for ping and dns.") var target: String
    @Option(help: "http, port, ping or dns.") var type = "http"
    @OptionGroup var check: CheckOptions
    @OptionGroup var policyOptions: PolicyOptions
    @Flag(help: "Print the result as JSON.") var json = false

    func run() async throws {
        let draft = try check.definition(type: type, target: target).draft()
        let monitor = Monitor(id: 0, name: target, type: draft.type, target: draft.target, intervalSeconds: draft.intervalSeconds,
                              timeoutMilliseconds: draft.timeoutMilliseconds, settings: draft.settings)
        let probe = StandardProbe(network: try policyOptions.network())
        let result = await CheckRunner(probe: probe).check(monitor)
        emit(json ? Output.json(result) : Output.breakdown(result, target: target))
        switch result.status {
        case .up: return
        case .degraded: throw ExitCode(1)
        case .down: throw ExitCode(2)
        }
    }
}
