import NIOCore
import Foundation
import Testing
import UptickApp
import UptickCore
import UptickStore
import UptickTargets
import UptickTestSupport

/// A temporary folder with a migrated `uptick.db`, driven through the real binary.
struct Workspace {
    let directory: URL
    var db: String { directory.appendingPathComponent("uptick.db").path }

    static func make(migrated: Bool = true) async throws -> Workspace {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("uptick-cli-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        let workspace = Workspace(directory: directory)
        if migrated { #expect(try await workspace.run("migrate").status == 0) }
        return workspace
    }

    func run(_ arguments: String...) async throws -> CLI.Result {
        try await CLI.run(arguments + ["--db", db])
    }

    func run(_ arguments: [String]) async throws -> CLI.Result {
        try await CLI.run(arguments + ["--db", db])
    }

    func json(_ arguments: String...) async throws -> Any {
        let result = try await run(arguments + ["--json"])
        #expect(result.status == 0, "stderr: \(result.stderr)")
        return try JSONSerialization.jsonObject(with: Data(result.stdout.utf8))
    }

    func sql(_ statement: String) async throws {
        try await SQLiteDatabase(path: db, create: false).run(statement)
    }

    func scalar(_ query: String) async throws -> Int64? {
        try await SQLiteDatabase(path: db, create: false).scalar(query)
    }

    func write(_ name: String, _ text: String) throws -> String {
        let path = directory.appendingPathComponent(name).path
        try text.write(toFile: path, atomically: true, encoding: .utf8)
        return path
    }

    func remove() {
        try? FileManager.default.removeItem(at: directory)
    }
}

@Suite("The uptick command line")
struct CLITests {
    @Test("a missing database is a one-line error, exit 1, and is not created")
    func missingDatabase() async throws {
        let workspace = try await Workspace.make(migrated: false)
        defer { workspace.remove() }
        let result = try await workspace.run("monitor", "list")
        #expect(result.status == 1)
        #expect(result.stderr.split(separator: "\n").count == 1 && result.stderr.contains("does not exist"))
        #expect(!FileManager.default.fileExists(atPath: workspace.db))
    }

    @Test("migrate creates the database and is idempotent")
    func migrate() async throws {
        let workspace = try await Workspace.make()
        defer { workspace.remove() }
        let again = try await workspace.run("migrate")
        #expect(again.status == 0 && again.stdout.contains("up to date"))
    }

    @Test("monitor add, list, show, disable, enable and remove")
    func monitorLifecycle() async throws {
        let workspace = try await Workspace.make()
        defer { workspace.remove() }
        let added = try await workspace.run("monitor", "add", "--type", "http", "--target", "https://example.com/health",
                                      "--interval", "1m", "--timeout", "5s", "--expect-status", "200-299,301",
                                      "--keyword", "ok", "--degraded-after", "2s", "--header", "X-Token: abc", "--name", "site")
        #expect(added.status == 0 && added.stdout == "1\n", "stderr: \(added.stderr)")
        #expect(try await workspace.run("monitor", "add", "--type", "port", "--target", "db.example.com:5432").stdout == "2\n")
        #expect(try await workspace.run("monitor", "add", "--type", "ping", "--target", "example.com").stdout == "3\n")

        let list = try #require(try await workspace.json("monitor", "list") as? [[String: Any]])
        #expect(list.count == 3 && list[0]["name"] as? String == "site" && list[0]["interval_seconds"] as? Int == 60)
        let settings = try #require(list[0]["settings"] as? String)
        #expect(settings.contains(#""expected_status":"200-299,301""#) && settings.contains(#""degraded_after_ms":2000"#))

        #expect(try await workspace.run("monitor", "disable", "2").status == 0)
        #expect((try await workspace.json("monitor", "show", "2") as? [String: Any])?["enabled"] as? Bool == false)
        #expect(try await workspace.run("monitor", "enable", "2").status == 0)
        #expect((try await workspace.json("monitor", "show", "2") as? [String: Any])?["status"] as? String == "pending")
        #expect(try await workspace.run("monitor", "remove", "2").status == 0)
        let gone = try await workspace.run("monitor", "show", "2")
        #expect(gone.status == 64 && gone.stderr.contains("no monitor with id 2"))
    }

    @Test("bad input is one line on stderr, exit 64, and writes nothing", arguments: [
        ["monitor", "add", "--type", "smtp", "--target", "x"],
        ["monitor", "add", "--type", "http", "--target", "not a url"],
        ["monitor", "add", "--type", "http", "--target", "ftp://example.com/"],
        ["monitor", "add", "--type", "port", "--target", "example.com"],
        ["monitor", "add", "--type", "port", "--target", "example.com:0"],
        ["monitor", "add", "--type", "port", "--target", "example.com:80", "--interval", "500ms"],
        ["monitor", "add", "--type", "port", "--target", "example.com:80", "--timeout", "11s"],
        ["monitor", "add", "--type", "http", "--target", "http://a/", "--expect-status", "2xx"],
        ["monitor", "add", "--type", "http", "--target", "http://a/", "--header", "no colon"],
        ["prune", "--older-than", "soon"],
    ])
    func badInput(arguments: [String]) async throws {
        let workspace = try await Workspace.make()
        defer { workspace.remove() }
        let result = try await workspace.run(arguments)
        #expect(result.status == 64)
        #expect(result.stderr.hasPrefix("uptick: ") && result.stderr.split(separator: "\n").count == 1, "stderr: \(result.stderr)")
        #expect(try await workspace.scalar("SELECT count(*) FROM monitors") == 0)
    }

    @Test("import upserts by key: created, then unchanged, then updated")
    func importYAML() async throws {
        let workspace = try await Workspace.make()
        defer { workspace.remove() }
        let yaml = """
            monitors:
              - key: home
                name: Home page
                type: http
                target: https://example.com/
                interval: 30s
                expect_status: 200-299
                keyword: Example Domain
                headers:
                  Accept-Language: en
              - key: db
                type: port
                target: db.example.com:5432
                interval: 1m
                timeout: 3s
            """
        let file = try workspace.write("monitors.yaml", yaml)
        #expect(try await workspace.run("import", file).stdout == "created 2, updated 0, unchanged 0\n")
        #expect(try await workspace.run("import", file).stdout == "created 0, updated 0, unchanged 2\n")
        let changed = try workspace.write("changed.yaml", yaml.replacingOccurrences(of: "timeout: 3s", with: "timeout: 4s"))
        #expect(try await workspace.run("import", changed).stdout == "created 0, updated 1, unchanged 1\n")
    }

    @Test("import carries every check option into the monitor's settings")
    func importAllFields() async throws {
        let workspace = try await Workspace.make()
        defer { workspace.remove() }
        let file = try workspace.write("all.yaml", """
            monitors:
              - {key: web, type: http, target: "https://example.com/", tls_verify: false, tls_expiry_days: 7, tls_expiry_status: down}
              - {key: smtp, type: port, target: "mail.example.com:465", tls: true}
              - {key: ping, type: ping, target: example.com, ping_count: 5}
              - {key: dns, type: dns, target: example.com, dns_record: A, dns_expect: [93.184.216.34]}
            """)
        let result = try await workspace.run("import", file)
        #expect(result.status == 0, "\(result.stderr)")
        let settings = try #require(try await workspace.json("monitor", "list") as? [[String: Any]]).compactMap { $0["settings"] as? String }
        #expect(settings == [
            #"{"tls_expiry_days":7,"tls_expiry_status":"down","tls_verify":false}"#, #"{"tls":true}"#,
            #"{"ping_count":5}"#, #"{"dns_expect":["93.184.216.34"],"dns_record":"A"}"#,
        ])
        let bad = try await workspace.run("import", try workspace.write("bad.yaml", "monitors:\n  - {key: x, type: port, target: 'h:1', tls: maybe}\n"))
        #expect(bad.status == 64 && bad.stderr.contains("'tls' must be true or false"))
    }

