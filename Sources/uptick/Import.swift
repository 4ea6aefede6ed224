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
        guard let data = FileManager.default.contents(atPath: file) else { throw CLIFailure("cannot read \(file)") }
        let drafts = try MonitorFile.parse(String(decoding: data, as: UTF8.self))
        let store = try await Database.open(options.location)
        let report = try await storeCall { () throws(StoreError) in try await store.upsert(drafts, now: SystemClock().now()) }
        emit(options.json ? Output.json(report)
             : "created \(report.created.count), updated \(report.updated.count), unchanged \(report.unchanged.count)")
    }
}
