import Foundation
import NIOCore
import Testing
import UptickAWS
import UptickTargets
import UptickTestSupport

/// The real binary as a Lambda `bootstrap`, driven through the Runtime API served on loopback. The handler's own
/// decisions (pacing, deadlines, error types) are unit-tested in UptickAppTests.
@Suite("AWS Lambda bootstrap", .timeLimit(.minutes(1)))
struct LambdaTests {
    /// A workspace with one port monitor on a closed local port, due a second ago (so its slot is that
    /// time, and stays the slot of any claim in the next five minutes), and the function's environment.
    func setUp() async throws -> (Workspace, LambdaRuntimeServer, [String: String]) {
        let workspace = try await Workspace.make()
        #expect(try await workspace.run("monitor", "add", "--type", "port", "--target", "127.0.0.1:1", "--interval", "5m", "--timeout", "1s").status == 0)
        try await workspace.sql("UPDATE monitors SET next_check_at = \(now() - 1000)")
        let runtime = try await LambdaRuntimeServer.start()
        let environment = ["AWS_LAMBDA_RUNTIME_API": runtime.api, "UPTICK_DB": workspace.db, "UPTICK_ALLOW_CIDR": "127.0.0.1/32"]
        return (workspace, runtime, environment)
    }

    func now() -> Int64 { Int64(Date().timeIntervalSince1970 * 1000) }

    /// Starts the binary under the name Lambda runs it by.
    func bootstrap(in workspace: Workspace, environment: [String: String]) throws -> Process {
        let link = workspace.directory.appendingPathComponent("bootstrap")
        try? FileManager.default.removeItem(at: link)
        try FileManager.default.createSymbolicLink(at: link, withDestinationURL: CLI.binary)
        let process = Process()
        process.executableURL = link
        var merged = ProcessInfo.processInfo.environment
        merged.removeValue(forKey: "UPTICK_DB")
        merged.merge(environment) { _, new in new }
        process.environment = merged
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        try process.run()
        return process
    }

