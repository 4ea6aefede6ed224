import NIOCore
import NIOHTTP1
import Testing
import UptickCore
@testable import UptickNet
import UptickProbes
import UptickTargets
import UptickTestSupport

@Suite("The HTTP request on the wire")
struct HTTPRequestTests {
    @Test("default headers, each replaced by a request header of the same name whatever its case; a body gets its length")
    func head() {
        let get = HTTPExchange.head(for: .init(host: "example.com", port: 443, path: "/a?b=1", headers: [("user-agent", "probe/2"), ("X-Trace", "1")]))
        #expect(get.method == .GET && get.uri == "/a?b=1")
        #expect(get.headers["Host"] == ["example.com"] && get.headers["User-Agent"] == ["probe/2"] && get.headers["X-Trace"] == ["1"])
        let post = HTTPExchange.head(for: .init(host: "::1", port: 8080, path: "/", method: "POST", body: "{\"a\":1}"))
        #expect(post.headers["Host"] == ["[::1]:8080"] && post.headers["Content-Length"] == ["7"])
    }

    @Test("a HEAD response has no body, whatever its Content-Length says")
    func headResponse() async throws {
        let server = try await LoopbackServer.http()
        let exchange = HTTPExchange(network: .testLoopback)
        let response = try await exchange.perform(.init(host: "127.0.0.1", port: server.port, path: "/head-only", method: "HEAD"),
                                                  deadline: .now() + .seconds(5))
        #expect(response.status == 200 && response.body.isEmpty)
        // The same answer to a GET is a body that never comes.
        await #expect(throws: NetFailure.self) {
            _ = try await exchange.perform(.init(host: "127.0.0.1", port: server.port, path: "/head-only"), deadline: .now() + .milliseconds(300))
        }
        try await server.stop()
    }
}

@Suite("What a monitor may put in its request")
struct RequestRulesTests {
    func spec(_ url: String, _ settings: String) throws(CheckFailure) -> CheckSpec {
        try CheckSpec(monitor: Monitor(id: 1, name: "t", type: "http", target: url, intervalSeconds: 30, timeoutMilliseconds: 5000, settings: settings))
    }

    @Test("framing and hop-by-hop headers are refused, in any case; a TRACE with a body is refused", arguments: [
        #"{"headers":[{"name":"Content-Length","value":"0"}]}"#, #"{"headers":[{"name":"transfer-encoding","value":"chunked"}]}"#, #"{"headers":[{"name":"Connection","value":"keep-alive"}]}"#,
        #"{"headers":[{"name":"Upgrade","value":"h2c"}]}"#, #"{"headers":[{"name":"TE","value":"trailers"}]}"#, #"{"headers":[{"name":"Keep-Alive","value":"1"}]}"#,
        #"{"method":"TRACE","body":"GET /admin HTTP/1.1"}"#,
    ])
    func refused(settings: String) {
        #expect(throws: CheckFailure.self) { try spec("http://127.0.0.1/", settings) }
        do {
            _ = try spec("http://127.0.0.1/", settings)
        } catch {
            #expect(error.message.contains("set by uptick itself") || error.message.contains("cannot have a body"), "\(error.message)")
        }
    }

    @Test("a Host header is refused unless the operator allows it")
    func hostHeader() async throws {
        let server = try await LoopbackServer.http()
        let check = try spec(server.url("/echo-headers"), #"{"headers":[{"name":"Host","value":"admin.internal"}],"keyword":"host: admin.internal"}"#)
        let refused = await StandardProbe(network: .testLoopback).check(check)
        #expect(refused.errorClass == .invalidMonitor)
        let allowed = await StandardProbe(network: Network(policy: .testLoopback, resolver: HermeticResolver(), allowsHostHeader: true)).check(check)
        #expect(allowed.status == .up, "\(allowed)")
        try await server.stop()
    }

    @Test("credentials go to the monitor's own origin only: a redirect elsewhere drops Authorization and Cookie")
    func credentialsStayHome() async throws {
        let home = try await LoopbackServer.http()
        let elsewhere = try await LoopbackServer.http()
        let network = Network(policy: AddressPolicy(allow: [try #require(AddressPolicy.Rule("127.0.0.1/32"))]), resolver: HermeticResolver())
        let settings = #"{"headers":[{"name":"Authorization","value":"Bearer s3cret"},{"name":"Cookie","value":"session=s3cret"},{"name":"X-Trace","value":"kept"}],"keyword":"x-trace: kept","keyword_absent":"s3cret"}"#
        let away = try spec(home.url("/redirect-to?" + elsewhere.url("/echo-headers")), settings)
        let result = await StandardProbe(network: network).check(away)
        #expect(result.status == .up && result.details?.redirects?.count == 1, "\(result)")
        // Same origin: they are kept (the keyword_absent rule then fails).
        let same = await StandardProbe(network: network).check(try spec(home.url("/redirect-to?/echo-headers"), settings))
        #expect(same.errorClass == .keyword, "\(same)")
        try await home.stop()
        try await elsewhere.stop()
    }
}
