import Foundation
package import UptickCore
import UptickStore

/// A channel's settings, typed and validated. Stored as JSON in `channels.config` (docs/alerting.md).
package enum ChannelConfiguration: Sendable, Hashable {
    case webhook(Webhook)
    case slack(url: HTTPCheck)
    case discord(url: HTTPCheck)
    case pagerDuty(PagerDuty)
    case email(Email)

    /// The channel types, as stored in `channels.type`.
    package static let types = ["webhook", "slack", "discord", "pagerduty", "email"]

    /// A generic JSON webhook, signed when a secret is set.
    package struct Webhook: Sendable, Hashable {
        package var url: HTTPCheck
        package var secret: String?
        package var headers: [MonitorSettings.Header]
    }

    /// PagerDuty Events API v2.
    package struct PagerDuty: Sendable, Hashable {
        package var routingKey: String
        package var url: HTTPCheck
    }

    /// Email over SMTP.
    package struct Email: Sendable, Hashable {
        package enum Security: String, Sendable, Hashable, CaseIterable {
            /// Plain connection upgraded with STARTTLS (port 587); refused if the server does not offer it.
            case starttls
            /// TLS from the first byte (port 465).
            case tls
            /// No TLS at all; allowed only without a password.
            case none
        }

        package var host: String
        package var port: Int
        package var security: Security
        package var username: String?
        package var password: String?
        package var from: String
        package var to: [String]
        /// Validate the server's certificate (default true).
        package var tlsVerify: Bool
    }

    /// The JSON object as written; every type uses some of these fields.
    struct Stored: Codable {
        var url: String?
        var secret: String?
        var headers: [String: String]?
        var routingKey: String?
        var host: String?
        var port: Int?
        var security: String?
        var username: String?
        var password: String?
        var from: String?
        var to: [String]?
        var tlsVerify: Bool?

        enum CodingKeys: String, CodingKey {
            case url, secret, headers, host, port, security, username, password, from, to
            case routingKey = "routing_key"
            case tlsVerify = "tls_verify"
        }
    }

    package static let pagerDutyURL = "https://events.pagerduty.com/v2/enqueue"

    /// Decodes and validates a stored channel; the error names the field at fault.
    package init(type: String, json: String) throws(ConfigurationError) {
        let stored: Stored
        do {
            stored = try JSONDecoder().decode(Stored.self, from: Data(json.utf8))
        } catch {
            throw ConfigurationError("config is not a JSON object with the expected fields")
        }
        switch type {
        case "webhook":
            self = .webhook(Webhook(
                url: try Self.url(stored.url), secret: stored.secret.flatMap { $0.isEmpty ? nil : $0 },
                headers: try (stored.headers ?? [:]).sorted { $0.key < $1.key }.map { name, value throws(ConfigurationError) in
                    guard HeaderRules.isValidName(name), HeaderRules.isValidValue(value) else {
                        throw ConfigurationError("header '\(name)' is not a valid header")
                    }
                    if let refusal = HeaderRules.refusal(name) { throw ConfigurationError(refusal) }
                    if HeaderRules.isHost(name) { throw ConfigurationError("a webhook cannot set its Host header") }
                    return MonitorSettings.Header(name: name, value: value)
                }
            ))
        case "slack": self = .slack(url: try Self.url(stored.url))
        case "discord": self = .discord(url: try Self.url(stored.url))
        case "pagerduty":
            guard let key = stored.routingKey, !key.isEmpty else { throw ConfigurationError("pagerduty needs routing_key") }
            self = .pagerDuty(PagerDuty(routingKey: key, url: try Self.url(stored.url ?? Self.pagerDutyURL)))
        case "email":
            guard let host = stored.host, !host.isEmpty else { throw ConfigurationError("email needs host") }
            let security = try stored.security.map { text throws(ConfigurationError) in
                guard let security = Email.Security(rawValue: text) else { throw ConfigurationError("security must be starttls, tls or none") }
                return security
            } ?? .starttls
            let port = stored.port ?? (security == .tls ? 465 : 587)
            guard (1...65535).contains(port) else { throw ConfigurationError("port must be between 1 and 65535") }
            guard let from = stored.from, Self.isAddress(from) else { throw ConfigurationError("email needs a from address") }
            let to = stored.to ?? []
            guard !to.isEmpty, to.allSatisfy(Self.isAddress) else { throw ConfigurationError("email needs to: a list of addresses") }
            if security == .none && stored.password != nil {
                throw ConfigurationError("refusing to send a password without TLS: use security starttls or tls")
            }
            if (stored.username == nil) != (stored.password == nil) { throw ConfigurationError("username and password go together") }
            self = .email(Email(host: host, port: port, security: security, username: stored.username, password: stored.password,
                                from: from, to: to, tlsVerify: stored.tlsVerify ?? true))
        default:
            throw ConfigurationError("unknown channel type '\(type)' (expected \(Self.types.joined(separator: ", ")))")
        }
    }

    /// What the CLI may print: secrets and the token-bearing parts of URLs are left out.
    package static func redacted(type: String, json: String) -> String {
        guard let configuration = try? ChannelConfiguration(type: type, json: json) else { return "(invalid configuration)" }
        func site(_ url: HTTPCheck) -> String { "\(url.scheme)://\(url.host)\(url.port == (url.scheme == "https" ? 443 : 80) ? "" : ":\(url.port)")/…" }
        switch configuration {
        case .webhook(let webhook):
            return site(webhook.url) + (webhook.secret == nil ? "" : ", signed") + (webhook.headers.isEmpty ? "" : ", \(webhook.headers.count) header(s)")
        case .slack(let url), .discord(let url): return site(url)
        case .pagerDuty(let pagerDuty): return site(pagerDuty.url) + ", routing key set"
        case .email(let email):
            return "\(email.from) → \(email.to.joined(separator: ", ")) via \(email.host):\(email.port) (\(email.security.rawValue)\(email.username == nil ? "" : ", auth"))"
        }
    }

    static func url(_ text: String?) throws(ConfigurationError) -> HTTPCheck {
        guard let text, !text.isEmpty else { throw ConfigurationError("url is required") }
        do {
            return try HTTPCheck(url: text, settings: MonitorSettings())
        } catch {
            throw ConfigurationError("url: \(error.message)")
        }
    }

    /// `local@domain`, with nothing that could break out of an SMTP command or header.
    static func isAddress(_ text: String) -> Bool {
        let parts = text.split(separator: "@", omittingEmptySubsequences: false)
        guard parts.count == 2, !parts[0].isEmpty, !parts[1].isEmpty else { return false }
        return !text.contains { $0.isWhitespace || $0 == "<" || $0 == ">" || $0 == "," || $0 == "\"" }
    }
}

/// A channel whose settings cannot be used, with the reason.
package struct ConfigurationError: Error, Sendable, Hashable, CustomStringConvertible {
    package var message: String
    package init(_ message: String) { self.message = message }
    package var description: String { message }
}
