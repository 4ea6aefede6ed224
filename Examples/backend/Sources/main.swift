import Foundation
import UptickCore
import UptickStore

// What a backend's "create monitor" endpoint does with uptick's library products: validate a request with the
// runner's own rules (the same code the runner uses to check it), store it through the catalogue, and say when
// its first check is due. Usage: backend-example DATABASE (created and migrated if needed).

let path = CommandLine.arguments.dropFirst().first ?? "uptick.db"
let now = EpochMilliseconds(Date().timeIntervalSince1970 * 1000)
let catalogue: any Catalogue = SQLStore(executor: try SQLiteDatabase(path: path, create: true))
try await catalogue.migrate(now: now)

let requests = [
    MonitorDraft(key: "api", name: "API health", type: "http", target: "https://api.example.com/health",
                 intervalSeconds: 30, timeoutMilliseconds: 5_000, settings: #"{"keyword":"ok","expected_status":"200-299"}"#),
    MonitorDraft(key: "ftp", name: "Not a web URL", type: "http", target: "ftp://files.example.com/",
                 intervalSeconds: 30, timeoutMilliseconds: 5_000),
    MonitorDraft(key: "slow", name: "Too patient", type: "port", target: "db.example.com:5432",
                 intervalSeconds: 60, timeoutMilliseconds: 30_000),
]

for request in requests {
    do {
        _ = try request.validated()  // the runner's own validation: what passes here, the runner can check
    } catch {
        print("refused \(request.key ?? request.name): \(error.message) [\(error.errorClass.rawValue)]")
        continue
    }
    do {
        let monitor = try await catalogue.addMonitor(request, now: now)
        let first = Schedule.firstSlot(id: monitor.id, intervalMilliseconds: monitor.intervalSeconds * 1000, atOrAfter: now)
        print("created #\(monitor.id) \(monitor.name): first check within \(first - now) ms, then every \(monitor.intervalSeconds) s")
    } catch {
        print("not stored \(request.key ?? request.name): \(error.message) [\(error.code.rawValue)]")
    }
}
print("monitors in \(path): \(try await catalogue.monitors().map { $0.key ?? $0.name }.joined(separator: ", "))")
