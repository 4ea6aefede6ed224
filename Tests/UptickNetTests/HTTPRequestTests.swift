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
