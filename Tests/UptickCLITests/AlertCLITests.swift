import Foundation
import Testing
import UptickTargets
import UptickTestSupport

@Suite("Alerting from the command line", .timeLimit(.minutes(1)))
struct AlertCLITests {
    static let loopback = ["--allow-cidr", "127.0.0.1/32"]

    @Test("channels: added with secrets that are never printed, tested, attached, removed")
    func channels() async throws {
        let workspace = try await Workspace.make()
        defer { workspace.remove() }
        let hook = try await Receiver.start()
        let config = #"{"url":"\#(hook.url("/in"))","secret":"whsec_cli_secret","headers":{"Authorization":"Bearer tok3n"}}"#
        #expect(try await workspace.run("channel", "add", "hook", "--type", "webhook", "--config", config, "--default").status == 0)
        let list = try await workspace.run("channel", "list")
        #expect(list.stdout.contains("hook") && list.stdout.contains("signed"))
        let listed = try await workspace.run("channel", "list", "--json").stdout
        for secret in ["whsec_cli_secret", "tok3n", "/in"] {
            #expect(!list.stdout.contains(secret) && !listed.contains(secret), "\(secret) printed")
        }

        // Bad input: one line, exit 64, nothing stored.
        let missing = try await workspace.run("channel", "add", "x", "--type", "webhook", "--url", hook.url(), "--secret-env", "UPTICK_NO_SUCH_VARIABLE")
        #expect(missing.status == 64 && missing.stderr.contains("UPTICK_NO_SUCH_VARIABLE is not set"))
        let badType = try await workspace.run("channel", "add", "x", "--type", "pigeon")
        #expect(badType.status == 64 && badType.stderr.contains("unknown channel type 'pigeon'"))
        let duplicate = try await workspace.run("channel", "add", "hook", "--type", "slack", "--url", hook.url())
        #expect(duplicate.status == 64)
        #expect(try await workspace.scalar("SELECT count(*) FROM channels") == 1)

        // A test notification goes out at once, through the guarded network.
        let test = try await workspace.run(["channel", "test", "hook"] + Self.loopback)
        #expect(test.status == 0, "\(test.stderr)")
        #expect(hook.requests.first?.json?["type"] as? String == "test")
        #expect(hook.requests.first?.headers["authorization"] == "Bearer tok3n")
        let refused = try await workspace.run("channel", "test", "hook")  // default policy: loopback is off limits
        #expect(refused.status == 1 && refused.stderr.contains("blocked"))
        hook.respond(with: 500)
        #expect(try await workspace.run(["channel", "test", "hook"] + Self.loopback).stderr.contains("HTTP 500"))

        // Attached at creation; an unknown channel name adds nothing.
        let unknown = try await workspace.run("monitor", "add", "--type", "port", "--target", "127.0.0.1:1", "--notify", "nosuch")
        #expect(unknown.status == 64 && unknown.stderr.contains("no channel named 'nosuch'"))
        #expect(try await workspace.scalar("SELECT count(*) FROM monitors") == 0)
        let id = try await workspace.run("monitor", "add", "--type", "port", "--target", "127.0.0.1:1", "--notify", "hook").stdout
            .trimmingCharacters(in: .whitespacesAndNewlines)
        #expect(try await workspace.run("monitor", "show", id).stdout.contains("notifies       hook"))
        #expect(try await workspace.run("monitor", "notify", id).status == 0)
        #expect(try await workspace.run("monitor", "show", id).stdout.contains("hook (default channels)"))

        #expect(try await workspace.run("channel", "remove", "hook").status == 0)
        #expect(try await workspace.run("channel", "remove", "hook").status == 64)
        try await hook.stop()
    }

