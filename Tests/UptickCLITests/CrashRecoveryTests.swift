import Foundation
import NIOCore
import Testing
import UptickStore
import UptickTargets
import UptickTestSupport

extension Workspace {
    /// Imports `count` monitors `m0`…: each `{key: mN, <fields(N)>}` in a YAML file.
    func importMonitors(_ count: Int, _ fields: (Int) -> String) async throws {
        let file = try write("monitors.yaml", "monitors:\n" + (0..<count).map { "  - {key: m\($0), \(fields($0))}\n" }.joined())
        #expect(try await run("import", file).status == 0)
    }
}

/// A daemon killed with SIGKILL in the middle of its checks, as a crash or an undrained deploy does.
@Suite("Crash recovery", .timeLimit(.minutes(2)))
struct CrashRecoveryTests {
    var now: Int64 { Int64(Date().timeIntervalSince1970 * 1000) }

    @Test("after SIGKILL with every monitor's check in flight, a restarted daemon checks them all again within 15 s, each slot once")
    func restartAfterKill() async throws {
        let workspace = try await Workspace.make()
        defer { workspace.remove() }
        // Every check takes 2 s, so at any moment each monitor has one in flight (interval 1 s); a 10 s timeout is the
        // longest lease a check can have.
        let target = try await Receiver.start()
        target.delay(.seconds(2))
        let count = 40
        try await workspace.importMonitors(count) { "type: http, target: \"\(target.url("/m\($0)"))\", interval: 1s, timeout: 10s" }
        let arguments = ["run", "--db", workspace.db, "--quiet", "--allow-cidr", "127.0.0.1/32"]
        let first = try CLI.start(arguments, output: workspace.directory.appendingPathComponent("first.out"))
        defer { if first.isRunning { kill(first.processIdentifier, SIGKILL) } }
        try await waitUntil(within: .seconds(30)) {
            try await workspace.scalar("SELECT count(DISTINCT monitor_id) FROM checks") == Int64(count)
        }
        #expect(try await workspace.scalar("SELECT count(*) FROM monitors WHERE lease_until IS NOT NULL") ?? 0 > 0, "checks are in flight")
        kill(first.processIdentifier, SIGKILL)
        let killedAt = now
        _ = await offPool { first.waitUntilExit() }

        let second = try CLI.start(arguments, output: workspace.directory.appendingPathComponent("second.out"))
        defer { if second.isRunning { kill(second.processIdentifier, SIGKILL) } }
        // Checked again: a check that started after the kill is committed for every monitor (it takes its 2 s first).
        let recovered = "SELECT count(DISTINCT monitor_id) FROM checks WHERE started_at > \(killedAt)"
        try await waitUntil(within: .seconds(30)) { try await workspace.scalar(recovered) == Int64(count) }
        // The last monitor to be checked again started at most 10 s (timeout) + 3 s (grace) after its last claim, which
        // was before the kill, plus up to 1 s until the restarted daemon asks again (while every monitor is leased it
        // asks once a second) and the claim itself.
        let slowest = try #require(try await workspace.scalar("""
            SELECT max(first) FROM (SELECT min(started_at) AS first FROM checks WHERE started_at > \(killedAt) GROUP BY monitor_id)
            """))
        print("crash → every monitor checked again: \(slowest - killedAt) ms")
        #expect(slowest - killedAt <= 15_000, "\(slowest - killedAt) ms")
        kill(second.processIdentifier, SIGTERM)
        _ = await offPool { second.waitUntilExit() }
        #expect(second.terminationStatus == 0)
        // Nothing is left leased after a graceful stop.
        #expect(try await workspace.scalar("SELECT count(*) FROM monitors WHERE lease_until IS NOT NULL") == 0)
        try await target.stop()
    }
}

@Suite("Output that nobody reads", .timeLimit(.minutes(1)))
struct BlockedOutputTests {
    @Test("a daemon whose stdout and stderr pipes nobody reads goes on committing, and stops on SIGTERM")
    func unreadPipes() async throws {
        let workspace = try await Workspace.make()
        defer { workspace.remove() }
        let tcp = try await LoopbackServer.tcp()
        let count = 50
        try await workspace.importMonitors(count) { _ in "type: port, target: \"\(tcp.target)\", interval: 1s" }
        // Piped, and the pipes are never read: about 160 JSON result lines fill one (64 KB), in about 3 s.
        let process = try CLI.start(["run", "--db", workspace.db, "--json", "--allow-cidr", "127.0.0.1/32"])
        defer { if process.isRunning { kill(process.processIdentifier, SIGKILL) } }
        // Far more results than the pipe holds are committed: printing did not hold the engine.
        try await waitUntil(within: .seconds(30)) { try await workspace.scalar("SELECT count(*) FROM checks") ?? 0 >= 600 }
        kill(process.processIdentifier, SIGTERM)
        let stopped = ContinuousClock.now
        try await waitUntil(within: .seconds(10), "SIGTERM was not acted on") { !process.isRunning }
        #expect(process.terminationReason == .exit && process.terminationStatus == 0)
        // It ends after its last checks (≤ 1 s here) and at most 2 s per stream of waiting for a reader.
        #expect(ContinuousClock.now - stopped < .seconds(8))
        #expect(try await workspace.scalar("SELECT count(*) FROM monitors WHERE lease_until IS NOT NULL") == 0)
        let printed = String(decoding: process.output.availableData, as: UTF8.self)
        #expect(printed.hasPrefix("{"), "the first results are in the pipe: \(printed.prefix(200))")
        try await tcp.stop()
    }
}

@Suite("Chaos: SIGKILL at random points", .timeLimit(.minutes(3)))
struct ChaosTests {
    /// A small seeded generator, so a failing run can be replayed with its printed seed.
    struct SplitMix: RandomNumberGenerator {
        var state: UInt64
        mutating func next() -> UInt64 {
            state &+= 0x9E37_79B9_7F4A_7C15
            var z = state
            z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
            z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
            return z ^ (z >> 31)
        }
    }

    @Test("20 SIGKILLs of a daemon checking HTTP monitors that flip, alerting a webhook that is down at times: nothing committed is lost, every alert is delivered, the file is intact")
    func killRepeatedly() async throws {
        let seed = UInt64(Date().timeIntervalSince1970 * 1000)
        print("chaos seed \(seed)")
        var random = SplitMix(state: seed)
        let workspace = try await Workspace.make()
        defer { workspace.remove() }
        let target = try await Receiver.start()
        let hook = try await Receiver.start()
        #expect(try await workspace.run("channel", "add", "hook", "--type", "webhook", "--url", hook.url(), "--default").status == 0)
        try await workspace.importMonitors(20) { "type: http, target: \"\(target.url("/m\($0)"))\", interval: 1s, timeout: 2s, failure_threshold: 1, recovery_threshold: 1" }
        let arguments = ["run", "--db", workspace.db, "--json", "--allow-cidr", "127.0.0.1/32"]
        var outputs: [URL] = []
        for round in 0..<20 {
            // The target flips every fourth round (so incidents open and resolve); the webhook answers 503 in rounds 3-6.
            target.respond(with: (round / 4) % 2 == 0 ? 200 : 500)
            hook.respond(with: (3...6).contains(round) ? 503 : 200)
            let output = workspace.directory.appendingPathComponent("round\(round).jsonl")
            outputs.append(output)
            let committed = try await workspace.scalar("SELECT count(*) FROM checks") ?? 0
            let process = try CLI.start(arguments, output: output)
            defer { if process.isRunning { kill(process.processIdentifier, SIGKILL) } }
            // Working (it committed something), then killed at a random point of its work: claiming, checking,
            // committing or delivering.
            try await waitUntil(within: .seconds(30)) { try await workspace.scalar("SELECT count(*) FROM checks") ?? 0 > committed }
            try await Task.sleep(for: .milliseconds(Int.random(in: 0...1_500, using: &random)))
            kill(process.processIdentifier, SIGKILL)
            _ = await offPool { process.waitUntilExit() }
            #expect(process.terminationReason == .uncaughtSignal)
        }
        let lastKill = Int64(Date().timeIntervalSince1970 * 1000)
        // A last run, left alone, with the webhook up: it takes over what the killed ones left.
        target.respond(with: 200)
        hook.respond(with: 200)
        let last = workspace.directory.appendingPathComponent("last.jsonl")
        outputs.append(last)
        let process = try CLI.start(arguments, output: last)
        defer { if process.isRunning { kill(process.processIdentifier, SIGKILL) } }
        // Delivery leases of killed deliverers end after 60 s; retries after 503s wait up to 20 s.
        let pending = "SELECT count(*) FROM outbox WHERE delivered_at IS NULL AND dead_at IS NULL"
        try await waitUntil(within: .seconds(100), "alerts still pending") {
            let waiting = try await workspace.scalar(pending)
            let notUp = try await workspace.scalar("SELECT count(*) FROM monitors WHERE status != 'up'")
            // Every monitor checked again, so the killed daemons' leases (≤ 5 s) have ended and been taken over.
            let taken = try await workspace.scalar("SELECT count(DISTINCT monitor_id) FROM checks WHERE started_at > \(lastKill)")
            return waiting == 0 && notUp == 0 && taken == 20
        }
        kill(process.processIdentifier, SIGTERM)
        _ = await offPool { process.waitUntilExit() }
        #expect(process.terminationStatus == 0)

        // Every result a daemon printed (it prints only what was committed) is in the table.
        let database = try SQLiteDatabase(path: workspace.db, create: false)
        var printed = 0
        for output in outputs {
            for line in try String(contentsOf: output, encoding: .utf8).split(separator: "\n") {
                let object = try #require(try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any])
                let (monitor, slot) = (try #require(object["monitor_id"] as? Int), try #require(object["scheduled_at"] as? Int))
                printed += 1
                #expect(try await database.scalar("SELECT count(*) FROM checks WHERE monitor_id = ? AND scheduled_at = ?",
                                                  [.integer(Int64(monitor)), .integer(Int64(slot))]) == 1, "printed \(line) is not stored")
            }
        }
        #expect(printed > 100)
        // Incidents opened and resolved, and every event was delivered: each outbox row at least once, nothing else.
        let events = try await database.execute([SQLStatement("SELECT event_id FROM outbox WHERE delivered_at IS NOT NULL")], transaction: false)[0]
            .rows.compactMap { $0[0].text }
        let rows = try await workspace.scalar("SELECT count(*) FROM outbox")
        #expect(events.count >= 4 && Int64(events.count) == rows)
        let received = hook.requests.compactMap { $0.headers["uptick-event-id"] }
        #expect(Set(received) == Set(events), "received \(Set(received).count) distinct ids of \(events.count)")
        print("chaos: \(printed) results printed, \(events.count) events, \(received.count) webhook requests (retries and at-least-once repeats included)")
        // Nothing left leased after the graceful stop, and the file is intact.
        #expect(try await workspace.scalar("SELECT count(*) FROM monitors WHERE lease_until IS NOT NULL") == 0)
        let integrity = try await database.execute([SQLStatement("PRAGMA integrity_check")], transaction: false)[0].rows.first?.first?.text
        #expect(integrity == "ok")
        try await target.stop()
        try await hook.stop()
    }
}

@Suite("Database faults under a running daemon", .timeLimit(.minutes(2)))
struct DatabaseFaultTests {
    @Test("the database locked by another writer for 30 s: said once, said again when it is back, and the daemon goes on by itself")
    func lockedForThirtySeconds() async throws {
        let workspace = try await Workspace.make()
        defer { workspace.remove() }
        let tcp = try await LoopbackServer.tcp()
        try await workspace.importMonitors(10) { _ in "type: port, target: \"\(tcp.target)\", interval: 1s" }
        let output = workspace.directory.appendingPathComponent("run.out")
        let process = try CLI.start(["run", "--db", workspace.db, "--quiet", "--allow-cidr", "127.0.0.1/32"], output: output)
        defer { if process.isRunning { kill(process.processIdentifier, SIGKILL) } }
        try await waitUntil(within: .seconds(30)) { try await workspace.scalar("SELECT count(*) FROM checks") ?? 0 >= 20 }
        // Another writer takes the lock (between two of the daemon's own transactions) and keeps it 30 s.
        var lock: WriteLock?
        try await waitUntil(within: .seconds(10)) {
            lock = try? WriteLock(path: workspace.db)
            return lock != nil
        }
        let lockedAt = Int64(Date().timeIntervalSince1970 * 1000)
        try await Task.sleep(for: .seconds(30))  // the outage being simulated, not a wait for anything
        // Read before releasing: the daemon may claim and start checks before this thread runs again.
        let releasedAt = Int64(Date().timeIntervalSince1970 * 1000)
        lock?.release()
        let errors = output.appendingPathExtension("stderr")
        try await waitUntil(within: .seconds(40), "no recovery line") {
            (try? String(contentsOf: errors, encoding: .utf8))?.contains("the database works again") == true
        }
        // Every monitor is checked again once the lock is gone, at its slots: no burst of the 30 missed ones each.
        let after = "SELECT count(DISTINCT monitor_id) FROM checks WHERE started_at > \(releasedAt)"
        try await waitUntil(within: .seconds(15)) { try await workspace.scalar(after) == 10 }
        let during = try await workspace.scalar("SELECT count(*) FROM checks WHERE started_at > \(lockedAt + 6_000) AND started_at < \(releasedAt)")
        #expect(during == 0, "nothing is claimed while the database is locked")
        kill(process.processIdentifier, SIGTERM)
        _ = await offPool { process.waitUntilExit() }
        #expect(process.terminationStatus == 0)
        let log = try String(contentsOf: errors, encoding: .utf8)
        let failing = log.components(separatedBy: "the database is failing").count - 1
        let back = log.components(separatedBy: "the database works again").count - 1
        #expect(failing == 1 && back == 1, "said once each (about a dozen attempts failed):\n\(log)")
        #expect(log.contains("(busy)") && log.contains("locked"), "\(log)")
        let perMonitor = try await workspace.scalar("""
            SELECT max(n) FROM (SELECT count(*) AS n FROM checks WHERE started_at > \(releasedAt) GROUP BY monitor_id)
            """) ?? 0
        let seconds = (Int64(Date().timeIntervalSince1970 * 1000) - releasedAt) / 1000 + 1
        #expect(perMonitor <= seconds + 1, "\(perMonitor) checks of one monitor in \(seconds) s: no burst of missed slots")
        try await tcp.stop()
    }

    /// The database on an 8 MB tmpfs of its own (mounted by the test, so it needs root, as CI has), with a file beside it
    /// that fills the disk and is then deleted. SQLite resolves symbolic links itself, so the daemon cannot be given a
    /// mount namespace of its own: the test could not open the file through /proc/PID/root.
    @Test("the disk full: said once, nothing half-written; space freed, the daemon goes on by itself")
    func diskFull() async throws {
        try #require(getuid() == 0, "mounting a tmpfs needs root, as in CI")
        let workspace = try await Workspace.make()
        defer { workspace.remove() }
        let tcp = try await LoopbackServer.tcp()
        try await workspace.importMonitors(50) { _ in "type: port, target: \"\(tcp.target)\", interval: 1s" }
        let disk = workspace.directory.appendingPathComponent("disk").path
        try FileManager.default.createDirectory(atPath: disk, withIntermediateDirectories: false)
        func mount(_ arguments: [String]) throws -> Int32 {
            let process = try Process.run(URL(fileURLWithPath: "/usr/bin/env"), arguments: arguments)
            process.waitUntilExit()
            return process.terminationStatus
        }
        try #require(try mount(["mount", "-t", "tmpfs", "-o", "size=8m", "uptick-test", disk]) == 0, "mount a tmpfs on \(disk)")
        defer { _ = try? mount(["umount", "-l", disk]) }
        let db = disk + "/uptick.db"
        _ = try await SQLiteDatabase(path: workspace.db, create: false).execute([SQLStatement("VACUUM INTO '\(db)'")], transaction: false)
        let output = workspace.directory.appendingPathComponent("run.out")
        let process = try CLI.start(["run", "--db", db, "--quiet", "--allow-cidr", "127.0.0.1/32"], output: output)
        defer { if process.isRunning { kill(process.processIdentifier, SIGKILL) } }
        func scalar(_ sql: String) async throws -> Int64? { try await SQLiteDatabase(path: db, create: false).scalar(sql) }
        try await waitUntil(within: .seconds(30)) { try await scalar("SELECT count(*) FROM checks") ?? 0 >= 100 }
        // Fill the tmpfs: write until the kernel says there is no space left.
        let filler = disk + "/filler"
        #expect(FileManager.default.createFile(atPath: filler, contents: nil))
        let handle = try FileHandle(forWritingTo: URL(fileURLWithPath: filler))
        let chunk = Data(count: 64 * 1024)
        while (try? handle.write(contentsOf: chunk)) != nil {}
        try? handle.close()
        let errors = output.appendingPathExtension("stderr")
        try await waitUntil(within: .seconds(60), "the full disk was not reported") {
            (try? String(contentsOf: errors, encoding: .utf8))?.contains("is full") == true
        }
        try FileManager.default.removeItem(atPath: filler)
        let freedAt = Int64(Date().timeIntervalSince1970 * 1000)
        try await waitUntil(within: .seconds(60), "no recovery line") {
            (try? String(contentsOf: errors, encoding: .utf8))?.contains("the database works again") == true
        }
        try await waitUntil(within: .seconds(30)) {
            try await scalar("SELECT count(DISTINCT monitor_id) FROM checks WHERE started_at > \(freedAt)") == 50
        }
        #expect(try await SQLiteDatabase(path: db, create: false)
            .execute([SQLStatement("PRAGMA integrity_check")], transaction: false)[0].rows.first?.first?.text == "ok")
        #expect(try await scalar("""
            SELECT count(*) FROM monitors m WHERE last_checked_at IS NOT (SELECT max(started_at) FROM checks c WHERE c.monitor_id = m.id)
            """) == 0)
        kill(process.processIdentifier, SIGTERM)
        _ = await offPool { process.waitUntilExit() }
        #expect(process.terminationStatus == 0)
        let log = try String(contentsOf: errors, encoding: .utf8)
        #expect(log.components(separatedBy: "the database is failing").count - 1 == 1, "said once:\n\(log)")
        #expect(log.components(separatedBy: "the database works again").count - 1 == 1, "\(log)")
        try await tcp.stop()
    }

    /// The Hrana server serves the workspace's file; the test reads the file itself.
    @Test("libSQL answering 503, then cutting its answers mid-body, then not answering: said once, nothing duplicated, back by itself")
    func libSQLFaults() async throws {
        let workspace = try await Workspace.make()
        defer { workspace.remove() }
        let tcp = try await LoopbackServer.tcp()
        try await workspace.importMonitors(10) { _ in "type: port, target: \"\(tcp.target)\", interval: 1s" }
        let server = try await LibSQLServer.start(path: workspace.db)
        defer { server.stop() }
        let output = workspace.directory.appendingPathComponent("run.out")
        let process = try CLI.start(["run", "--db", server.url, "--quiet", "--allow-cidr", "127.0.0.1/32"], output: output)
        defer { if process.isRunning { kill(process.processIdentifier, SIGKILL) } }
        try await waitUntil(within: .seconds(30)) { try await workspace.scalar("SELECT count(*) FROM checks") ?? 0 >= 20 }
        // The faults being simulated, one after another: durations, not waits for anything.
        try await server.setFault("503")
        try await Task.sleep(for: .seconds(6))
        try await server.setFault("cut")
        try await Task.sleep(for: .seconds(6))
        try await server.setFault("hang")
        try await Task.sleep(for: .seconds(12))  // longer than the client's 10 s timeout
        try await server.setFault("none")
        let healedAt = Int64(Date().timeIntervalSince1970 * 1000)
        let errors = output.appendingPathExtension("stderr")
        try await waitUntil(within: .seconds(60), "no recovery line") {
            (try? String(contentsOf: errors, encoding: .utf8))?.contains("the database works again") == true
        }
        let after = "SELECT count(DISTINCT monitor_id) FROM checks WHERE started_at > \(healedAt)"
        try await waitUntil(within: .seconds(30)) { try await workspace.scalar(after) == 10 }
        kill(process.processIdentifier, SIGTERM)
        _ = await offPool { process.waitUntilExit() }
        #expect(process.terminationStatus == 0)
        let log = try String(contentsOf: errors, encoding: .utf8)
        let failing = log.components(separatedBy: "the database is failing").count - 1
        #expect(failing == 1 && log.contains("unavailable"), "said once, whichever way it failed:\n\(log)")
        #expect(log.components(separatedBy: "the database works again").count - 1 == 1, "\(log)")
        // Commits retried after a cut answer (they had been run) wrote nothing twice; each monitor's state is its newest
        // stored check; no lease is left (the claims whose answers were cut ended with their short leases).
        #expect(try await workspace.scalar("SELECT count(*) - count(DISTINCT monitor_id || ':' || scheduled_at) FROM checks") == 0)
        #expect(try await workspace.scalar("""
            SELECT count(*) FROM monitors m WHERE last_checked_at IS NOT (SELECT max(started_at) FROM checks c WHERE c.monitor_id = m.id)
            """) == 0)
        #expect(try await workspace.scalar("SELECT count(*) FROM monitors WHERE lease_until IS NOT NULL") == 0)
        try await tcp.stop()
    }

    @Test("the database file deleted under a running daemon: said once, nothing written into the void; a restored file is used from then on")
    func fileDeletedThenRestored() async throws {
        let workspace = try await Workspace.make()
        defer { workspace.remove() }
        let tcp = try await LoopbackServer.tcp()
        try await workspace.importMonitors(5) { _ in "type: port, target: \"\(tcp.target)\", interval: 1s" }
        let backup = workspace.directory.appendingPathComponent("backup.db").path
        _ = try await SQLiteDatabase(path: workspace.db, create: false).execute([SQLStatement("VACUUM INTO '\(backup)'")], transaction: false)
        let output = workspace.directory.appendingPathComponent("run.out")
        let process = try CLI.start(["run", "--db", workspace.db, "--quiet", "--allow-cidr", "127.0.0.1/32"], output: output)
        defer { if process.isRunning { kill(process.processIdentifier, SIGKILL) } }
        try await waitUntil(within: .seconds(30)) { try await workspace.scalar("SELECT count(*) FROM checks") ?? 0 >= 10 }
        for suffix in ["", "-wal", "-shm"] { try? FileManager.default.removeItem(atPath: workspace.db + suffix) }
        let errors = output.appendingPathExtension("stderr")
        try await waitUntil(within: .seconds(20), "the deletion was not reported") {
            (try? String(contentsOf: errors, encoding: .utf8))?.contains("was deleted under uptick") == true
        }
        #expect(!FileManager.default.fileExists(atPath: workspace.db), "the daemon did not re-create an empty file")
        // The operator restores the backup: the daemon opens it and commits there, the results that waited first.
        try FileManager.default.moveItem(atPath: backup, toPath: workspace.db)
        try await waitUntil(within: .seconds(30), "no recovery line") {
            (try? String(contentsOf: errors, encoding: .utf8))?.contains("the database works again") == true
        }
        try await waitUntil(within: .seconds(15)) { try await workspace.scalar("SELECT count(DISTINCT monitor_id) FROM checks") == 5 }
        kill(process.processIdentifier, SIGTERM)
        _ = await offPool { process.waitUntilExit() }
        #expect(process.terminationStatus == 0)
        let log = try String(contentsOf: errors, encoding: .utf8)
        #expect(log.components(separatedBy: "the database is failing").count - 1 == 1, "said once:\n\(log)")
        let integrity = try await SQLiteDatabase(path: workspace.db, create: false)
            .execute([SQLStatement("PRAGMA integrity_check")], transaction: false)[0].rows.first?.first?.text
        #expect(integrity == "ok")
        try await tcp.stop()
    }
}
