import NIOCore
import ArgumentParser
import Foundation
import UptickApp
import UptickTargets

/// A target server in its own process, so its CPU is not counted against the scenario measured.
struct ServeCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "serve", abstract: "Serve a loopback target until stdin closes; prints its port.")

    @Option(help: "http, tcp or dns.") var kind = "http"
    @Option(help: "dns: the port (53 for getaddrinfo, which cannot ask another).") var port = 0
    @Option(help: "dns: milliseconds before each answer.") var delayMs: Int64 = 0
    @Option(help: "dns: the TTL of each answer.") var ttl: UInt32 = 0

    func run() async throws {
        ResourceLimits.raiseOpenFiles()
        if kind == "dns" {
            let server = try await DNSTarget.start(port: port, delay: .milliseconds(delayMs), ttl: ttl)
            FileHandle.standardOutput.write(Data("\(server.port)\n".utf8))
            await Self.untilStdinCloses()
            // The queries it answered, for the parent.
            FileHandle.standardOutput.write(Data("\(server.queries)\n".utf8))
            try await server.stop()
            return
        }
        let server = kind == "tcp" ? try await LoopbackServer.tcp() : try await LoopbackServer.http()
        FileHandle.standardOutput.write(Data("\(server.port)\n".utf8))
        await Self.untilStdinCloses()
        try await server.stop()
    }

    static func untilStdinCloses() async {
        // Serve until the parent closes our stdin (or dies).
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            DispatchQueue.global().async {
                _ = FileHandle.standardInput.readDataToEndOfFile()
                continuation.resume()
            }
        }
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

    /// Closes the child's input and returns the line it prints before it exits.
    func stopReadingLastLine() -> String {
        try? stdin.fileHandleForWriting.close()
        let line = firstLine()
        process.waitUntilExit()
        return line
    }
}
