import NIOCore
import Testing
import UptickCore
@testable import UptickNet
import UptickProbes
import UptickTargets
import UptickTestSupport

@Suite("The HTTP request on the wire")
struct HTTPRequestTests {
    @Test("default headers, replaced by the request's own without regard to case; a body gets its length")
    func encoding() {
        let get = HTTPExchange.encoded(.init(host: "example.com", port: 443, path: "/a?b=1", headers: [("user-agent", "probe/2"), ("X-Trace", "1")]))
        #expect(get == "GET /a?b=1 HTTP/1.1\r\nHost: example.com\r\nAccept: */*\r\nAccept-Encoding: identity\r\nConnection: close\r\n"
                + "user-agent: probe/2\r\nX-Trace: 1\r\n\r\n")
        let post = HTTPExchange.encoded(.init(host: "::1", port: 8080, path: "/", method: "POST", body: "{\"a\":1}"))
        #expect(post.hasPrefix("POST / HTTP/1.1\r\nHost: [::1]:8080\r\nUser-Agent: uptick/0.1\r\n"))
        #expect(post.hasSuffix("Content-Length: 7\r\n\r\n{\"a\":1}"))
    }

    @Test("a HEAD response has no body, whatever its Content-Length says")
    func head() async throws {
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
