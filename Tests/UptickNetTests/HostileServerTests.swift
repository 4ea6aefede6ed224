import NIOCore
import Testing
import UptickCore
@testable import UptickNet
import UptickProbes
import UptickTargets
import UptickTestSupport

@Suite("Hostile HTTP servers end in time, with bounded reads")
struct HostileServerTests {
    /// A generous deadline by default: only the trickle case is about the deadline, and the whole suite
    /// runs in parallel on two cores.
    func exchange(_ server: LoopbackServer, timeoutMilliseconds: Int64 = 5000) async -> Result<HTTPExchange.Response, NetFailure> {
        let request = HTTPExchange.Request(host: "127.0.0.1", port: server.port, path: "/")
        do {
            return .success(try await HTTPExchange(network: .testLoopback).perform(request, deadline: .now() + .milliseconds(timeoutMilliseconds)))
        } catch {
            return .failure(error)
        }
    }

    @Test("a body trickled one byte a second times out at the deadline")
    func trickle() async throws {
        let server = try await LoopbackServer.hostile(.trickle)
        let started = ContinuousClock.now
        let result = await exchange(server, timeoutMilliseconds: 600)
        #expect(ContinuousClock.now - started < .milliseconds(600) + .seconds(5))
        guard case .failure(let failure) = result else { Issue.record("expected a timeout"); return }
        #expect(failure.failure.errorClass == .timeout)
        #expect(failure.timings.connectMicroseconds != nil)
        try await server.stop()
    }

    @Test("an endless body is read to 10 KB, then the connection is closed")
    func endless() async throws {
        let server = try await LoopbackServer.hostile(.endless)
        let response = try await exchange(server).get()
        #expect(response.status == 200 && response.body.count == Limits.maxBodyBytes)
        try await server.stop()
    }

    @Test("1 MB of response headers is refused as a protocol error")
    func hugeHeaders() async throws {
        let server = try await LoopbackServer.hostile(.hugeHeaders)
        guard case .failure(let failure) = await exchange(server) else { Issue.record("accepted huge headers"); return }
        #expect(failure.failure.errorClass == .protocol)
        #expect(failure.failure.message.contains("headers larger than 16 KB"))
        try await server.stop()
    }

    @Test("a gzip bomb is never inflated: at most 10 KB of compressed bytes are read")
    func gzipBomb() async throws {
        let server = try await LoopbackServer.hostile(.gzipBomb)
        let response = try await exchange(server).get()
        #expect(response.body.count == Limits.maxBodyBytes)
        #expect(response.body.prefix(2) == [0x1F, 0x8B])  // still gzip: nothing decompressed it
        try await server.stop()
    }

    @Test("the probe's verdicts on hostile servers", arguments: [
        (Misbehaviour.trickle, ErrorClass.timeout), (.hugeHeaders, .protocol), (.garbage, .protocol), (.reset, .reset), (.silent, .timeout),
    ])
    func verdicts(misbehaviour: Misbehaviour, expected: ErrorClass) async throws {
        let server = try await LoopbackServer.hostile(misbehaviour)
        // Timeout cases get a short deadline; the others the longest (10 s), which they must not need: at the full suite's
        // start, with some 60 suites beginning at once on two cores, a reset was once seen only after a 5 s deadline.
        let timeout: Int64 = expected == .timeout ? 500 : Limits.maxTimeoutMilliseconds
        let spec = try CheckSpec(monitor: Monitor(id: 1, name: "h", type: "http", target: server.url(), intervalSeconds: 30, timeoutMilliseconds: timeout))
        let result = await StandardProbe(network: .testLoopback).check(spec)
        #expect(result.errorClass == expected, "\(result)")
        // Ends at the deadline instead of hanging; the slack absorbs a loaded two-core machine.
        #expect(result.durationMicroseconds < timeout * 1000 + 10_000_000)
        try await server.stop()
    }

    @Test("the endless body and the bomb are judged on what was read: up, and a keyword beyond 10 KB is not found")
    func boundedVerdicts() async throws {
        for misbehaviour in [Misbehaviour.endless, .gzipBomb] {
            let server = try await LoopbackServer.hostile(misbehaviour)
            let plain = try CheckSpec(monitor: Monitor(id: 1, name: "h", type: "http", target: server.url(), intervalSeconds: 30, timeoutMilliseconds: 5000))
            #expect(await StandardProbe(network: .testLoopback).check(plain).status == .up)
            let keyword = try CheckSpec(monitor: Monitor(id: 1, name: "h", type: "http", target: server.url(), intervalSeconds: 30,
                                                         timeoutMilliseconds: 5000, settings: #"{"keyword":"needle"}"#))
            #expect(await StandardProbe(network: .testLoopback).check(keyword).errorClass == .keyword)
            try await server.stop()
        }
    }
}
