import ArgumentParser
import UptickApp
import UptickCore
import UptickStore

struct MonitorCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "monitor",
        abstract: "Add, list, show, remove, enable or disable monitors, and choose where their alerts go.",
        subcommands: [Add.self, List.self, Show.self, Remove.self, Enable.self, Disable.self, Notify.self]
    )

    struct Add: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Add a monitor; prints its id.")

        @OptionGroup var options: GlobalOptions
        @Option(help: "http, port, ping or dns.") var type: String
        @Option(help: "URL for http, host:port for port, host for ping and dns.") var target: String
        @Option(help: "Display name (default: the target).") var name: String?
        @Option(help: "Unique key, for later imports to update this monitor.") var key: String?
        @Option(help: "Time between checks, whole seconds, at least 1s.") var interval = "30s"
        @OptionGroup var check: CheckOptions
        @Flag(help: "Add it disabled.") var disabled = false
        @Flag(name: .customLong("public"), help: "Show it on the status page, its badge and the public API.") var isPublic = false
        @Option(help: "Send its alerts to this channel (repeatable; default: the default channels).") var notify: [String] = []
        @Option(help: "Failed checks in a row before it is down (default 2).") var failureThreshold: Int?
        @Option(help: "Good checks in a row before it is up again (default 1).") var recoveryThreshold: Int?
        @Option(help: "Remind of an open incident this often, e.g. 30m.") var reminder: String?

        func run() async throws {
            var definition = check.definition(type: type, target: target)
            definition.name = name
            definition.key = key
            definition.interval = interval
            definition.enabled = !disabled
            definition.settings.failureThreshold = failureThreshold
            definition.settings.recoveryThreshold = recoveryThreshold
            if isPublic { definition.settings.isPublic = true }
            if let reminder {
                guard let milliseconds = DurationParser.milliseconds(reminder), milliseconds >= 60_000, milliseconds % 60_000 == 0 else {
                    throw UptickError("--reminder '\(reminder)' is not whole minutes, e.g. 30m")
                }
                definition.settings.reminderMinutes = Int(milliseconds / 60_000)
            }
            let draft = try definition.draft()
            let store = try await Database.open(options.location, token: options.token)
            let channels = try await channelIDs(notify, in: store)
            let monitor = try await storeCall { () throws(StoreError) in
                let monitor = try await store.addMonitor(draft, now: SystemClock().now())
                if !channels.isEmpty { try await store.setChannels(monitorID: monitor.id, channelIDs: channels) }
                return monitor
            }
            emit(options.json ? Output.json(monitor) : String(monitor.id))
        }
    }

    struct Notify: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Send a monitor's alerts to these channels (none: the default channels).")

        @OptionGroup var options: GlobalOptions
        @Argument(help: "Monitor id.") var id: Int64
        @Argument(help: "Channel names.") var channels: [String] = []

        func run() async throws {
            let store = try await Database.open(options.location, token: options.token)
            let ids = try await channelIDs(channels, in: store)
            try await storeCall { () throws(StoreError) in
                _ = try await store.monitor(id: id)
                try await store.setChannels(monitorID: id, channelIDs: ids)
            }
            emit(options.json ? Output.json(["monitor": id]) : channels.isEmpty ? "monitor \(id) notifies the default channels" : "monitor \(id) notifies \(channels.joined(separator: ", "))")
        }
    }

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List all monitors.")

        @OptionGroup var options: GlobalOptions

        func run() async throws {
            let store = try await Database.open(options.location, token: options.token)
            let monitors = try await storeCall { () throws(StoreError) in try await store.monitors() }
            if options.json { return emit(Output.json(monitors)) }
            emit(Output.table(["ID", "NAME", "TYPE", "TARGET", "INTERVAL", "ENABLED", "STATUS"], monitors.map {
                [String($0.id), $0.name, $0.type, $0.target, "\($0.intervalSeconds)s", $0.enabled ? "yes" : "no", $0.status.rawValue]
            }))
        }
    }

    struct Show: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Show one monitor.")

        @OptionGroup var options: GlobalOptions
        @Argument(help: "Monitor id.") var id: Int64

        func run() async throws {
            let store = try await Database.open(options.location, token: options.token)
            let (monitor, channels) = try await storeCall { () throws(StoreError) in
                (try await store.monitor(id: id), try await store.channels(monitorID: id))
            }
            if options.json { return emit(Output.json(monitor)) }
            let notifies = channels.channels.map(\.name).joined(separator: ", ")
            emit(Output.table(["FIELD", "VALUE"], [
                ["id", String(monitor.id)], ["key", monitor.key ?? "-"], ["name", monitor.name], ["type", monitor.type],
                ["target", monitor.target], ["interval", "\(monitor.intervalSeconds)s"], ["timeout", "\(monitor.timeoutMilliseconds) ms"],
                ["settings", monitor.settings], ["enabled", monitor.enabled ? "yes" : "no"], ["status", monitor.status.rawValue],
                ["last check", Output.time(monitor.lastCheckedAt)], ["next check", Output.time(monitor.nextCheckAt)],
                ["status since", Output.time(monitor.state.statusChangedAt)],
                ["recent checks", monitor.state.recentVerdicts.isEmpty ? "-" : monitor.state.recentVerdicts],
                ["open incident", monitor.state.incidentOpenedAt.map { Output.time($0) } ?? "-"],
                ["notifies", (notifies.isEmpty ? "nobody" : notifies) + (channels.defaults ? " (default channels)" : "")],
            ]))
        }
    }

    struct Remove: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Delete a monitor and its history.")

        @OptionGroup var options: GlobalOptions
        @Argument(help: "Monitor id.") var id: Int64

        func run() async throws {
            let store = try await Database.open(options.location, token: options.token)
            try await storeCall { () throws(StoreError) in try await store.removeMonitor(id: id) }
            emit(options.json ? Output.json(["removed": id]) : "removed monitor \(id)")
        }
    }

    struct Enable: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Enable a monitor; it starts afresh at its phase.")

        @OptionGroup var options: GlobalOptions
        @Argument(help: "Monitor id.") var id: Int64

        func run() async throws {
            let store = try await Database.open(options.location, token: options.token)
            try await storeCall { () throws(StoreError) in try await store.setEnabled(id: id, true, now: SystemClock().now()) }
            emit(options.json ? Output.json(["enabled": id]) : "enabled monitor \(id)")
        }
    }

    struct Disable: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Disable a monitor; its history is kept.")

        @OptionGroup var options: GlobalOptions
        @Argument(help: "Monitor id.") var id: Int64

        func run() async throws {
            let store = try await Database.open(options.location, token: options.token)
            try await storeCall { () throws(StoreError) in try await store.setEnabled(id: id, false, now: SystemClock().now()) }
            emit(options.json ? Output.json(["disabled": id]) : "disabled monitor \(id)")
        }
    }
}

/// Runs a store call, turning its error into a one-line CLI failure (not found is bad input; the rest are runtime faults).
func storeCall<T>(_ body: () async throws(StoreError) -> T) async throws(UptickError) -> T {
    do {
        return try await body()
    } catch {
        throw UptickError(error.message, kind: error.code == .notFound || error.code == .constraint ? .invalidInput : .runtime)
    }
}

/// The ids of the named channels; an unknown name is bad input.
func channelIDs(_ names: [String], in store: any Catalogue) async throws(UptickError) -> [Int64] {
    var ids: [Int64] = []
    for name in names {
        ids.append(try await storeCall { () throws(StoreError) in try await store.channel(name).id })
    }
    return ids
}
