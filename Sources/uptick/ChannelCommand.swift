import ArgumentParser
import Foundation
import Logging
import UptickAlerts
import UptickApp
import UptickCore
import UptickNet
import UptickStore

struct ChannelCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "channel",
        abstract: "Add, list, remove or test notification channels (webhook, slack, discord, pagerduty, email).",
        subcommands: [Add.self, List.self, Remove.self, Test.self]
    )

    struct Add: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Add a channel. Secrets are stored in the database and never printed.",
            discussion: "Examples:\n  uptick channel add ops --type slack --url https://hooks.slack.com/services/…\n  uptick channel add hooks --type webhook --url https://example.com/uptick --secret-env HOOK_SECRET --default\n  uptick channel add pager --type pagerduty --routing-key R0UT1NGKEY\n  uptick channel add mail --type email --smtp-host smtp.example.com --from uptick@example.com --to ops@example.com --username u --password-env SMTP_PASSWORD"
        )

        @OptionGroup var options: GlobalOptions
        @Argument(help: "A unique name.") var name: String
        @Option(help: "webhook, slack, discord, pagerduty or email.") var type: String
        @Option(help: "Webhook, Slack or Discord URL (PagerDuty: override the Events API URL).") var url: String?
        @Option(help: "Webhook: the environment variable holding the HMAC signing secret.") var secretEnv: String?
        @Option(help: "Webhook: extra header 'Name: value' (repeatable).") var header: [String] = []
        @Option(help: "PagerDuty: the integration's routing key.") var routingKey: String?
        @Option(help: "Email: SMTP server host.") var smtpHost: String?
        @Option(help: "Email: SMTP port (default 587, or 465 with --security tls).") var smtpPort: Int?
        @Option(help: "Email: starttls (default), tls or none.") var security: String?
        @Option(help: "Email: SMTP user name.") var username: String?
        @Option(help: "Email: the environment variable holding the SMTP password.") var passwordEnv: String?
        @Option(help: "Email: sender address.") var from: String?
        @Option(help: "Email: recipient (repeatable).") var to: [String] = []
        @Flag(help: "Email: accept any server certificate.") var noTlsVerify = false
        @Option(help: "The whole configuration as JSON instead of the options above (docs/alerting.md).") var config: String?
        @Flag(help: "Use it for monitors that name no channel.") var `default` = false

        func run() async throws {
            let json = try config ?? configurationJSON()
            do {
                _ = try ChannelConfiguration(type: type, json: json)
            } catch {
                throw UptickError("channel \(name): \(error.message)")
            }
            let store = try await Database.open(options.location, token: options.token)
            let channel = try await storeCall { () throws(StoreError) in
                try await store.addChannel(name: name, type: type, config: json, isDefault: `default`, now: SystemClock().now())
            }
            emit(options.json ? Output.json(ChannelLine(channel)) : String(channel.id))
        }

        func configurationJSON() throws(UptickError) -> String {
            var object: [String: Any] = [:]
            func secret(_ variable: String?) throws(UptickError) -> String? {
                guard let variable else { return nil }
                guard let value = ProcessInfo.processInfo.environment[variable], !value.isEmpty else {
                    throw UptickError("environment variable \(variable) is not set")
                }
                return value
            }
            object["url"] = url
            object["secret"] = try secret(secretEnv)
            if !header.isEmpty {
                var headers: [String: String] = [:]
                for line in header {
                    guard let colon = line.firstIndex(of: ":") else { throw UptickError("header '\(line)' is not 'Name: value'") }
                    headers[line[..<colon].trimmingCharacters(in: .whitespaces)] = line[line.index(after: colon)...].trimmingCharacters(in: .whitespaces)
                }
                object["headers"] = headers
            }
            object["routing_key"] = routingKey
            object["host"] = smtpHost
            object["port"] = smtpPort
            object["security"] = security
            object["username"] = username
            object["password"] = try secret(passwordEnv)
            object["from"] = from
            if !to.isEmpty { object["to"] = to }
            if noTlsVerify { object["tls_verify"] = false }
            let data = (try? JSONSerialization.data(withJSONObject: object, options: [.sortedKeys, .withoutEscapingSlashes])) ?? Data("{}".utf8)
            return String(decoding: data, as: UTF8.self)
        }
    }

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List channels (secrets left out).")

        @OptionGroup var options: GlobalOptions

        func run() async throws {
            let store = try await Database.open(options.location, token: options.token)
            let channels = try await storeCall { () throws(StoreError) in try await store.channels() }
            if options.json { return emit(Output.json(channels.map(ChannelLine.init))) }
            emit(Output.table(["ID", "NAME", "TYPE", "DEFAULT", "DESTINATION"], channels.map {
                [String($0.id), $0.name, $0.type, $0.isDefault ? "yes" : "no", ChannelConfiguration.redacted(type: $0.type, json: $0.config)]
            }))
        }
    }

    struct Remove: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Remove a channel; its undelivered events become dead.")

        @OptionGroup var options: GlobalOptions
        @Argument(help: "Channel name.") var name: String

        func run() async throws {
            let store = try await Database.open(options.location, token: options.token)
            try await storeCall { () throws(StoreError) in
                try await store.removeChannel(id: try await store.channel(name).id, now: SystemClock().now())
            }
            emit(options.json ? Output.json(["removed": name]) : "removed channel \(name)")
        }
    }

    struct Test: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Send a test notification now, through the guarded network; exit 1 if it fails.")

        @OptionGroup var options: GlobalOptions
        @OptionGroup var policyOptions: PolicyOptions
        @Argument(help: "Channel name.") var name: String

        func run() async throws {
            let store = try await Database.open(options.location, token: options.token)
            let channel = try await storeCall { () throws(StoreError) in try await store.channel(name) }
            let now = SystemClock().now()
            let payload = AlertPayload(id: "evt_test_\(now)", kind: .test, timestamp: now, note: "sent by `uptick channel test \(name)`")
            let notifier = Notifier(network: try policyOptions.network())
            switch await notifier.send(payload.json, to: channel) {
            case .delivered(let note):
                emit(options.json ? Output.json(["delivered": payload.id]) : "delivered \(payload.id) to \(name)" + (note.map { " (\($0))" } ?? ""))
            case .failed(let failure):
                throw UptickError("test notification to \(name) failed: \(failure.message)", kind: .runtime)
            }
        }
    }
}

/// A channel as the CLI shows it: never its secrets.
struct ChannelLine: Encodable {
    var id: Int64
    var name, type, destination: String
    var isDefault, enabled: Bool

    init(_ channel: ChannelRecord) {
        id = channel.id
        name = channel.name
        type = channel.type
        destination = ChannelConfiguration.redacted(type: channel.type, json: channel.config)
        isDefault = channel.isDefault
        enabled = channel.enabled
    }
}
