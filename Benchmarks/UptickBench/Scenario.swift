import ArgumentParser
import Foundation
import Logging
import NIOCore
import NIOPosix
import UptickApp
import UptickCore
import UptickEngine
import UptickNet
import UptickProbes
import UptickStore

/// One measurement, meant to run in its own process (`compare` starts it); prints a `Measurement` as JSON.
struct ScenarioCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "scenario", abstract: "Run one measured scenario (used by compare).")

    enum Name: String, ExpressibleByArgument, CaseIterable {
        /// A minimal NIO client: GETs with a fresh connection each, no scheduling, guard or persistence.
        case ceiling
        /// uptick's whole path: claim, guarded probe, batched commit.
        case uptick
        /// The original design done literally: a task per monitor with no bound, an INSERT and an UPDATE per result.
        case naive
    }

    @Argument var name: Name
    @Option(help: "http, port or ping.") var type = "http"
    @Option(help: "The target: a URL for http, host:port for port.") var target: String
    @Option var monitors = 10_000
    @Option var concurrency = 500

    func run() async throws {
        ResourceLimits.raiseOpenFiles()
        let scratch = try Scratch()
        defer { scratch.remove() }
        if name != .ceiling {
            try await seed(scratch, count: monitors, dueAt: SystemClock().now(), type: type, target: target)
        }
        // Only the checks are measured: setting up the database is not part of any design's cost.
        let before = Measurement.usage()
        let start = ContinuousClock.now
        var measurement: Measurement
        switch name {
        case .ceiling:
            let failures = try await Ceiling.run(url: target, count: monitors, concurrency: concurrency)
            measurement = Measurement(scenario: "ceiling", checks: monitors, failures: failures, seconds: 0, cpuMicroseconds: 0, peakRSSKilobytes: 0)
        case .uptick:
            measurement = await Self.uptick(scratch, concurrency: concurrency)
        case .naive:
            measurement = try await Self.naive(scratch, monitors: monitors)
        }
        measurement.seconds = seconds(ContinuousClock.now - start)
        let after = Measurement.usage()
        measurement.cpuMicroseconds = after.cpuMicroseconds - before.cpuMicroseconds
        measurement.peakRSSKilobytes = after.peakRSSKilobytes
        print(String(decoding: try JSONEncoder().encode(measurement), as: UTF8.self))
    }

    static func uptick(_ scratch: Scratch, concurrency: Int) async -> Measurement {
        let engine = scratch.assembly(concurrency: concurrency).engine(for: .tick)
        let report = await engine.tick()
        var measurement = Measurement(scenario: "uptick", checks: report.persisted, failures: report.down + report.unpersisted.count,
                                      seconds: 0, cpuMicroseconds: 0, peakRSSKilobytes: 0)
        measurement.latenessP50Milliseconds = report.lateness.percentile(0.5)
        measurement.latenessP99Milliseconds = report.lateness.percentile(0.99)
        measurement.latenessMaxMilliseconds = report.lateness.max
        measurement.databaseRowsPerSecond = Double(report.persisted) / max(seconds(report.commitTime), 1e-9)
        return measurement
    }

    /// The original design, literally: load the due monitors, start one task per monitor with no bound,
    /// then write each result with its own INSERT and its own UPDATE (no transaction around them).
    static func naive(_ scratch: Scratch, monitors: Int) async throws -> Measurement {
        let now = SystemClock().now()
        let due = try await scratch.store.claimDue(now: now, limit: monitors, leaseGrace: .seconds(60)).monitors
        let probe = StandardProbe(network: Network(policy: AddressPolicy(allow: [AddressPolicy.Rule(CIDR("127.0.0.1/32")!)])))
        let results = await withTaskGroup(of: (Int64, CheckResult).self) { group in
            for claimed in due {
                group.addTask { (claimed.monitor.id, await CheckRunner(probe: probe).check(claimed.monitor)) }
            }
            return await group.reduce(into: []) { $0.append($1) }
        }
        let database = scratch.database
        let writeStart = ContinuousClock.now
        for (id, result) in results {
            _ = try await database.execute([SQLStatement(
                "INSERT INTO checks (monitor_id, scheduled_at, started_at, duration_us, status, error_class, message, http_status, runner) VALUES (?, ?, ?, ?, ?, ?, ?, ?, 'naive')",
                [.integer(id), .integer(now), .integer(now), .integer(result.durationMicroseconds), .text(result.status.rawValue),
                 SQLValue(result.errorClass?.rawValue), SQLValue(result.message), SQLValue(result.httpStatus.map(Int64.init))]
            )], transaction: false)
            _ = try await database.execute([SQLStatement(
                "UPDATE monitors SET status = ?, last_checked_at = ?, lease_until = NULL WHERE id = ?",
                [.text(result.status.rawValue), .integer(now), .integer(id)]
            )], transaction: false)
        }
        var measurement = Measurement(scenario: "naive", checks: results.count, failures: results.filter { $0.1.status == .down }.count,
                                      seconds: 0, cpuMicroseconds: 0, peakRSSKilobytes: 0)
        measurement.databaseRowsPerSecond = Double(results.count) / max(seconds(ContinuousClock.now - writeStart), 1e-9)
        return measurement
    }
}

/// The ceiling: as many GETs as possible with a fresh connection each, `concurrency` at a time, through a
/// minimal NIO client (no resolution, no guard, no timings, no parsing beyond "bytes came back").
enum Ceiling {
    static func run(url: String, count: Int, concurrency: Int) async throws -> Int {
        guard let components = URLComponents(string: url), let host = components.host, let port = components.port else {
            throw ValidationError("ceiling needs http://host:port/")
        }
        let address = try SocketAddress(ipAddress: host, port: port)
        let request = "GET / HTTP/1.1\r\nHost: \(host):\(port)\r\nConnection: close\r\n\r\n"
        return await withTaskGroup(of: Bool.self) { group in
            var started = 0
            var failures = 0
            func startOne() {
                started += 1
                group.addTask { await fetch(address, request) }
            }
            while started < min(concurrency, count) { startOne() }
            for await ok in group {
                if !ok { failures += 1 }
                if started < count { startOne() }
            }
            return failures
        }
    }

    static func fetch(_ address: SocketAddress, _ request: String) async -> Bool {
        let loop = MultiThreadedEventLoopGroup.singleton.next()
        let done = loop.makePromise(of: Bool.self)
        do {
            _ = try await ClientBootstrap(group: loop)
                .channelInitializer { channel in
                    channel.eventLoop.makeCompletedFuture { try channel.pipeline.syncOperations.addHandler(Get(request: request, done: done)) }
                }
                .connect(to: address).get()
        } catch {
            done.succeed(false)
        }
        return (try? await done.futureResult.get()) ?? false
    }

    final class Get: ChannelInboundHandler {
        typealias InboundIn = ByteBuffer
        let request: String
        let done: EventLoopPromise<Bool>
        var received = false

        init(request: String, done: EventLoopPromise<Bool>) {
            self.request = request
            self.done = done
        }

        func channelActive(context: ChannelHandlerContext) {
            context.writeAndFlush(NIOAny(context.channel.allocator.buffer(string: request)), promise: nil)
        }

        func channelRead(context: ChannelHandlerContext, data: NIOAny) { received = true }

        func channelInactive(context: ChannelHandlerContext) { done.succeed(received) }

        func errorCaught(context: ChannelHandlerContext, error: any Error) { context.close(promise: nil) }
    }
}
