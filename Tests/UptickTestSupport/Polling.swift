/// For tests that watch other processes (a database, a queue), where no signal is there to wait for: `condition`
/// polled every 100 ms until it holds. After `limit` it fails with `explanation` (evaluated only then).
package func waitUntil(within limit: Duration = .seconds(30), _ explanation: @autoclosure () -> String = "",
                       _ condition: () async throws -> Bool) async throws {
    let end = ContinuousClock.now + limit
    while try await !condition() {
        guard ContinuousClock.now < end else {
            let detail = explanation()
            throw HelperProcess.HelperError(description: "condition not met within \(limit)\(detail.isEmpty ? "" : "; " + detail)")
        }
        try await Task.sleep(for: .milliseconds(100))
    }
}
