import Foundation
import Testing
import UptickTestSupport

@Suite("The command line on a libSQL database", .timeLimit(.minutes(1)))
struct LibSQLCLITests {
    @Test("migrate, add, tick and read back over Hrana; a tick's requests do not grow with its monitors")
    func wholeCycle() async throws {
        let workspace = try await Workspace.make(migrated: false)
        defer { workspace.remove() }
        let server = try await LibSQLServer.start(path: workspace.db, token: "t0ken")
        defer { server.stop() }
        let db = ["--db", server.url, "--db-token", "t0ken"]
        #expect(try await CLI.run(["migrate"] + db).status == 0)
        let wrong = try await CLI.run(["monitor", "list", "--db", server.url, "--db-token", "nope"])
        #expect(wrong.status == 1 && wrong.stderr.contains("refused the token"), "\(wrong.stderr)")

        var requestsPerTick: [Int] = []
        for count in [1, 300] {
            let file = try workspace.write("m\(count).yaml", "monitors:\n" + (0..<count).map {
                "  - {key: m\(count)-\($0), type: port, target: \"127.0.0.1:1\", interval: 1h, timeout: 1s}\n"
            }.joined())
            #expect(try await CLI.run(["import", file] + db).status == 0)
            try await workspace.sql("UPDATE monitors SET next_check_at = 0")
            let before = try await server.stats().pipelines
            let tick = try await CLI.run(["tick", "--json", "--allow-cidr", "127.0.0.1/32"] + db)
            #expect(tick.status == 0, "\(tick.stderr)")
            let summary = try JSONSerialization.jsonObject(with: Data(tick.stdout.utf8)) as? [String: Any]
            #expect(summary?["claimed"] as? Int == (count == 1 ? 1 : 301) && summary?["down"] as? Int == summary?["claimed"] as? Int)
            requestsPerTick.append(try await server.stats().pipelines - before)
        }
        // Opening (schema check: 2), one claim, one commit of every result, one outbox claim.
        #expect(requestsPerTick == [5, 5], "requests per tick: \(requestsPerTick)")
        // The first monitor was made due for the same slot twice: its second result is the same row.
        #expect(try await workspace.scalar("SELECT count(*) FROM checks") == 301)
        let history = try await CLI.run(["history", "1", "--json"] + db)
        #expect(history.status == 0 && history.stdout.contains("refused"))
    }
}