    @Test("the shipped example file imports cleanly")
    func exampleFile() async throws {
        let workspace = try await Workspace.make()
        defer { workspace.remove() }
        let example = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().appendingPathComponent("examples/monitors.yaml").path
        let result = try await workspace.run("import", example)
        #expect(result.status == 0 && result.stdout.hasPrefix("created "), "stderr: \(result.stderr)")
    }

    @Test("a YAML error names its line and writes nothing", arguments: [
        ("monitors:\n  - key: a\n    type: port\n    target: [unclosed\n", "line 4"),
        ("monitors:\n  - key: a\n    type: port\n    target: h:1\n  - key: b\n    type: http\n    target: nope\n", "line 5"),
        ("monitors:\n  - key: a\n    type: port\n    target: h:1\n    colour: red\n", "line 5"),
        ("monitors:\n  - key: a\n    type: port\n    target: h:1\n  - key: a\n    type: port\n    target: h:2\n", "line 5"),
        ("- just: a list\n", "monitors"),
    ])
    func yamlErrors(yaml: String, mention: String) async throws {
        let workspace = try await Workspace.make()
        defer { workspace.remove() }
        let result = try await workspace.run("import", try workspace.write("bad.yaml", yaml))
        #expect(result.status == 64 && result.stderr.contains(mention), "stderr: \(result.stderr)")
        #expect(result.stderr.split(separator: "\n").count == 1)
        #expect(try await workspace.scalar("SELECT count(*) FROM monitors") == 0)
    }

