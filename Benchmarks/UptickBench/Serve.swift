import ArgumentParser
import Foundation
import UptickApp
import UptickTargets

/// A target server in its own process, so its CPU is not counted against the scenario measured.
struct ServeCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "serve", abstract: "Serve a loopback target until stdin closes; prints its port.")

    @Option(help: "http or tcp.") var kind = "http"

    func run() async throws {
        ResourceLimits.raiseOpenFiles()
        let server = kind == "tcp" ? try await LoopbackServer.tcp() : try await LoopbackServer.http()
        FileHandle.standardOutput.write(Data("\(server.port)\n".utf8))
        // Serve until the parent closes our stdin (or dies).
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            DispatchQueue.global().async {
                _ = FileHandle.standardInput.readDataToEndOfFile()
                continuation.resume()
            }
        }
        try await server.stop()
    }
}

/// A child process running this same executable.
struct Child {
    let process: Process
    let stdin = Pipe()
    let stdout = Pipe()

    init(_ arguments: [String]) throws {
        process = Process()
        process.executableURL = URL(fileURLWithPath: CommandLine.arguments[0])
        process.arguments = arguments
        process.standardInput = stdin
        process.standardOutput = stdout
        try process.run()
    }

    /// The first line the child prints.
    func firstLine() -> String {
        var bytes: [UInt8] = []
        while true {
            let byte = stdout.fileHandleForReading.readData(ofLength: 1)
            guard let first = byte.first, first != UInt8(ascii: "\n") else { break }
            bytes.append(first)
        }
        return String(decoding: bytes, as: UTF8.self)
    }

    /// Everything the child prints until it exits.
    func output() -> Data {
        let data = stdout.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return data
    }

    func stop() {
        try? stdin.fileHandleForWriting.close()
        process.waitUntilExit()
    }
}
