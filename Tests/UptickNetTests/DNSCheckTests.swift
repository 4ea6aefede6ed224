import Testing
import UptickCore
import UptickEngine
import UptickNet
import UptickProbes
import UptickTestSupport

@Suite("DNS checks (answers from a table; nothing is sent)")
struct DNSCheckTests {
    let resolver = HermeticResolver([
        "example.test": ["93.184.216.34", "2606:2800:220:1:248:1893:25c8:1946"],
        "internal.test": ["10.0.0.5", "fd00::5"],
        "mixed.test": ["10.0.0.5", "8.8.8.8"],
    ])

    func check(_ host: String, settings: String = "{}") async throws -> CheckResult {
        let monitor = Monitor(id: 1, name: "d", type: "dns", target: host, intervalSeconds: 30, timeoutMilliseconds: 5000, settings: settings)
        return await StandardProbe(network: Network(policy: .publicOnly, resolver: resolver)).check(try CheckSpec(monitor: monitor))
    }

    @Test("a name with addresses is up, with its answers")
    func answers() async throws {
        let result = try await check("example.test")
        #expect(result.status == .up && result.details?.answers == ["93.184.216.34", "2606:2800:220:1:248:1893:25c8:1946"])
        #expect(try await check("example.test", settings: #"{"dns_record":"A"}"#).details?.answers == ["93.184.216.34"])
        #expect(try await check("example.test", settings: #"{"dns_record":"aaaa"}"#).details?.answers == ["2606:2800:220:1:248:1893:25c8:1946"])
    }

    @Test("expected answers must all be there, in any spelling of the address")
    func expectations() async throws {
        #expect(try await check("example.test", settings: #"{"dns_expect":["93.184.216.34","2606:2800:220:1:248:1893:25C8:1946"]}"#).status == .up)
        let mismatch = try await check("example.test", settings: #"{"dns_expect":["93.184.216.35"]}"#)
        #expect(mismatch.errorClass == .dnsMismatch && mismatch.message?.contains("without 93.184.216.35") == true)
    }

    @Test("internal answers are never shown: all-internal fails like an unknown name, mixed shows only the public ones")
    func internalAnswers() async throws {
        let hidden = try await check("internal.test")
        let unknown = try await check("nowhere.test")
        #expect(hidden.errorClass == .dns && hidden.errorClass == unknown.errorClass)
        #expect(hidden.message == "cannot resolve internal.test" && unknown.message == "cannot resolve nowhere.test")
        // A name without addresses of the asked kind says the same.
        #expect(try await check("example.test", settings: #"{"dns_record":"A"}"#).status == .up)
        #expect(try await check("internal.test", settings: #"{"dns_record":"A"}"#).message == "cannot resolve internal.test")
        #expect(hidden.message?.contains("10.0.0.5") == false && hidden.message?.contains("fd00") == false)
        let mixed = try await check("mixed.test")
        #expect(mixed.status == .up && mixed.details?.answers == ["8.8.8.8"] && mixed.message?.contains("10.0.0.5") == false)
        // An expectation cannot be used to confirm an internal answer either.
        #expect(try await check("mixed.test", settings: #"{"dns_expect":["10.0.0.5"]}"#).errorClass == .dnsMismatch)
    }

    @Test("unknown names, and bad settings", arguments: [
        ("nowhere.test", "{}", ErrorClass.dns), ("example.test", #"{"dns_record":"MX"}"#, .invalidMonitor),
        ("example.test", #"{"dns_expect":["not-an-ip"]}"#, .invalidMonitor), ("bad name", "{}", .invalidTarget),
    ])
    func failures(host: String, settings: String, expected: ErrorClass) async throws {
        let monitor = Monitor(id: 1, name: "d", type: "dns", target: host, intervalSeconds: 30, timeoutMilliseconds: 5000, settings: settings)
        let result = await CheckRunner(probe: StandardProbe(network: Network(policy: .publicOnly, resolver: resolver))).check(monitor)
        #expect(result.errorClass == expected, "\(result)")
    }
}