    @Test("tick, history, status and prune against local targets")
    func tickAndReports() async throws {
        let workspace = try await Workspace.make()
        defer { workspace.remove() }
        let http = try await LoopbackServer.http()
        let tcp = try await LoopbackServer.tcp()
        // Hourly: the first tick moves each to a slot within the next hour, so the second finds none due.
        _ = try await workspace.run("monitor", "add", "--type", "http", "--target", http.url("/"), "--name", "web", "--interval", "1h")
        _ = try await workspace.run("monitor", "add", "--type", "port", "--target", tcp.target, "--name", "tcp", "--interval", "1h")
        _ = try await workspace.run("monitor", "add", "--type", "port", "--target", "127.0.0.1:1", "--name", "closed", "--interval", "1h")
        try await workspace.sql("UPDATE monitors SET next_check_at = 0")

        let tick = try #require(try await workspace.json("tick", "--allow-cidr", "127.0.0.1/32") as? [String: Any])
        #expect(tick["claimed"] as? Int == 3 && tick["up"] as? Int == 2 && tick["down"] as? Int == 1)
        let second = try await workspace.run("tick", "--allow-cidr", "127.0.0.1/32")
        #expect(second.status == 0 && second.stdout.hasPrefix("claimed 0,"))

        let history = try #require(try await workspace.json("history", "1") as? [[String: Any]])
        #expect(history.count == 1 && (history[0]["result"] as? [String: Any])?["http_status"] as? Int == 200)
        let status = try #require(try await workspace.json("status") as? [[String: Any]])
        #expect(status.map { $0["uptime"] as? Double } == [1.0, 1.0, 0.0])
        let table = try await workspace.run("status")
        #expect(table.stdout.contains("web") && table.stdout.contains("100.00%") && table.stdout.contains("0.00%"))

        let pruned = try #require(try await workspace.json("prune", "--older-than", "0s") as? [String: Any])
        #expect(pruned["deleted"] as? Int == 3)
        try await http.stop()
        try await tcp.stop()
    }

    @Test("a concurrency the open-file limit cannot serve is refused up front", .enabled(if: hardOpenFileLimit() < 99_000))
    func openFileLimit() async throws {
        let workspace = try await Workspace.make()
        defer { workspace.remove() }
        let result = try await workspace.run("tick", "--concurrency", "100000")
        #expect(result.status == 64 && result.stderr.contains("needs more open files"), "\(result.stderr)")
    }

    @Test("results spooled by a run that could not commit are committed by the next tick")
    func spoolReplay() async throws {
        let workspace = try await Workspace.make()
        defer { workspace.remove() }
        _ = try await workspace.run("monitor", "add", "--type", "port", "--target", "127.0.0.1:1")
        try Database.spool(for: workspace.db).save([.sample(monitorID: 1, slot: 1_000, status: .down)])
        let tick = try await workspace.run("tick")
        #expect(tick.status == 0, "stderr: \(tick.stderr)")
        #expect(try await workspace.scalar("SELECT count(*) FROM checks WHERE scheduled_at = 1000") == 1)
        #expect(!FileManager.default.fileExists(atPath: Database.spool(for: workspace.db).path))
    }