    @Test("a tick that dies after its commit loses no alert: the next tick delivers it; dead events can be retried")
    func outboxAcrossProcesses() async throws {
        let workspace = try await Workspace.make()
        defer { workspace.remove() }
        let hook = try await Receiver.start()
        #expect(try await workspace.run("channel", "add", "hook", "--type", "webhook", "--url", hook.url(), "--default").status == 0)
        #expect(try await workspace.run("channel", "add", "lan", "--type", "webhook", "--url", "http://10.1.2.3/hook", "--default").status == 0)
        #expect(try await workspace.run("monitor", "add", "--type", "port", "--target", "127.0.0.1:1", "--failure-threshold", "1").status == 0)
        try await workspace.sql("UPDATE monitors SET next_check_at = 0")

        // The process commits the check, the incident and the outbox rows, and exits without delivering.
        let first = try await workspace.run(["tick", "--deliver-for", "0"] + Self.loopback)
        #expect(first.status == 0, "\(first.stderr)")
        #expect(hook.requests.isEmpty)
        let pending = try #require(try await workspace.json("outbox") as? [[String: Any]])
        #expect(pending.count == 2 && pending.allSatisfy { $0["delivered_at"] == nil && $0["kind"] as? String == "down" })
        let incidents = try #require(try await workspace.json("incidents", "--open") as? [[String: Any]])
        #expect(incidents.count == 1 && incidents.first?["cause_class"] as? String == "refused")

        // The next process delivers it (nothing is due to check): one to the receiver, one refused by the guard.
        let second = try await workspace.run(["tick", "--json"] + Self.loopback)
        #expect(second.status == 0, "\(second.stderr)")
        let summary = try #require(try JSONSerialization.jsonObject(with: Data(second.stdout.utf8)) as? [String: Any])
        #expect(summary["alerts_delivered"] as? Int == 1 && summary["alerts_dead"] as? Int == 1)
        #expect(hook.requests.count == 1 && hook.requests.first?.json?["type"] as? String == "monitor.down")
        let dead = try #require(try await workspace.json("outbox", "--dead") as? [[String: Any]])
        #expect(dead.count == 1 && (dead.first?["last_error"] as? String)?.hasPrefix("blocked: 10.1.2.3") == true)
        #expect(try await workspace.run("outbox").stdout.contains("dead"))

        let badOption = try await workspace.run(["tick", "--alert-give-up", "soon"] + Self.loopback)
        #expect(badOption.status == 64 && badOption.stderr.contains("--alert-give-up 'soon'"))

        let deadID = try #require(dead.first?["id"] as? Int)
        #expect(try await workspace.run("outbox", "retry", String(deadID)).status == 0)
        #expect((try await workspace.json("outbox", "--dead") as? [[String: Any]])?.isEmpty == true)
        #expect(try await workspace.run("outbox", "retry", "9999").status == 64)
        try await hook.stop()
    }

    @Test("the daemon delivers an alert right after the commit that confirmed it, and stops cleanly")
    func daemonDelivers() async throws {
        let workspace = try await Workspace.make()
        defer { workspace.remove() }
        let hook = try await Receiver.start()
        #expect(try await workspace.run("channel", "add", "hook", "--type", "webhook", "--url", hook.url(), "--default").status == 0)
        #expect(try await workspace.run("monitor", "add", "--type", "port", "--target", "127.0.0.1:1", "--interval", "1s", "--failure-threshold", "1").status == 0)
        try await workspace.sql("UPDATE monitors SET next_check_at = 0")
        let process = try CLI.start(["run", "--db", workspace.db, "--quiet"] + Self.loopback)
        let received = await hook.requests(count: 1)
        #expect(received.first?.json?["type"] as? String == "monitor.down")
        process.terminate()  // SIGTERM
        let running = process
        await offPool {
            _ = running.output.readDataToEndOfFile()
            _ = running.errors.readDataToEndOfFile()
            running.waitUntilExit()
        }
        #expect(process.terminationReason == .exit && process.terminationStatus == 0)
        #expect(try await workspace.scalar("SELECT count(*) FROM outbox WHERE delivered_at IS NOT NULL") == 1)
        #expect(hook.requests.count == 1)  // still down: nothing more to say
        try await hook.stop()
    }

    @Test("import reads thresholds, maintenance windows and channels; bad ones are refused with their line")
    func importAlerting() async throws {
        let workspace = try await Workspace.make()
        defer { workspace.remove() }
        #expect(try await workspace.run("channel", "add", "ops", "--type", "slack", "--url", "https://hooks.slack.com/services/x").status == 0)
        let good = try workspace.write("good.yaml", """
            monitors:
              - key: api
                type: http
                target: https://example.com/
                failure_threshold: 3
                reminder: 30m
                notify: [ops]
                maintenance:
                  - at: "02:00"
                    duration: 2h
                    days: [sat, sun]
                    time_zone: Europe/Berlin
            """)
        let imported = try await workspace.run("import", good)
        #expect(imported.status == 0, "\(imported.stderr)")
        let settings = try #require((try await workspace.json("monitor", "show", "1") as? [String: Any])?["settings"] as? String)
        #expect(settings.contains(#""failure_threshold":3"#) && settings.contains(#""reminder_minutes":30"#))
        #expect(settings.contains(#""duration_minutes":120"#) && settings.contains(#""time_zone":"Europe/Berlin""#))
        #expect(try await workspace.scalar("SELECT count(*) FROM monitor_channels") == 1)

        for (yaml, message) in [
            ("    notify: [nosuch]\n", "no channel named 'nosuch'"),
            ("    maintenance:\n      - at: \"02:00\"\n        duration: 1h\n        time_zone: Mars/Base\n", "unknown time_zone 'Mars/Base'"),
            ("    failure_threshold: 11\n", "failure_threshold must be between 1 and 10"),
            ("    maintenance:\n      - every: monday\n", "unknown maintenance field 'every'"),
        ] {
            let bad = try workspace.write("bad.yaml", "monitors:\n  - key: other\n    type: port\n    target: 127.0.0.1:1\n" + yaml)
            let result = try await workspace.run("import", bad)
            #expect(result.status == 64 && result.stderr.contains(message), "\(result.stderr)")
        }
        #expect(try await workspace.scalar("SELECT count(*) FROM monitors") == 1)
    }
}
