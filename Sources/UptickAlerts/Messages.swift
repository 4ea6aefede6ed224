import Crypto
import Foundation
import UptickCore

/// The words and colours of an alert, shared by the chat and email formats.
struct AlertText {
    let payload: AlertPayload

    var monitorName: String { payload.monitor?.name ?? "uptick" }

    var emoji: String {
        switch payload.kind {
        case .down: "🔴"
        case .up: "🟢"
        case .degraded: "🟡"
        case .flapping: "🟠"
        case .reminder: "🔔"
        case .test: "✅"
        }
    }

    /// `#RRGGBB` as an integer.
    var color: Int {
        switch payload.kind {
        case .down, .reminder: 0xD93025
        case .up, .test: 0x1E8E3E
        case .degraded: 0xF9AB00
        case .flapping: 0xE8710A
        }
    }

    var headline: String {
        switch payload.kind {
        case .down: "\(monitorName) is DOWN"
        case .up: "\(monitorName) is UP"
        case .degraded: "\(monitorName) is DEGRADED"
        case .flapping: "\(monitorName) is FLAPPING"
        case .reminder: "\(monitorName) is still DOWN"
        case .test: "Test notification from uptick"
        }
    }

    /// Label and value pairs, most useful first.
    var facts: [(String, String)] {
        var facts: [(String, String)] = []
        if let monitor = payload.monitor { facts.append(("Target", "\(monitor.type) \(monitor.target)")) }
        if let status = payload.status {
            facts.append(("Status", "\(status.previous?.rawValue ?? "new") → \(status.current.rawValue)"))
        }
        if let check = payload.check {
            var reason = check.errorClass.map { "\($0.rawValue): " } ?? ""
            reason += check.message ?? check.status.rawValue
            facts.append(("Check", Self.clip(reason, 500)))
            facts.append(("Duration", String(format: "%.1f ms", check.durationMilliseconds)))
        }
        if let incident = payload.incident {
            let end = incident.resolvedAt ?? payload.timestamp
            facts.append(("Incident", "\(incident.id), open for \(DurationParser.text(milliseconds: end - incident.openedAt))\(incident.resolvedAt == nil ? "" : ", resolved")"))
        }
        if let note = payload.note { facts.append(("Note", Self.clip(note, 500))) }
        facts.append(("Event", payload.id))
        return facts
    }

    var plain: String {
        ([headline, ""] + facts.map { "\($0.0): \($0.1)" } + ["", "Time: \(Self.iso(payload.timestamp))"]).joined(separator: "\n")
    }

    static func clip(_ text: String, _ limit: Int) -> String {
        text.count <= limit ? text : String(text.prefix(limit - 1)) + "…"
    }

    static func iso(_ time: EpochMilliseconds) -> String {
        Date(timeIntervalSince1970: Double(time) / 1000).formatted(.iso8601)
    }
}

/// Request bodies for each HTTP channel type. Pure: tested against the documented formats.
enum Messages {
    static func json(_ object: [String: Any]) -> [UInt8] {
        Array((try? JSONSerialization.data(withJSONObject: object, options: [.sortedKeys, .withoutEscapingSlashes])) ?? Data())
    }

    /// Generic webhook headers; the body is the stored payload itself. The signature follows the
    /// Stripe scheme: `t=<unix seconds>,v1=<hex HMAC-SHA256 of "<t>.<body>" keyed with the secret>`.
    static func webhookHeaders(payload: AlertPayload, body: [UInt8], secret: String?, now: EpochMilliseconds) -> [(String, String)] {
        var headers = [("Uptick-Event-Id", payload.id), ("Uptick-Event-Type", payload.type)]
        if let secret {
            let timestamp = now / 1000
            headers.append(("Uptick-Signature", "t=\(timestamp),v1=\(signature(secret: secret, timestamp: timestamp, body: body))"))
        }
        return headers
    }

    static func signature(secret: String, timestamp: Int64, body: [UInt8]) -> String {
        let message = Array("\(timestamp).".utf8) + body
        let code = HMAC<SHA256>.authenticationCode(for: message, using: SymmetricKey(data: Array(secret.utf8)))
        return code.map { String(format: "%02x", $0) }.joined()
    }

    /// Slack incoming webhook: `text` for notifications, one coloured attachment with the facts.
    static func slack(_ payload: AlertPayload) -> [UInt8] {
        let text = AlertText(payload: payload)
        return json([
            "text": "\(text.emoji) \(text.headline)",
            "attachments": [[
                "color": String(format: "#%06X", text.color),
                "fallback": text.plain,
                "fields": text.facts.map { ["title": $0.0, "value": $0.1, "short": $0.0 != "Check" && $0.0 != "Note"] },
                "footer": "uptick",
                "ts": payload.timestamp / 1000,
            ]],
        ])
    }

    /// Discord webhook: one embed; mentions are disabled so a monitor name cannot ping anyone.
    static func discord(_ payload: AlertPayload) -> [UInt8] {
        let text = AlertText(payload: payload)
        return json([
            "content": AlertText.clip("\(text.emoji) \(text.headline)", 2000),
            "allowed_mentions": ["parse": [String]()],
            "embeds": [[
                "title": AlertText.clip(text.headline, 256),
                "color": text.color,
                "fields": text.facts.prefix(25).map { ["name": $0.0, "value": AlertText.clip($0.1, 1024), "inline": $0.0 != "Check" && $0.0 != "Note"] },
                "footer": ["text": "uptick"],
                "timestamp": AlertText.iso(payload.timestamp),
            ]],
        ])
    }

    /// PagerDuty Events API v2: `trigger` for down (and its reminders, which PagerDuty folds into the
    /// same alert), `resolve` when an announced incident ends; `nil` for what PagerDuty does not page on.
    static func pagerDuty(_ payload: AlertPayload, routingKey: String) -> [UInt8]? {
        guard let incident = payload.incident else {
            guard payload.kind == .test else { return nil }
            return json([
                "routing_key": routingKey, "event_action": "trigger", "dedup_key": payload.id, "client": "uptick",
                "payload": ["summary": "Test notification from uptick", "source": "uptick", "severity": "info",
                            "timestamp": AlertText.iso(payload.timestamp)],
            ])
        }
        let text = AlertText(payload: payload)
        switch payload.kind {
        case .down, .reminder:
            var details: [String: Any] = [:]
            for (label, value) in text.facts { details[label.lowercased()] = value }
            return json([
                "routing_key": routingKey, "event_action": "trigger", "dedup_key": incident.id, "client": "uptick",
                "payload": [
                    "summary": AlertText.clip(text.headline + (payload.check?.message.map { ": \($0)" } ?? ""), 1024),
                    "source": AlertText.clip(payload.monitor?.target ?? "uptick", 255),
                    "severity": "critical",
                    "timestamp": AlertText.iso(payload.timestamp),
                    "component": payload.monitor?.name ?? "",
                    "class": payload.check?.errorClass?.rawValue ?? "down",
                    "custom_details": details,
                ],
            ])
        case .up, .degraded:
            return json(["routing_key": routingKey, "event_action": "resolve", "dedup_key": incident.id])
        case .flapping, .test:
            return nil
        }
    }
}
