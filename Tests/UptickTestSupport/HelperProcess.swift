import Dispatch
import Foundation
import Synchronization

/// A Python helper from `Tests/Helpers`, run by the `python3` on PATH: a real server (SMTP, libSQL) on
/// 127.0.0.1. It prints `PORT n` once listening, then one line per thing it reports, and stops when its
/// standard input closes (so it never outlives the test process).
package final class HelperProcess: Sendable {
    package let port: Int
    private let output: FileHandle
    private let process: Process
    private let input: Pipe

    private init(port: Int, output: FileHandle, process: Process, input: Pipe) {
        self.port = port
        self.output = output
        self.process = process
        self.input = input
    }

    /// How long a helper may take to start listening.
    static let startLimit: TimeInterval = 30

    /// Starts `Tests/Helpers/<script>` with `arguments`, and waits until it listens. The Python `modules` it
    /// imports are checked first (once per test process): a missing one fails this test, and only the tests
    /// that need it, with how to install it; nothing is installed from here. The wait (blocking reads while
    /// Python starts) happens on a Dispatch thread, never on Swift's cooperative pool: two threads on this
    /// machine, which a few helpers starting at once would hold for seconds, and every other test's probes
    /// with them. A helper that does not listen within ``startLimit`` is killed and the test fails.
    package static func start(_ script: String, _ arguments: [String], requires modules: [String] = [],
                             environment extra: [String: String] = [:]) async throws -> HelperProcess {
        for module in modules {
            if let problem = await PythonModules.shared.problem(importing: module) {
                throw HelperError(description: "\(script) needs the Python module '\(module)': \(problem). "
                                               + "Install it with `python3 -m pip install \(module)` (.ci/run does)")
            }
        }
        return try await withCheckedThrowingContinuation { continuation in
            DispatchQueue.global().async {
                continuation.resume(with: Result { try startBlocking(script, arguments, environment: extra) })
            }
        }
    }

    private static func startBlocking(_ script: String, _ arguments: [String], environment extra: [String: String]) throws -> HelperProcess {
        let path = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("Helpers").appendingPathComponent(script).path
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["python3", path] + arguments
        if !extra.isEmpty {
            process.environment = ProcessInfo.processInfo.environment.merging(extra) { _, new in new }
        }
        let output = Pipe(), input = Pipe()
        process.standardOutput = output
        process.standardInput = input
        try process.run()
        // A helper that hangs before listening is killed, which ends the read below.
        let watchdog = DispatchWorkItem { if process.isRunning { process.terminate() } }
        DispatchQueue.global().asyncAfter(deadline: .now() + startLimit, execute: watchdog)
        defer { watchdog.cancel() }
        // Byte by byte, so nothing after the PORT line is consumed here.
        var line = [UInt8]()
        let handle = output.fileHandleForReading
        while let byte = try handle.read(upToCount: 1)?.first, byte != UInt8(ascii: "\n") { line.append(byte) }
        let text = String(decoding: line, as: UTF8.self)
        guard text.hasPrefix("PORT "), let port = Int(text.dropFirst(5)) else {
            process.terminate()
            throw HelperError(description: "\(script) did not start listening within \(Int(startLimit)) s (is python3 on PATH?): '\(text)'")
        }
        return HelperProcess(port: port, output: handle, process: process, input: input)
    }

    /// The helper's output lines after the `PORT` line, until it exits. Read by a thread of its own with
    /// blocking reads: a `readabilityHandler` (a libdispatch source on the pipe) crashed the test process
    /// now and then in libdispatch's event loop when the helper stopped. Call at most once.
    package func lines() -> AsyncStream<String> {
        let (lines, continuation) = AsyncStream<String>.makeStream()
        let thread = Thread { [self] in
            var buffer = [UInt8](), chunk = [UInt8](repeating: 0, count: 4096)
            // read(2) returns what is there; FileHandle.read(upToCount:) would wait for a full chunk.
            while true {
                let count = read(output.fileDescriptor, &chunk, chunk.count)
                if count < 0 && errno == EINTR { continue }
                guard count > 0 else { break }
                buffer += chunk[..<count]
                while let end = buffer.firstIndex(of: UInt8(ascii: "\n")) {
                    continuation.yield(String(decoding: buffer[..<end], as: UTF8.self))
                    buffer.removeSubrange(...end)
                }
            }
            continuation.finish()
        }
        thread.start()
        return lines
    }

    /// Writes `line` to the helper's input (a command, for helpers that take them).
    package func send(_ line: String) {
        try? input.fileHandleForWriting.write(contentsOf: Data((line + "\n").utf8))
    }

    /// Closes the helper's input, which makes it exit. It is reaped on a Dispatch thread: waiting here would
    /// block a thread of Swift's cooperative pool (two on this machine), and every other test's tasks with it.
    package func stop() {
        try? input.fileHandleForWriting.close()
        let process = process
        DispatchQueue.global().async { process.waitUntilExit() }
    }

    package struct HelperError: Error, CustomStringConvertible {
        package var description: String

        package init(description: String) {
            self.description = description
        }
    }
}

/// Which Python modules the `python3` on PATH can import, each asked once per test process (on a Dispatch
/// thread) and remembered, so fifty SMTP tests cost one check, and a missing module costs no waiting at all.
final class PythonModules: Sendable {
    static let shared = PythonModules()

    private let answers = Mutex<[String: Task<String?, Never>]>([:])

    /// `nil` when `module` imports; otherwise why not.
    func problem(importing module: String) async -> String? {
        let task = answers.withLock { answers in
            if let known = answers[module] { return known }
            let task = Task<String?, Never> {
                await withCheckedContinuation { continuation in
                    DispatchQueue.global().async { continuation.resume(returning: Self.check(module)) }
                }
            }
            answers[module] = task
            return task
        }
        return await task.value
    }

    private static func check(_ module: String) -> String? {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["python3", "-c", "import \(module)"]
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        do {
            try process.run()
        } catch {
            return "python3 cannot be started (\(error))"
        }
        process.waitUntilExit()
        return process.terminationStatus == 0 ? nil : "python3 cannot import it"
    }
}