    @Test("the daemon prints each result and exits 0 on SIGTERM with every result committed")
    func daemonSigterm() async throws {
        let workspace = try await Workspace.make()
        defer { workspace.remove() }
        let tcp = try await LoopbackServer.tcp()
        _ = try await workspace.run("monitor", "add", "--type", "port", "--target", tcp.target, "--interval", "1s", "--name", "tcp")
        try await workspace.sql("UPDATE monitors SET next_check_at = 0")
        let process = try CLI.start(["run", "--db", workspace.db, "--allow-cidr", "127.0.0.1/32"])
        let stdout = process.output
        // Wait for the first printed result (the signal that a check was committed), then stop.
        var printed = await offPool {
            var printed = ""
            while !printed.contains("\n") {
                let chunk = stdout.availableData
                if chunk.isEmpty { break }
                printed += String(decoding: chunk, as: UTF8.self)
            }
            return printed
        }
        #expect(printed.contains("tcp") && printed.contains("UP"), "printed: \(printed)")
        process.terminate()  // SIGTERM
        let running = process
        printed += await offPool {
            let rest = String(decoding: stdout.readDataToEndOfFile(), as: UTF8.self)
            running.waitUntilExit()
            return rest
        }
        #expect(process.terminationReason == .exit && process.terminationStatus == 0)
        let lines = printed.split(separator: "\n").count
        #expect(try await workspace.scalar("SELECT count(*) FROM checks") == Int64(lines))
        #expect(try await workspace.scalar("SELECT count(*) FROM monitors WHERE lease_until IS NOT NULL") == 0)
        try await tcp.stop()
    }
}

@Suite("Stopping the daemon", .timeLimit(.minutes(1)))
struct DaemonSignalTests {
    /// A daemon whose one HTTP check is held by the target for `delay`, started and seen mid-check.
    func midCheck(_ workspace: Workspace, delay: Int64) async throws -> (Process, Receiver) {
        let target = try await Receiver.start()
        target.delay(.seconds(delay))
        _ = try await workspace.run("monitor", "add", "--type", "http", "--target", target.url("/slow"), "--interval", "30s")
        try await workspace.sql("UPDATE monitors SET next_check_at = 0")
        let process = try CLI.start(["run", "--db", workspace.db, "--quiet", "--allow-cidr", "127.0.0.1/32"])
        _ = await target.requests(count: 1)
        return (process, target)
    }

    func exit(of process: Process) async -> (status: Int32, stderr: String) {
        let running = process
        let stderr = await offPool {
            let text = String(decoding: running.errors.readDataToEndOfFile(), as: UTF8.self)
            _ = running.output.readDataToEndOfFile()
            running.waitUntilExit()
            return text
        }
        return (process.terminationStatus, stderr)
    }

    @Test("a second signal a second or more after the first stops at once, exit 130, the check in flight left to its lease")
    func secondSignal() async throws {
        let workspace = try await Workspace.make()
        defer { workspace.remove() }
        let (process, target) = try await midCheck(workspace, delay: 20)
        process.terminate()
        // The pause is the stimulus itself: a repeat within a second counts as the same request.
        try await Task.sleep(for: .milliseconds(1200))
        let second = ContinuousClock.now
        process.terminate()
        let (status, stderr) = await exit(of: process)
        #expect(status == 130, "\(stderr)")
        #expect(ContinuousClock.now - second < .seconds(10), "it waited for the check")
        #expect(stderr.contains("second signal"), "\(stderr)")
        #expect(try await workspace.scalar("SELECT count(*) FROM checks") == 0)
        #expect(try await workspace.scalar("SELECT count(*) FROM monitors WHERE lease_until IS NOT NULL") == 1)
        try await target.stop()
    }

    @Test("a signal repeated within a second is the same request: the check in flight finishes and is committed, exit 0")
    func repeatedSignal() async throws {
        let workspace = try await Workspace.make()
        defer { workspace.remove() }
        let (process, target) = try await midCheck(workspace, delay: 2)
        process.terminate()
        process.terminate()
        let (status, stderr) = await exit(of: process)
        #expect(status == 0, "\(stderr)")
        #expect(try await workspace.scalar("SELECT count(*) FROM checks WHERE status = 'up'") == 1)
        #expect(try await workspace.scalar("SELECT count(*) FROM monitors WHERE lease_until IS NOT NULL") == 0)
        try await target.stop()
    }
}

