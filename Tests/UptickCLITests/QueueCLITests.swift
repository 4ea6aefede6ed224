import Foundation
import Testing
import UptickApp
import UptickAWS
import UptickStore
import UptickTargets
import UptickTestSupport

/// `uptick dispatch` and `uptick work` as processes, on moto and one SQLite file.
@Suite("Dispatcher and worker processes", .serialized, .timeLimit(.minutes(2)))
struct QueueCLITests {
    struct Setup {
        let workspace: Workspace
        let moto: Moto
        let queue: SQSClient

        var environment: [String: String] { Moto.environment }

        func arguments(_ command: String, _ extra: String...) -> [String] {
            [command, "--db", workspace.db, "--queue", queue.queueURL, "--sqs-endpoint", moto.endpoint] + extra
        }

        func start(_ arguments: [String]) throws -> Process {
            try CLI.start(arguments, environment: environment)
        }

        func remove() {
            moto.stop()
            workspace.remove()
        }
    }

    func setUp(attributes: [String: String] = [:]) async throws -> Setup {
        let moto = try await Moto.start()
        return Setup(workspace: try await Workspace.make(), moto: moto, queue: try await moto.queue("checks", attributes: attributes))
    }

    func stop(_ process: Process, signal: Int32 = SIGTERM) async -> Int32 {
        kill(process.processIdentifier, signal)
        let running = process
        return await offPool {
            _ = running.errors.readDataToEndOfFile()
            _ = running.output.readDataToEndOfFile()
            running.waitUntilExit()
            return running.terminationStatus
        }
    }

    func depth(_ queue: SQSClient) async throws -> Int {
        let attributes = try await queue.queueAttributes(["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"])
        return (Int(attributes["ApproximateNumberOfMessages"] ?? "") ?? -1) + (Int(attributes["ApproximateNumberOfMessagesNotVisible"] ?? "") ?? -1)
    }

    @Test("without a queue or AWS credentials, dispatch and work say what is missing (exit 64); the queue down, --once exits 1")
    func configurationErrors() async throws {
        let setup = try await setUp()
        defer { setup.remove() }
        let noQueue = try await CLI.run(["dispatch", "--once", "--db", setup.workspace.db], environment: setup.environment)
        #expect(noQueue.status == 64 && noQueue.stderr.contains("no queue"), "\(noQueue.stderr)")
        let noCredentials = try await CLI.run(setup.arguments("work"), environment: ["AWS_ACCESS_KEY_ID": "", "AWS_SECRET_ACCESS_KEY": "", "AWS_REGION": "us-east-1"])
        #expect(noCredentials.status == 64 && noCredentials.stderr.contains("AWS_ACCESS_KEY_ID"), "\(noCredentials.stderr)")
        _ = try await setup.workspace.run("monitor", "add", "--type", "port", "--target", "127.0.0.1:9", "--interval", "5m")
        try await setup.workspace.sql("UPDATE monitors SET next_check_at = 0")
        setup.moto.stop()
        try await waitUntil { (try? await setup.queue.queueAttributes(["QueueArn"])) == nil }
        let down = try await CLI.run(setup.arguments("dispatch", "--once"), environment: setup.environment)
        #expect(down.status == 1 && down.stdout.contains("released 1"), "\(down.stdout)\(down.stderr)")
        // Released: unleased and due again at once (its slot, not the next one).
        let now = Int64(Date().timeIntervalSince1970 * 1000)
        #expect(try await setup.workspace.scalar("SELECT count(*) FROM monitors WHERE lease_until IS NULL AND next_check_at <= \(now)") == 1)
    }

