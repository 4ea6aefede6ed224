package import UptickCore
package import UptickStore

extension CheckOutcome {
    /// An `up` outcome for `monitorID` at `slot`, for persistence tests.
    package static func sample(monitorID: Int64, slot: EpochMilliseconds, status: CheckStatus = .up, runner: String = "test") -> CheckOutcome {
        let result = CheckResult(status: status, errorClass: status == .up ? nil : .refused, message: "sample",
                                 timings: PhaseTimings(dnsMicroseconds: 10, connectMicroseconds: 20), durationMicroseconds: 30)
        let decision = MonitorState().applying(result, at: slot, policy: .immediate)
        return CheckOutcome(monitorID: monitorID, monitorName: "m\(monitorID)", scheduledAt: slot, startedAt: slot + 1,
                            result: result, runner: runner, state: decision.state, transition: decision.transition)
    }
}

extension AlertPolicy {
    /// The original design: every verdict is confirmed at once (1/1), no flapping detection.
    package static var immediate: AlertPolicy {
        var policy = AlertPolicy()
        policy.failureThreshold = 1
        policy.recoveryThreshold = 1
        policy.flapThreshold = 0
        return policy
    }
}

extension SQLExecutor {
    /// The single integer a query returns.
    package func scalar(_ sql: String, _ arguments: [SQLValue] = []) async throws -> Int64? {
        try await execute([SQLStatement(sql, arguments)], transaction: false)[0].rows.first?.first?.integer
    }

    /// Runs statements in one transaction.
    package func run(_ sql: String, _ arguments: [SQLValue] = []) async throws {
        _ = try await execute([SQLStatement(sql, arguments)], transaction: true)
    }
}

extension SQLStore {
    /// Adds `count` port monitors on `target` in one transaction, all due at `dueAt`; returns their ids.
    package func addDueMonitors(_ count: Int, target: String = "127.0.0.1:9", dueAt: EpochMilliseconds, interval: Int64 = 30) async throws -> [Int64] {
        let drafts = (0..<count).map { MonitorDraft.port(target, key: "due-\($0)", interval: interval) }
        _ = try await upsert(drafts, now: dueAt)
        let results = try await executor.execute([
            SQLStatement("UPDATE monitors SET next_check_at = ? WHERE key LIKE 'due-%'", [.integer(dueAt)]),
            SQLStatement("SELECT id FROM monitors WHERE key LIKE 'due-%' ORDER BY id"),
        ], transaction: true)
        return results[1].rows.compactMap { $0[0].integer }
    }
}