@Suite("uptick.yaml")
struct ConfigFileTests {
    @Test("keys mirror the flags; a flag wins over the environment, which wins over the file; a bad key names its line")
    func configFile() async throws {
        let workspace = try await Workspace.make()
        defer { workspace.remove() }
        let yaml = workspace.directory.appendingPathComponent("uptick.yaml")
        try "db: \(workspace.db)\nconcurrency: 3\n".write(to: yaml, atomically: true, encoding: .utf8)
        // The file alone names the database: `status` finds it from the working directory.
        _ = try await workspace.run("monitor", "add", "--type", "port", "--target", "127.0.0.1:1", "--name", "from-file")
        let status = try await CLI.run(["status"], in: workspace.directory)
        #expect(status.status == 0 && status.stdout.contains("from-file"), "\(status.stderr)")
        // Precedence, seen through a bad value in each source: the error names the one that won.
        try "db: \(workspace.db)\nconcurrency: 0\n".write(to: yaml, atomically: true, encoding: .utf8)
        let fromFile = try await CLI.run(["tick"], in: workspace.directory)
        #expect(fromFile.status == 64 && fromFile.stderr.contains("concurrency in ./uptick.yaml must be"), "\(fromFile.stderr)")
        let fromEnvironment = try await CLI.run(["tick"], in: workspace.directory, environment: ["UPTICK_CONCURRENCY": "-1"])
        #expect(fromEnvironment.stderr.contains("UPTICK_CONCURRENCY must be"), "\(fromEnvironment.stderr)")
        let fromFlag = try await CLI.run(["tick", "--concurrency", "100001"], in: workspace.directory, environment: ["UPTICK_CONCURRENCY": "-1"])
        #expect(fromFlag.stderr.contains("--concurrency must be"), "\(fromFlag.stderr)")
        try await workspace.sql("UPDATE monitors SET next_check_at = 0")
        let fine = try await CLI.run(["tick", "--concurrency", "2", "--json"], in: workspace.directory)
        #expect(fine.status == 0 && fine.stdout.contains(#""claimed" : 1"#), "\(fine.stdout)\(fine.stderr)")
        try "db: \(workspace.db)\nconcurency: 2\n".write(to: yaml, atomically: true, encoding: .utf8)
        let typo = try await CLI.run(["status"], in: workspace.directory)
        #expect(typo.status == 64 && typo.stderr.contains("uptick.yaml:2: unknown setting 'concurency'"), "\(typo.stderr)")
        let named = try await CLI.run(["status", "--config-file", "missing.yaml"], in: workspace.directory)
        #expect(named.status == 64 && named.stderr.contains("config file missing.yaml does not exist"))
    }
}

@Suite("uptick check")
struct CheckCommandTests {
    @Test("exit status: 0 up, 1 degraded, 2 down or blocked, 64 bad input")
    func exitCodes() async throws {
        let http = try await LoopbackServer.http()
        let allow = ["--allow-cidr", "127.0.0.1/32"]
        let up = try await CLI.run(["check", http.url("/")] + allow)
        #expect(up.status == 0 && up.stdout.hasPrefix("UP") && up.stdout.contains("first byte"), "\(up.stdout)\(up.stderr)")
        #expect(up.stderr.contains("ALSO ALLOWING 127.0.0.1/32"))
        let slow = try await CLI.run(["check", http.url("/slow/50"), "--degraded-after", "1ms"] + allow)
        #expect(slow.status == 1 && slow.stdout.hasPrefix("DEGRADED"))
        let down = try await CLI.run(["check", http.url("/status/500")] + allow)
        #expect(down.status == 2 && down.stdout.contains("[http_status]"))
        let blocked = try await CLI.run(["check", http.url("/")])
        #expect(blocked.status == 2 && blocked.stdout.contains("[blocked]") && blocked.stdout.contains("loopback"))
        #expect(try await http.settledConnections() == 3)
        let port = try await CLI.run(["check", "--type", "port", "127.0.0.1:\(http.port)", "--json"] + allow)
        #expect(port.status == 0 && port.stdout.contains(#""status" : "up""#))
        for bad in [["check", "--type", "smtp", "x"], ["check", "not a url"], ["check", http.url("/"), "--allow-cidr", "nonsense"]] {
            let result = try await CLI.run(bad)
            #expect(result.status == 64 && result.stderr.split(separator: "\n").count == 1, "\(bad): \(result.stderr)")
        }
        try await http.stop()
    }
}

/// The hard limit on open files of this process (inherited by the CLI it starts).
func hardOpenFileLimit() -> Int {
    var limit = rlimit()
    getrlimit(Int32(RLIMIT_NOFILE.rawValue), &limit)
    return Int(limit.rlim_max)
}