    @Test("one dispatcher and three workers on one database check every due slot exactly once")
    func oneDispatcherThreeWorkers() async throws {
        let setup = try await setUp()
        defer { setup.remove() }
        let tcp = try await LoopbackServer.tcp()
        for index in 0..<20 {
            _ = try await setup.workspace.run("monitor", "add", "--type", "port", "--target", tcp.target, "--interval", "2s", "--name", "m\(index)")
        }
        let workers = try (0..<3).map { _ in try setup.start(setup.arguments("work", "--quiet", "--allow-cidr", "127.0.0.1/32", "--queue-wait", "1s")) }
        let dispatcher = try setup.start(setup.arguments("dispatch"))
        // Three slots of every monitor at least, and checked by two workers at least (which one receives a message is up to
        // the queue: on a loaded machine the first worker up can take the first dozen alone).
        try await waitUntil(within: .seconds(60), "the work was not shared") {
            let checks = try await setup.workspace.scalar("SELECT count(*) FROM checks") ?? 0
            let runners = try await setup.workspace.scalar("SELECT count(DISTINCT runner) FROM checks") ?? 0
            return checks >= 80 && runners >= 2
        }
        #expect(await stop(dispatcher) == 0)
        try await waitUntil { try await depth(setup.queue) == 0 }
        for worker in workers { #expect(await stop(worker) == 0) }

        // Per monitor: every slot from its first to its last checked, each once.
        let gaps = try await setup.workspace.scalar("""
            SELECT count(*) FROM (SELECT monitor_id, count(*) AS n, count(DISTINCT scheduled_at) AS d,
                                         (max(scheduled_at) - min(scheduled_at)) / 2000 + 1 AS span FROM checks GROUP BY monitor_id)
            WHERE n != d OR n != span
            """)
        #expect(gaps == 0)
        #expect(try await setup.workspace.scalar("SELECT count(DISTINCT monitor_id) FROM checks") == 20)
        #expect(try await setup.workspace.scalar("SELECT count(*) FROM checks WHERE status != 'up'") == 0)
        try await tcp.stop()
    }

    @Test("a dispatcher killed between claim and send: its monitors stay leased for timeout + 60 s + two intervals, then come back")
    func dispatcherKilled() async throws {
        let workspace = try await Workspace.make()
        defer { workspace.remove() }
        // An "SQS" that takes the request and never answers: the dispatcher has claimed and is sending.
        let stuck = try await Receiver.start()
        stuck.hold()
        for index in 0..<3 {
            _ = try await workspace.run("monitor", "add", "--type", "port", "--target", "127.0.0.1:9", "--interval", "30s", "--timeout", "5s",
                                        "--name", "m\(index)")
        }
        try await workspace.sql("UPDATE monitors SET next_check_at = 0")
        let before = Int64(Date().timeIntervalSince1970 * 1000)
        let dispatcher = try CLI.start(["dispatch", "--db", workspace.db, "--queue", stuck.url("/123456789012/q")], environment: Moto.environment)
        _ = await stuck.requests(count: 1)
        let after = Int64(Date().timeIntervalSince1970 * 1000)
        #expect(await stop(dispatcher, signal: SIGKILL) == SIGKILL)
        #expect(try await workspace.scalar("SELECT count(*) FROM monitors WHERE lease_until IS NULL") == 0)
        // Every lease is the claim time plus the timeout, the grace and two intervals: 5 s + 60 s + 60 s.
        let bound: Int64 = 5_000 + 60_000 + 2 * 30_000
        #expect(try await workspace.scalar("SELECT count(*) FROM monitors WHERE lease_until BETWEEN \(before + bound) AND \(after + bound)") == 3)
        // Not claimable before the lease ends; claimable from then on (the claim is the one every runner makes).
        let store = try await Database.open(workspace.db, token: nil)
        let leaseEnd = try #require(try await workspace.scalar("SELECT max(lease_until) FROM monitors"))
        #expect(try await store.claimDue(now: leaseEnd - 1, limit: 10, leaseGrace: .seconds(60)).monitors.isEmpty)
        #expect(try await store.claimDue(now: leaseEnd, limit: 10, leaseGrace: .seconds(60)).monitors.count == 3)
        stuck.release()
        try await stuck.stop()
    }

    @Test("a worker killed mid-batch: its messages come back after the visibility timeout and every slot gets one result")
    func workerKilled() async throws {
        let setup = try await setUp(attributes: ["VisibilityTimeout": "2"])
        defer { setup.remove() }
        let target = try await Receiver.start()
        target.hold()
        for index in 0..<10 {
            _ = try await setup.workspace.run("monitor", "add", "--type", "http", "--target", target.url("/\(index)"), "--interval", "5m")
        }
        try await setup.workspace.sql("UPDATE monitors SET next_check_at = 0")
        let dispatched = try await CLI.run(setup.arguments("dispatch", "--once"), environment: setup.environment)
        #expect(dispatched.status == 0 && dispatched.stdout.contains("sent 10 in 1 messages"), "\(dispatched.stdout)\(dispatched.stderr)")
        let first = try setup.start(setup.arguments("work", "--quiet", "--allow-cidr", "127.0.0.1/32", "--queue-visibility", "2s", "--queue-wait", "1s"))
        _ = await target.requests(count: 10)
        #expect(await stop(first, signal: SIGKILL) == SIGKILL)
        #expect(try await setup.workspace.scalar("SELECT count(*) FROM checks") == 0)
        target.release()
        let second = try setup.start(setup.arguments("work", "--quiet", "--allow-cidr", "127.0.0.1/32", "--queue-wait", "1s"))
        try await waitUntil { try await setup.workspace.scalar("SELECT count(*) FROM checks") ?? 0 >= 10 }
        try await waitUntil { try await depth(setup.queue) == 0 }
        #expect(await stop(second) == 0)
        #expect(try await setup.workspace.scalar("SELECT count(*) FROM checks") == 10)
        #expect(try await setup.workspace.scalar("SELECT count(DISTINCT monitor_id) FROM checks WHERE status = 'up'") == 10)
        #expect(try await setup.workspace.scalar("SELECT count(*) FROM monitors WHERE lease_until IS NOT NULL") == 0)
        try await target.stop()
    }

    @Test("a message whose workers keep dying goes to the dead-letter queue after maxReceiveCount, and stops coming back")
    func poisonMessage() async throws {
        let moto = try await Moto.start()
        let dead = try await moto.queue("checks-dlq")
        let arn = try #require(try await dead.queueAttributes(["QueueArn"])["QueueArn"])
        let redrive = #"{"deadLetterTargetArn":"\#(arn)","maxReceiveCount":"2"}"#
        let setup = Setup(workspace: try await Workspace.make(), moto: moto,
                          queue: try await moto.queue("checks", attributes: ["VisibilityTimeout": "1", "RedrivePolicy": redrive]))
        defer { setup.remove() }
        let target = try await Receiver.start()
        target.hold()
        _ = try await setup.workspace.run("monitor", "add", "--type", "http", "--target", target.url("/poison"), "--interval", "5m")
        try await setup.workspace.sql("UPDATE monitors SET next_check_at = 0")
        #expect(try await CLI.run(setup.arguments("dispatch", "--once"), environment: setup.environment).status == 0)
        let work = setup.arguments("work", "--quiet", "--allow-cidr", "127.0.0.1/32", "--queue-visibility", "1s", "--queue-wait", "1s")
        for attempt in 1...2 {
            let worker = try setup.start(work)
            _ = await target.requests(count: attempt)
            #expect(await stop(worker, signal: SIGKILL) == SIGKILL)
        }
        // A third worker: the message, received twice, is moved to the DLQ instead of to it.
        target.release()
        let third = try setup.start(work)
        try await waitUntil { try await dead.queueAttributes(["ApproximateNumberOfMessages"])["ApproximateNumberOfMessages"] == "1" }
        #expect(await stop(third) == 0)
        #expect(target.requests.count == 2, "the poison slot was not run a third time")
        #expect(try await depth(setup.queue) == 0)
        #expect(try await setup.workspace.scalar("SELECT count(*) FROM checks") == 0)
        try await target.stop()
    }
}