    @Test("both schedule event shapes run a tick; an unknown event is an invocation error; the process serves on")
    func invocations() async throws {
        let (workspace, runtime, environment) = try await setUp()
        defer { workspace.remove() }
        let process = try bootstrap(in: workspace, environment: environment)
        defer { process.terminate() }

        let rule = #"{"version":"0","id":"e1","detail-type":"Scheduled Event","source":"aws.events","account":"0","time":"2026-11-30T00:00:00Z","region":"eu-west-1","resources":[],"detail":{}}"#
        guard case .response(let first) = await runtime.outcome(of: runtime.invoke(rule, timeout: 60_000)) else {
            Issue.record("the scheduled event failed")
            return
        }
        let answer = try #require(try JSONSerialization.jsonObject(with: Data(first.utf8)) as? [String: Any])
        let tick = try #require((answer["ticks"] as? [[String: Any]])?.first)
        #expect(tick["claimed"] as? Int == 1 && tick["down"] as? Int == 1, "\(first)")

        guard case .error(let type, let body) = await runtime.outcome(of: runtime.invoke(#"{"hello":"world"}"#, timeout: 60_000)) else {
            Issue.record("an unknown event was accepted")
            return
        }
        #expect(type == "UnrecognizedEvent" && body.contains("unrecognized event (field 'hello')"))

        // EventBridge Scheduler's input: still served by the same process. Due again in the same slot.
        try await workspace.sql("UPDATE monitors SET next_check_at = (SELECT scheduled_at FROM checks)")
        guard case .response(let third) = await runtime.outcome(of: runtime.invoke(#"{"uptick":{"ticks":1}}"#, timeout: 60_000)) else {
            Issue.record("the scheduler event failed")
            return
        }
        #expect(third.contains(#""claimed" : 1"#), "\(third)")
        // Its result is the same row: one result per slot.
        #expect(try await workspace.scalar("SELECT count(*) FROM checks") == 1)
        try await runtime.stop()
    }

    @Test("bad configuration is an init error, and the process exits")
    func initError() async throws {
        let (workspace, runtime, environment) = try await setUp()
        defer { workspace.remove() }
        var broken = environment
        broken["UPTICK_DB"] = workspace.directory.appendingPathComponent("missing.db").path
        let process = try bootstrap(in: workspace, environment: broken)
        let body = await runtime.initError()
        #expect(body.contains(#""errorType":"InvalidConfiguration""#) && body.contains("missing.db"), "\(body)")
        process.waitUntilExit()
        #expect(process.terminationStatus == 1)
        try await runtime.stop()
    }

    @Test("the dispatch role sends due slots to the queue; the work role runs an SQS event and reports the records to retry")
    func queueRoles() async throws {
        let workspace = try await Workspace.make()
        defer { workspace.remove() }
        let moto = try await Moto.start()
        defer { moto.stop() }
        let queue = try await moto.queue("checks")
        let slow = try await Receiver.start()
        slow.delay(.seconds(3))
        let fast = try await LoopbackServer.tcp()
        _ = try await workspace.run("monitor", "add", "--type", "http", "--target", slow.url("/slow"), "--interval", "5m", "--name", "slow")
        _ = try await workspace.run("monitor", "add", "--type", "port", "--target", fast.target, "--interval", "5m", "--name", "fast")
        try await workspace.sql("UPDATE monitors SET next_check_at = \(now() - 1000)")
        var environment = Moto.environment.merging(["UPTICK_DB": workspace.db, "UPTICK_ALLOW_CIDR": "127.0.0.1/32", "UPTICK_BATCH": "1",
                                                    "UPTICK_QUEUE_URL": queue.queueURL, "UPTICK_SQS_ENDPOINT": moto.endpoint]) { _, new in new }

        // Dispatch: one message per slot (UPTICK_BATCH=1 claims one at a time), on the schedule's event.
        let dispatchRuntime = try await LambdaRuntimeServer.start()
        environment["AWS_LAMBDA_RUNTIME_API"] = dispatchRuntime.api
        environment["UPTICK_ROLE"] = "dispatch"
        let dispatcher = try bootstrap(in: workspace, environment: environment)
        defer { dispatcher.terminate() }
        guard case .response(let dispatched) = await dispatchRuntime.outcome(of: dispatchRuntime.invoke("{}", timeout: 60_000)) else {
            Issue.record("the dispatch invocation failed")
            return
        }
        #expect(dispatched.contains(#""sent" : 2"#) && dispatched.contains(#""messages" : 2"#), "\(dispatched)")
        var records: [String] = []
        var ids: [String: String] = [:]  // monitor name → message id
        while records.count < 2 {
            let messages = try await queue.receiveMessages(max: 10, wait: .seconds(1), visibility: .seconds(60))
            try #require(!messages.isEmpty)
            for message in messages {
                let body = String(decoding: try JSONSerialization.data(withJSONObject: message.body, options: .fragmentsAllowed), as: UTF8.self)
                records.append(#"{"messageId":"\#(message.id)","receiptHandle":"\#(message.receiptHandle)","body":\#(body),"attributes":{"ApproximateReceiveCount":"1"},"eventSource":"aws:sqs","awsRegion":"us-east-1"}"#)
                ids[message.body.contains("/slow") ? "slow" : "fast"] = message.id
            }
        }
        records.sort { $0.contains("/slow") && !$1.contains("/slow") }  // the slow slot first
        records.append(#"{"messageId":"junk-1","receiptHandle":"r","body":"not a slot message","eventSource":"aws:sqs"}"#)

        // Work, one check at a time, with a deadline that leaves room to claim only the first (slow) slot: the fast one
        // is not run and is reported for retry; the junk record is dropped, not retried.
        let workRuntime = try await LambdaRuntimeServer.start()
        environment["AWS_LAMBDA_RUNTIME_API"] = workRuntime.api
        environment["UPTICK_ROLE"] = "work"
        environment["UPTICK_CONCURRENCY"] = "1"
        let worker = try bootstrap(in: workspace, environment: environment)
        defer { worker.terminate() }
        let event = #"{"Records":[\#(records.joined(separator: ","))]}"#
        let reserve: Int64 = 13_000  // the function's: the longest check and a commit
        // 2 s beyond the reserve, counted from the moment the function takes the invocation (as Lambda counts): room to
        // claim the first slot on a loaded machine, and less than the slow check's 3 s, after which too little is left to
        // claim the second. (Counted from the test's queuing instead, a 1.2 s margin failed under the full suite: the
        // process's start-up ate it.)
        guard case .response(let answer) = await workRuntime.outcome(of: workRuntime.invoke(event, timeout: reserve + 2_000)) else {
            Issue.record("the work invocation failed")
            return
        }
        let object = try #require(try JSONSerialization.jsonObject(with: Data(answer.utf8)) as? [String: Any])
        let failures = try #require(object["batchItemFailures"] as? [[String: String]], "\(answer)")
        #expect(failures.map { $0["itemIdentifier"] } == [ids["fast"]], "\(answer)")
        #expect(try await workspace.scalar("SELECT count(*) FROM checks c JOIN monitors m ON m.id = c.monitor_id WHERE m.name = 'slow'") == 1)
        #expect(try await workspace.scalar("SELECT count(*) FROM checks c JOIN monitors m ON m.id = c.monitor_id WHERE m.name = 'fast'") == 0)

        // Retried (as Lambda does with the failures), alone, with time: committed, no failures.
        let retry = #"{"Records":[\#(records[1])]}"#
        guard case .response(let second) = await workRuntime.outcome(of: workRuntime.invoke(retry, timeout: 60_000)) else {
            Issue.record("the retry failed")
            return
        }
        #expect(second == #"{"batchItemFailures":[]}"#)
        #expect(try await workspace.scalar("SELECT count(*) FROM checks") == 2)
        try await dispatchRuntime.stop()
        try await workRuntime.stop()
        try await slow.stop()
        try await fast.stop()
    }
}
