import Foundation
import Testing
import UptickPostgres
import UptickStore
import UptickTargets
import UptickTestSupport

/// The `uptick` binary on a real PostgreSQL server (Tests/Helpers/postgres_server.py).
@Suite("The command line on PostgreSQL", .timeLimit(.minutes(2)))
struct PostgresCLITests {
    func scalar(_ database: PostgresDatabase, _ sql: String) async throws -> Int64 {
        try #require(try await database.scalar(sql))
    }

    /// Milliseconds since the epoch, now.
    var now: Int64 { Int64(Date().timeIntervalSince1970 * 1000) }

    @Test("migrate, import, tick, status and history on PostgreSQL; unreachable or read-only: one line and exit 1")
    func wholeCycle() async throws {
        let server = try await PostgresServer.shared()
        let url = server.url(database: try await server.createDatabase())
        let database = try PostgresDatabase(url: url)
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("uptick-pg-cli-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let migrate = try await CLI.run(["migrate", "--db", url])
        #expect(migrate.status == 0 && migrate.stdout.contains("applied migrations 1, 2, 3, 4, 5"), "\(migrate.stderr)")
        let file = directory.appendingPathComponent("monitors.yaml")
        try ("monitors:\n" + (0..<50).map { "  - {key: m\($0), type: port, target: \"127.0.0.1:1\", interval: 1h, timeout: 1s}\n" }.joined())
            .write(to: file, atomically: true, encoding: .utf8)
        #expect(try await CLI.run(["import", file.path, "--db", url]).status == 0)
        try await database.run("UPDATE monitors SET next_check_at = 0")
        let tick = try await CLI.run(["tick", "--json", "--allow-cidr", "127.0.0.1/32", "--db", url], in: directory)
        #expect(tick.status == 0, "\(tick.stderr)")
        let summary = try JSONSerialization.jsonObject(with: Data(tick.stdout.utf8)) as? [String: Any]
        #expect(summary?["claimed"] as? Int == 50 && summary?["down"] as? Int == 50, "\(tick.stdout)")
        #expect(try await scalar(database, "SELECT count(*) FROM checks WHERE error_class = 'refused'") == 50)
        #expect(try await scalar(database, "SELECT sum(down) FROM rollups WHERE period_ms = 86400000") == 50)
        let status = try await CLI.run(["status", "--db", url])
        #expect(status.status == 0 && status.stdout.contains("127.0.0.1:1"), "\(status.stdout)")
        let history = try await CLI.run(["history", "1", "--json", "--db", url])
        #expect(history.status == 0 && history.stdout.contains("refused"))

        let closed = try LoopbackServer.freePort()
        let down = try await CLI.run(["run", "--db", "postgres://uptick@127.0.0.1:\(closed)/uptick?sslmode=disable"])
        #expect(down.status == 1, "\(down.stderr)")
        #expect(down.stderr.split(separator: "\n").count == 1 && down.stderr.contains("connection refused"), "\(down.stderr)")

        let replica = try await PostgresServer.start(readOnly: true)
        defer { replica.stop() }
        let readOnly = try await CLI.run(["run", "--db", replica.url()])
        #expect(readOnly.status == 1 && readOnly.stderr.contains("read-only") && readOnly.stderr.split(separator: "\n").count == 1,
                "\(readOnly.stderr)")
        // Reading a read-only server is fine: `status` and `serve` are how a replica is used.
        let migrated = try await CLI.run(["status", "--db", replica.url()])
        #expect(migrated.status == 1 && migrated.stderr.contains("uptick migrate"), "\(migrated.stderr)")
    }

