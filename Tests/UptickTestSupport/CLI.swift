package import Foundation

/// Runs the `uptick` binary built beside the tests, as a user would.
package enum CLI {
    /// What a finished command printed and returned.
    package struct Result: Sendable {
        package var status: Int32
        package var stdout: String
        package var stderr: String
    }

    /// The built `uptick` executable: next to the test bundle, or `UPTICK_BINARY`.
    package static var binary: URL {
        if let path = ProcessInfo.processInfo.environment["UPTICK_BINARY"] { return URL(fileURLWithPath: path) }
        return URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent().appendingPathComponent("uptick")
    }

    /// Runs `uptick arguments…` to completion. The wait happens on a Dispatch thread: blocking one of Swift's
    /// cooperative threads (two on this machine) for a whole command would starve every other test's tasks. A command
    /// still running after `limit` seconds is killed (SIGKILL) and its standard error says so: a command that hangs
    /// fails its test instead of holding the whole run, which no time limit could end (the wait cannot be cancelled).
    package static func run(_ arguments: [String], in directory: URL? = nil, environment: [String: String] = [:],
                            limit: TimeInterval = 120) async throws -> Result {
        try await withCheckedThrowingContinuation { continuation in
            DispatchQueue.global().async {
                continuation.resume(with: Swift.Result { try runBlocking(arguments, in: directory, environment: environment, limit: limit) })
            }
        }
    }

    private static func runBlocking(_ arguments: [String], in directory: URL?, environment: [String: String], limit: TimeInterval) throws -> Result {
        let process = try start(arguments, in: directory, environment: environment)
        let watchdog = DispatchWorkItem { if process.isRunning { kill(process.processIdentifier, SIGKILL) } }
        DispatchQueue.global().asyncAfter(deadline: .now() + limit, execute: watchdog)
        defer { watchdog.cancel() }
        // Read both pipes to the end before waiting, so a chatty command cannot block on a full pipe.
        let group = DispatchGroup()
        nonisolated(unsafe) var errData = Data()
        DispatchQueue.global().async(group: group) { errData = process.errors.readDataToEndOfFile() }
        let outData = process.output.readDataToEndOfFile()
        group.wait()
        process.waitUntilExit()
        var stderr = String(decoding: errData, as: UTF8.self)
        // Nothing but the watchdog sends SIGKILL to a command (uptick never does).
        if process.terminationReason == .uncaughtSignal, process.terminationStatus == SIGKILL {
            stderr += "\n[killed by the test: still running after \(Int(limit)) s]"
        }
        return Result(status: process.terminationStatus, stdout: String(decoding: outData, as: UTF8.self), stderr: stderr)
    }

    /// Starts `uptick arguments…` with piped output (or standard output into the file `output`, standard error into
    /// `output.stderr`: a long run's output cannot fill a pipe nobody reads) and returns the running process.
    package static func start(_ arguments: [String], in directory: URL? = nil, environment extra: [String: String] = [:],
                              output: URL? = nil) throws -> Process {
        let process = Process()
        process.executableURL = binary
        process.arguments = arguments
        if let directory { process.currentDirectoryURL = directory }
        var environment = ProcessInfo.processInfo.environment
        environment.removeValue(forKey: "UPTICK_DB")
        environment.merge(extra) { _, new in new }
        process.environment = environment
        if let output {
            let errors = output.appendingPathExtension("stderr")
            for file in [output, errors] where !FileManager.default.createFile(atPath: file.path, contents: nil) {
                throw CocoaError(.fileWriteUnknown, userInfo: [NSFilePathErrorKey: file.path])
            }
            process.standardOutput = try FileHandle(forWritingTo: output)
            process.standardError = try FileHandle(forWritingTo: errors)
        } else {
            process.standardOutput = Pipe()
            process.standardError = Pipe()
        }
        process.standardInput = FileHandle.nullDevice
        try process.run()
        DispatchQueue.global().asyncAfter(deadline: .now() + lifeLimit) {
            if process.isRunning { kill(process.processIdentifier, SIGKILL) }
        }
        return process
    }

    /// The longest a process started by ``start(_:in:environment:output:)`` may live: then the test kills it (SIGKILL),
    /// so a daemon that does not act on its signal fails its test (its exit is not the one expected) instead of holding
    /// the whole run in a wait that nothing can cancel. Far longer than any test keeps a daemon (at most about 100 s).
    package static let lifeLimit: TimeInterval = 300
}

extension Process {
    /// The read end of the standard output pipe of a process ``CLI/start(_:in:environment:)`` started.
    package var output: FileHandle { (standardOutput as? Pipe)?.fileHandleForReading ?? .nullDevice }
    /// The read end of its standard error pipe.
    package var errors: FileHandle { (standardError as? Pipe)?.fileHandleForReading ?? .nullDevice }
}

/// Runs `body`, which blocks (reads a pipe to its end, waits for a process), on a Dispatch thread, so no
/// thread of Swift's cooperative pool is held meanwhile.
package func offPool<T: Sendable>(_ body: @escaping @Sendable () -> T) async -> T {
    await withCheckedContinuation { continuation in
        DispatchQueue.global().async { continuation.resume(returning: body()) }
    }
}
