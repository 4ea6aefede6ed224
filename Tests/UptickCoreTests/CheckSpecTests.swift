import Testing
import UptickCore

@Suite("Decoding a monitor row into a check")
struct CheckSpecTests {
    func monitor(type: String = "http", target: String, interval: Int64 = 30, timeout: Int64 = 5000, settings: String = "{}") -> Monitor {
        Monitor(id: 7, name: "m", type: type, target: target, intervalSeconds: interval, timeoutMilliseconds: timeout, settings: settings)
    }

    @Test("an HTTP monitor with settings")
    func http() throws {
        let settings = #"{"method":"post","headers":[{"name":"X-A","value":"1"}],"expected_status":"200-299,301","keyword":"ok","degraded_after_ms":1500}"#
        let spec = try CheckSpec(monitor: monitor(target: "https://Example.COM:8443/a/b?c=d", settings: settings))
        guard case .http(let check) = spec.kind else { Issue.record("not http"); return }
        #expect(check.scheme == "https" && check.host == "example.com" && check.port == 8443 && check.path == "/a/b?c=d")
        #expect(check.method == "POST" && check.keyword == "ok" && check.expectedStatus.contains(301))
        #expect(spec.degradedAfterMilliseconds == 1500 && spec.timeoutMilliseconds == 5000)
    }

    @Test("international names are checked by their ASCII (IDNA) form, whichever way they are written")
    func idna() throws {
        for url in ["http://bücher.example/", "http://xn--bcher-kva.example/", "http://BÜCHER.example/"] {
            guard case .http(let check) = try CheckSpec(monitor: monitor(target: url)).kind else { Issue.record("not http"); return }
            #expect(check.host == "xn--bcher-kva.example", "\(url)")
        }
        guard case .http(let check) = try CheckSpec(monitor: monitor(target: "http://[fe80::1%25eth0]:8080/")).kind else { return }
        #expect(check.host == "fe80::1%eth0" && check.port == 8080)
    }

    @Test("port targets, including bracketed IPv6")
    func port() throws {
        #expect(try CheckSpec(monitor: monitor(type: "port", target: "db.example.com:5432")).kind == .port(Endpoint(host: "db.example.com", port: 5432), tls: nil))
        #expect(try CheckSpec(monitor: monitor(type: "port", target: "[::1]:22")).kind == .port(Endpoint(host: "::1", port: 22), tls: nil))
    }

    @Test("malformed rows give the right error class", arguments: [
        ("ftp", "x", "{}", ErrorClass.invalidMonitor),
        ("http", "https://example.com", "{not json", .invalidMonitor),
        ("http", "https://example.com", #"{"expected_status":"abc"}"#, .invalidMonitor),
        ("http", "https://example.com", #"{"headers":[{"name":"Bad Name","value":"x"}]}"#, .invalidMonitor),
        // Found by fuzzing (docs/fuzzing.md): separators and control bytes in names, NUL in values, were accepted.
        ("http", "https://example.com", #"{"headers":[{"name":"X-T(en","value":"x"}]}"#, .invalidMonitor),
        ("http", "https://example.com", #"{"headers":[{"name":"X/Y","value":"x"}]}"#, .invalidMonitor),
        ("http", "https://example.com", #"{"headers":[{"name":"X\u0001","value":"x"}]}"#, .invalidMonitor),
        ("http", "https://example.com", #"{"headers":[{"name":"X-A","value":"a\u0000b"}]}"#, .invalidMonitor),
        ("http", "not a url", "{}", .invalidTarget),
        ("http", "ftp://example.com/", "{}", .invalidTarget),
        ("http", "http://user:pw@example.com/", "{}", .invalidTarget),
        ("port", "example.com", "{}", .invalidTarget),
        ("port", "example.com:99999", "{}", .invalidTarget),
        ("port", "::1:22", "{}", .invalidTarget),
        ("ping", "exa mple.com", "{}", .invalidTarget),
    ])
    func malformed(type: String, target: String, settings: String, expected: ErrorClass) {
        #expect(errorClass(monitor(type: type, target: target, settings: settings)) == expected)
    }

    @Test("out-of-bounds intervals and timeouts are invalid monitors", arguments: [(Int64(0), Int64(1000)), (30, 0), (30, 10_001)])
    func bounds(interval: Int64, timeout: Int64) {
        #expect(errorClass(monitor(target: "http://a/", interval: interval, timeout: timeout)) == .invalidMonitor)
    }

    /// The class of the error decoding `monitor` fails with; `nil` when it decodes.
    func errorClass(_ monitor: Monitor) -> ErrorClass? {
        do {
            _ = try CheckSpec(monitor: monitor)
            return nil
        } catch {
            #expect(!error.message.isEmpty)
            return error.errorClass
        }
    }
}

@Suite("Targets shown outside the runner")
struct DisplayTargetTests {
    func monitor(_ type: String, _ target: String) -> Monitor {
        Monitor(id: 1, name: "m", type: type, target: target, intervalSeconds: 30, timeoutMilliseconds: 1000)
    }

    @Test("an HTTP target loses credentials, query and fragment; other targets are kept unless they look like URLs")
    func redaction() {
        #expect(monitor("http", "https://user:secret@example.com:8443/health?token=abc#x").displayTarget == "https://example.com:8443/health")
        #expect(monitor("http", "http://example.com").displayTarget == "http://example.com")
        #expect(monitor("http", "not a url").displayTarget == "invalid")
        #expect(monitor("port", "db.example.com:5432").displayTarget == "db.example.com:5432")
        #expect(monitor("port", "user:pw@db:1").displayTarget == "invalid")
        #expect(monitor("smtp", "x").displayType == "invalid" && monitor("dns", "x").displayType == "dns")
    }
}
