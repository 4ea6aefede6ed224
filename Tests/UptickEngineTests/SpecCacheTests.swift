import Testing
import UptickCore
@testable import UptickEngine

@Suite("The engine's cache of decoded checks")
struct SpecCacheTests {
    func monitor(id: Int64, target: String = "127.0.0.1:80", settings: String = "{}") -> Monitor {
        Monitor(id: id, name: "m", type: "port", target: target, intervalSeconds: 30, timeoutMilliseconds: 1000, settings: settings)
    }

    @Test("monitors with the same content share a decoded check, each with its own id")
    func sharedContent() throws {
        let cache = SpecCache()
        let first = try cache.spec(for: monitor(id: 1)).get()
        let second = try cache.spec(for: monitor(id: 2)).get()
        #expect(first.monitorID == 1 && second.monitorID == 2)
        #expect(first.kind == second.kind)
    }

    @Test("a changed row is decoded afresh, and a row that cannot be decoded stays a failure")
    func changes() throws {
        let cache = SpecCache()
        #expect(try cache.spec(for: monitor(id: 1, target: "127.0.0.1:80")).get().kind == .port(Endpoint(host: "127.0.0.1", port: 80), tls: nil))
        #expect(try cache.spec(for: monitor(id: 1, target: "127.0.0.1:81")).get().kind == .port(Endpoint(host: "127.0.0.1", port: 81), tls: nil))
        for _ in 0..<2 {
            guard case .failure(let failure) = cache.spec(for: monitor(id: 3, settings: "{oops")) else { Issue.record("decoded bad JSON"); return }
            #expect(failure.errorClass == .invalidMonitor)
        }
    }
}
