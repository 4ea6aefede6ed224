import ArgumentParser
import Foundation
import UptickApp
import UptickCore
import UptickStore

struct Import: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Create or update monitors from a YAML file, by key. Idempotent: importing the same file twice changes nothing."
    )

    @OptionGroup var options: GlobalOptions
    @Argument(help: "YAML file with a top-level 'monitors:' list (see examples/monitors.yaml).") var file: String

    func run() async throws {
        guard let data = FileManager.default.contents(atPath: file) else { throw UptickError("cannot read \(file)") }
        // Large files take seconds to parse and write: say where it is, on a terminal.
        let progress = Progress("import \(file)")
        progress.show("parsing \(data.count / 1024) KB")
        let entries = try MonitorFile.parse(String(decoding: data, as: UTF8.self)) { done, total in
            progress.update(done, unit: "of \(total) monitors validated")
        }
        progress.show("writing \(entries.count) monitors in one transaction")
        let store = try await Database.open(options.location, token: options.token)
        // Channel names are checked before anything is written.
        var channels: [String: [Int64]] = [:]
        for entry in entries {
            guard let key = entry.draft.key, let names = entry.notify else { continue }
            channels[key] = try await channelIDs(names, in: store)
        }
        let report = try await storeCall { () throws(StoreError) in
            let report = try await store.upsert(entries.map(\.draft), now: SystemClock().now())
            if !channels.isEmpty {
                for monitor in try await store.monitors() {
                    guard let key = monitor.key, let ids = channels[key] else { continue }
                    try await store.setChannels(monitorID: monitor.id, channelIDs: ids)
                }
            }
            return report
        }
        progress.finish("\(entries.count) monitors written")
        emit(options.json ? Output.json(report)
             : "created \(report.created.count), updated \(report.updated.count), unchanged \(report.unchanged.count)")
    }
}
