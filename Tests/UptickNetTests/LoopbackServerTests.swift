import NIOCore
import NIOPosix
import Testing
import UptickTargets

@Suite("Test infrastructure: counting connections")
struct LoopbackServerTests {
    @Test("settledConnections counts every connection made just before it, and never its own markers")
    func barrier() async throws {
        let server = try await LoopbackServer.tcp()
        for expected in 1...20 {
            let client = try await ClientBootstrap(group: MultiThreadedEventLoopGroup.singleton).connect(host: "127.0.0.1", port: server.port).get()
            try? await client.close()  // the server closes first, sometimes
            #expect(try await server.settledConnections() == expected)
        }
        try await server.stop()
    }
}
