import Foundation
import Testing
@testable import UptickAlerts
import UptickCore

/// A down event as the engine records it.
func sampleDown(kind: AlertKind = .down, name: String = "API") -> AlertPayload {
    AlertPayload(
        id: "evt_7_1700000000000_\(kind.rawValue)", kind: kind, timestamp: 1_700_000_000_500,
        monitor: .init(id: 7, key: "api", name: name, type: "http", target: "https://api.example.com/health"),
        status: .init(previous: .up, current: kind == .up ? .up : .down, since: 1_700_000_000_500),
        incident: .init(id: "inc_7_1700000000500", openedAt: 1_700_000_000_500, resolvedAt: kind == .up ? 1_700_000_600_000 : nil),
        check: .init(scheduledAt: 1_700_000_000_000, startedAt: 1_700_000_000_500,
                     result: kind == .up ? CheckResult(status: .up, durationMicroseconds: 2000) : .down(.timeout, "no answer within 10s", durationMicroseconds: 10_000_000))
    )
}

@Suite("Alert formats")
struct MessagesTests {
    @Test("the webhook signature is HMAC-SHA256 over timestamp, dot, body (a vector computed with Python's hmac)")
    func signatureVector() {
        #expect(Messages.signature(secret: "whsec_test", timestamp: 1_700_000_000, body: Array(#"{"id":"evt_1"}"#.utf8))
                == "c89214b5b5da833daed6f0b8c5bb6bd58cea9022bd80ccc78230f3942d632925")
        let headers = Dictionary(uniqueKeysWithValues: Messages.webhookHeaders(
            payload: sampleDown(), body: Array(#"{"id":"evt_1"}"#.utf8), secret: "whsec_test", now: 1_700_000_000_999))
        #expect(headers["Uptick-Signature"] == "t=1700000000,v1=c89214b5b5da833daed6f0b8c5bb6bd58cea9022bd80ccc78230f3942d632925")
        #expect(headers["Uptick-Event-Id"] == "evt_7_1700000000000_down" && headers["Uptick-Event-Type"] == "monitor.down")
        #expect(Messages.webhookHeaders(payload: sampleDown(), body: [], secret: nil, now: 0).allSatisfy { $0.0 != "Uptick-Signature" })
    }

    @Test("Slack: text with an emoji, one attachment coloured by status, with fields")
    func slack() throws {
        let body = try #require(try JSONSerialization.jsonObject(with: Data(Messages.slack(sampleDown()))) as? [String: Any])
        #expect(body["text"] as? String == "🔴 API is DOWN")
        let attachment = try #require((body["attachments"] as? [[String: Any]])?.first)
        #expect(attachment["color"] as? String == "#D93025")
        let fields = try #require(attachment["fields"] as? [[String: Any]])
        #expect(fields.contains { $0["title"] as? String == "Check" && ($0["value"] as? String)?.contains("timeout: no answer") == true })
        #expect(attachment["ts"] as? Int == 1_700_000_000)
        let up = try #require(try JSONSerialization.jsonObject(with: Data(Messages.slack(sampleDown(kind: .up)))) as? [String: Any])
        #expect((up["attachments"] as? [[String: Any]])?.first?["color"] as? String == "#1E8E3E")
    }

    @Test("Discord: content within 2000 characters, an embed with an integer colour and ISO timestamp, no mentions")
    func discord() throws {
        let long = String(repeating: "x", count: 3000)
        let body = try #require(try JSONSerialization.jsonObject(with: Data(Messages.discord(sampleDown(name: long)))) as? [String: Any])
        #expect((body["content"] as? String)?.count ?? 0 <= 2000)
        #expect((body["allowed_mentions"] as? [String: Any])?["parse"] as? [String] == [])
        let embed = try #require((body["embeds"] as? [[String: Any]])?.first)
        #expect(embed["color"] as? Int == 0xD93025)
        #expect((embed["title"] as? String)?.count ?? 0 <= 256)
        #expect(embed["timestamp"] as? String == "2023-11-14T22:13:20Z")
        #expect((embed["fields"] as? [[String: Any]])?.allSatisfy { ($0["value"] as? String)?.count ?? 0 <= 1024 } == true)
    }

    @Test("PagerDuty Events v2: trigger on down with the incident as dedup_key, resolve on recovery, nothing for degraded")
    func pagerDuty() throws {
        let triggerBody = try #require(Messages.pagerDuty(sampleDown(), routingKey: "R1"))
        let trigger = try #require(try JSONSerialization.jsonObject(with: Data(triggerBody)) as? [String: Any])
        #expect(trigger["routing_key"] as? String == "R1")
        #expect(trigger["event_action"] as? String == "trigger")
        #expect(trigger["dedup_key"] as? String == "inc_7_1700000000500")
        let payload = try #require(trigger["payload"] as? [String: Any])
        #expect(payload["severity"] as? String == "critical")
        #expect(payload["source"] as? String == "https://api.example.com/health")
        #expect((payload["summary"] as? String)?.hasPrefix("API is DOWN") == true)
        #expect(payload["timestamp"] as? String == "2023-11-14T22:13:20Z")
        let resolveBody = try #require(Messages.pagerDuty(sampleDown(kind: .up), routingKey: "R1"))
        let resolve = try #require(try JSONSerialization.jsonObject(with: Data(resolveBody)) as? [String: Any])
        #expect(resolve["event_action"] as? String == "resolve" && resolve["dedup_key"] as? String == "inc_7_1700000000500")
        var degraded = sampleDown(kind: .degraded)
        degraded.incident = nil
        #expect(Messages.pagerDuty(degraded, routingKey: "R1") == nil)
    }

    @Test("email: encoded subject, text and HTML alternatives in base64, the event id as Message-ID, dots stuffed")
    func email() throws {
        let message = EmailMessage(payload: sampleDown(name: "Bücher <shop>"), from: "uptick@example.com", to: ["a@example.com", "b@example.com"],
                                   date: Date(timeIntervalSince1970: 1_700_000_000)).rendered
        #expect(message.contains("Subject: =?UTF-8?B?\(Data("[uptick] Bücher <shop> is DOWN".utf8).base64EncodedString())?=\r\n"))
        #expect(message.contains("Message-ID: <evt_7_1700000000000_down@uptick>\r\n"))
        #expect(message.contains("To: a@example.com, b@example.com\r\n"))
        #expect(message.contains("Date: Tue, 14 Nov 2023 22:13:20 +0000\r\n"))
        #expect(message.contains("Content-Type: text/plain; charset=utf-8") && message.contains("Content-Type: text/html; charset=utf-8"))
        #expect(message.split(separator: "\r\n").allSatisfy { $0.count <= 998 })
        #expect(SMTPClient.dotStuffed("a\r\n.b\r\n..c\r\n") == "a\r\n..b\r\n...c\r\n")
        let html = EmailMessage(payload: sampleDown(name: "<script>"), from: "f@x.y", to: ["t@x.y"], date: Date()).html
        #expect(html.contains("&lt;script&gt;") && !html.contains("<script>"))
    }

    @Test("channel settings are validated, and listing them never shows a secret", arguments: [
        ("webhook", #"{"url":"ftp://x"}"#, "url:"),
        ("webhook", #"{}"#, "url is required"),
        ("pagerduty", #"{}"#, "routing_key"),
        ("email", #"{"host":"smtp.example.com","from":"a@example.com"}"#, "to:"),
        ("email", #"{"host":"smtp.example.com","from":"a@example.com","to":["b@example.com"],"security":"none","username":"u","password":"p"}"#, "without TLS"),
        ("email", #"{"host":"smtp.example.com","from":"a@example.com","to":["b@example.com\r\nRCPT TO:<c@d.e>"]}"#, "to:"),
        ("sms", #"{}"#, "unknown channel type"),
        ("webhook", #"{"url":"https://hooks.example.com/","headers":{"Transfer-Encoding":"chunked"}}"#, "set by uptick itself"),
        ("webhook", #"{"url":"https://hooks.example.com/","headers":{"Host":"internal"}}"#, "Host"),
        ("webhook", #"{"url":"https://hooks.example.com/","headers":{"Clé":"x"}}"#, "not a valid header"),
        ("webhook", #"{"url":"https://hooks.example.com/","headers":{"X-A":"a\u0000b"}}"#, "not a valid header"),
    ])
    func configuration(type: String, json: String, message: String) {
        #expect(throws: ConfigurationError.self) { try ChannelConfiguration(type: type, json: json) }
        do {
            _ = try ChannelConfiguration(type: type, json: json)
        } catch {
            #expect(error.message.contains(message), "\(error.message)")
        }
    }

    @Test("redacted destinations leave out secrets and URL paths")
    func redacted() {
        let slack = ChannelConfiguration.redacted(type: "slack", json: #"{"url":"https://hooks.slack.com/services/T000/B000/XXXXSECRET"}"#)
        #expect(slack == "https://hooks.slack.com/…")
        let webhook = ChannelConfiguration.redacted(type: "webhook", json: #"{"url":"http://h.example:8080/x?token=abc","secret":"s3","headers":{"Authorization":"Bearer zzz"}}"#)
        #expect(!webhook.contains("abc") && !webhook.contains("s3") && !webhook.contains("zzz") && webhook.contains("signed"))
        let email = ChannelConfiguration.redacted(type: "email", json: #"{"host":"smtp.example.com","from":"a@example.com","to":["b@example.com"],"username":"u","password":"hunter2"}"#)
        #expect(!email.contains("hunter2") && email.contains("smtp.example.com:587"))
    }
}
