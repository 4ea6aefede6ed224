import ArgumentParser
import UptickApp
import UptickCore
import UptickStore

struct Incidents: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "List incidents, newest first.")

    @OptionGroup var options: GlobalOptions
    @Flag(help: "Only incidents still open.") var open = false
    @Option(help: "At most this many.") var limit = 50

    func run() async throws {
        let store = try await Database.open(options.location, token: options.token)
        let incidents = try await storeCall { () throws(StoreError) in try await store.incidents(openOnly: open, limit: limit) }
        if options.json { return emit(Output.json(incidents)) }
        let now = SystemClock().now()
        emit(Output.table(["ID", "MONITOR", "OPENED", "RESOLVED", "LASTED", "CAUSE"], incidents.map { incident in
            [String(incident.id), incident.monitorName.map { "\(incident.monitorID) \($0)" } ?? String(incident.monitorID),
             Output.time(incident.openedAt), incident.resolvedAt.map { Output.time($0) } ?? "open",
             DurationParser.text(milliseconds: (incident.resolvedAt ?? now) - incident.openedAt),
             [incident.causeClass, incident.causeMessage].compactMap { $0 }.joined(separator: ": ")]
        }))
    }
}

struct OutboxCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "outbox",
        abstract: "Show notification events and their delivery, or retry one.",
        subcommands: [List.self, Retry.self],
        defaultSubcommand: List.self
    )

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List outbox rows, newest first.")

        @OptionGroup var options: GlobalOptions
        @Flag(help: "Only events that were given up on.") var dead = false
        @Option(help: "At most this many.") var limit = 50

        func run() async throws {
            let store = try await Database.open(options.location, token: options.token)
            let (rows, channels) = try await storeCall { () throws(StoreError) in
                (try await store.outbox(deadOnly: dead, limit: limit), try await store.channels())
            }
            if options.json { return emit(Output.json(rows)) }
            let names = Dictionary(uniqueKeysWithValues: channels.map { ($0.id, $0.name) })
            emit(Output.table(["ID", "EVENT", "CHANNEL", "ATTEMPTS", "STATE", "LAST ERROR"], rows.map { row in
                let state = row.deliveredAt.map { "delivered \(Output.time($0))" }
                    ?? row.deadAt.map { "dead \(Output.time($0))" } ?? "next \(Output.time(row.nextAttemptAt))"
                return [String(row.id), row.eventID, names[row.channelID] ?? "#\(row.channelID)", String(row.attempts), state, row.lastError ?? "-"]
            }))
        }
    }

    struct Retry: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Make an undelivered (for example dead) event due again now.")

        @OptionGroup var options: GlobalOptions
        @Argument(help: "Outbox row id.") var id: Int64

        func run() async throws {
            let store = try await Database.open(options.location, token: options.token)
            try await storeCall { () throws(StoreError) in try await store.retryOutbox(id: id, now: SystemClock().now()) }
            emit(options.json ? Output.json(["retrying": id]) : "outbox row \(id) is due again")
        }
    }
}
