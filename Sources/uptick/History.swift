import UptickCore
import ArgumentParser
import UptickApp
import UptickStore

struct History: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Recent checks of a monitor, newest first.")

    @OptionGroup var options: GlobalOptions
    @Argument(help: "Monitor id.") var id: Int64
    @Option(help: "How many checks.") var limit = 20

    func run() async throws {
        guard limit > 0 else { throw UptickError("--limit must be positive") }
        let store = try await Database.open(options.location, token: options.token)
        _ = try await storeCall { () throws(StoreError) in try await store.monitor(id: id) }
        let checks = try await storeCall { () throws(StoreError) in try await store.history(monitorID: id, limit: limit) }
        if options.json { return emit(Output.json(checks)) }
        emit(Output.table(["STARTED", "STATUS", "LATENCY", "HTTP", "ERROR", "MESSAGE"], checks.map {
            [Output.time($0.startedAt), $0.result.status.rawValue, Output.latency($0.result.durationMicroseconds),
             $0.result.httpStatus.map(String.init) ?? "-", $0.result.errorClass?.rawValue ?? "-", $0.result.message ?? ""]
        }))
    }
}