    @Test("three runners share one PostgreSQL: no slot checked twice, none missed; a server restart loses nothing; one killed, the others go on")
    func sharedFleet() async throws {
        let server = try await PostgresServer.start()
        defer { server.stop() }
        let url = server.url()
        let database = try PostgresDatabase(url: url)
        let tcp = try await LoopbackServer.tcp()
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("uptick-pg-fleet-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        #expect(try await CLI.run(["migrate", "--db", url]).status == 0)
        let count = 60
        let file = directory.appendingPathComponent("monitors.yaml")
        try ("monitors:\n" + (0..<count).map { "  - {key: m\($0), type: port, target: \"\(tcp.target)\", interval: 2s, timeout: 1s}\n" }.joined())
            .write(to: file, atomically: true, encoding: .utf8)
        #expect(try await CLI.run(["import", file.path, "--db", url]).status == 0)

        let outputs = (0..<3).map { directory.appendingPathComponent("runner\($0).jsonl") }
        let runners = try outputs.enumerated().map { index, output in
            try CLI.start(["run", "--json", "--allow-cidr", "127.0.0.1/32", "--db", url], in: directory,
                          environment: ["UPTICK_RUNNER_ID": "runner-\(index)"], output: output)
        }
        defer { for runner in runners where runner.isRunning { kill(runner.processIdentifier, SIGKILL) } }
        func logs() -> String {
            outputs.map { (try? String(contentsOf: $0.appendingPathExtension("stderr"), encoding: .utf8)) ?? "" }.joined(separator: "\n---\n")
        }
        let checks = "SELECT count(*) FROM checks"
        try await waitUntil(within: .seconds(30), "the runners said:\n\(logs())") { try await scalar(database, checks) >= Int64(count * 3) }

        // The server restarts under them (a fast shutdown ends their sessions): claims and commits fail meanwhile, and
        // resume by themselves on the same pools.
        let pausedAt = now
        try await server.pause()
        // The outage being simulated, not a wait for anything: longer than a connection is waited for (5 s), so claims
        // and commits fail and are retried, not merely delayed.
        try await Task.sleep(for: .seconds(6))
        try await server.resume()
        let afterRestart = try await scalar(database, checks)
        // A connection the restart broke can keep one call (the runners' or this test's own) waiting until its deadline
        // (statement_timeout + 5 s = 15 s) before it is closed and replaced: docs/postgres.md.
        try await waitUntil(within: .seconds(45), "the runners said:\n\(logs())") {
            try await scalar(database, checks) >= afterRestart + Int64(count * 3)
        }

        // One runner killed: the monitors it held stay leased until their leases end (timeout 1 s + grace 3 s after its
        // last claim), then the survivors check them again.
        kill(runners[2].processIdentifier, SIGKILL)
        let killedAt = now
        let unchecked = "SELECT count(*) FROM monitors WHERE id NOT IN (SELECT monitor_id FROM checks WHERE started_at > \(killedAt))"
        try await waitUntil(within: .seconds(20), "the runners said:\n\(logs())") { try await scalar(database, unchecked) == 0 }
        let slowest = try await scalar(database, """
            SELECT max(first) FROM (SELECT min(started_at) AS first FROM checks WHERE started_at > \(killedAt) GROUP BY monitor_id) f
            """)
        print("PostgreSQL fleet: SIGKILL → every monitor checked again by the survivors: \(slowest - killedAt) ms")
        // The bound of docs/architecture.md ("Leases"): one interval or 15 s, whichever is longer.
        #expect(slowest - killedAt <= 15_000, "\(slowest - killedAt) ms")

        var statuses: [Int32] = []
        for runner in runners.prefix(2) {
            kill(runner.processIdentifier, SIGTERM)
            statuses.append(await offPool { runner.waitUntilExit(); return runner.terminationStatus })
        }
        _ = await offPool { runners[2].waitUntilExit(); return runners[2].terminationStatus }
        #expect(statuses == [0, 0])

        // Every result a runner printed as committed is in the table once, and nothing is in the table twice: the
        // three printed exactly as many results as there are rows (a slot checked by two runners would print twice).
        let printed = try outputs.map { try String(contentsOf: $0, encoding: .utf8).split(separator: "\n").count }
        let rows = try await scalar(database, checks)
        let committedByKilled = try await scalar(database, "SELECT count(*) FROM checks WHERE runner = 'runner-2'")
        #expect(Int64(printed[0] + printed[1]) == rows - committedByKilled, "printed \(printed), rows \(rows)")
        #expect(Int64(printed[2]) <= committedByKilled)
        #expect(printed.allSatisfy { $0 > 0 } && printed[0] + printed[1] > count, "the work was shared: \(printed)")
        // No slot missed before the restart. (After it, a claim whose answer the restart lost leaves its monitors leased
        // until the lease ends, and the outage itself skips slots: a claim after it moves each monitor to its next slot,
        // no burst of the missed ones.)
        let gaps = try await scalar(database, """
            SELECT count(*) FROM (
                SELECT monitor_id, count(*) AS n, (max(scheduled_at) - min(scheduled_at)) / 2000 + 1 AS span FROM checks
                WHERE scheduled_at < \(pausedAt - 2_000) GROUP BY monitor_id
            ) before_restart WHERE n != span
            """)
        #expect(gaps == 0)
        #expect(try await scalar(database, "SELECT count(*) FROM checks WHERE status != 'up'") == 0)
        let logs = try String(contentsOf: outputs[0].appendingPathExtension("stderr"), encoding: .utf8)
        #expect(logs.contains("failed") && logs.contains("PostgreSQL"), "the outage was reported: \(logs)")
        #expect(!logs.contains("uptick-test"), "the password is never printed: \(logs)")
        try await tcp.stop()
    }
}
