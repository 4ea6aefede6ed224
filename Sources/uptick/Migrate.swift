import ArgumentParser
import UptickApp
import UptickCore
import UptickStore

struct Migrate: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Create the database or bring its schema up to date (idempotent).")

    @OptionGroup var options: GlobalOptions

    func run() async throws {
        let store = try await Database.open(options.location, token: options.token, create: true)
        let applied: [Int64]
        do {
            applied = try await store.migrate(now: SystemClock().now())
        } catch {
            throw UptickError(error.message, kind: .runtime)
        }
        if options.json {
            emit(Output.json(["applied": applied, "version": [Schema.latestVersion]]))
        } else {
            emit(applied.isEmpty ? "schema is up to date (version \(Schema.latestVersion))"
                 : "applied migrations \(applied.map(String.init).joined(separator: ", ")); schema version \(Schema.latestVersion)")
        }
    }
}
