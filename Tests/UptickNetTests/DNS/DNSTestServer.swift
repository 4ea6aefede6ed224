import NIOCore
import NIOPosix
import Synchronization
@testable import UptickNet
import UptickTestSupport

/// Tests/Helpers/dns_server.py: a real DNS server (dnslib, from PyPI) on 127.0.0.1, answering the names
/// listed at the top of that file, and reporting every query it receives.
final class DNSTestServer: Sendable {
    /// One query as the server saw it.
    struct Query: Sendable, Hashable {
        var name: String
        var type: String
        var transport: String
        /// Queries of the same zone in progress at the server when this one arrived, this one included.
        var zoneInProgress: Int
    }

    private struct State {
        var queries: [Query] = []
        var waiters: [(name: String, continuation: CheckedContinuation<Void, Never>)] = []
    }

    private final class Log: Sendable {
        let state = Mutex(State())
    }

    private let helper: HelperProcess
    let address: SocketAddress
    private let log = Log()
    private let reader: Task<Void, Never>

    private init(helper: HelperProcess, address: SocketAddress) {
        self.helper = helper
        self.address = address
        let lines = helper.lines()
        let log = self.log
        reader = Task {
            for await line in lines {
                let words = line.split(separator: " ")
                guard words.count == 5, words[0] == "Q", let count = Int(words[4]) else { continue }
                let query = Query(name: String(words[1]), type: String(words[2]), transport: String(words[3]), zoneInProgress: count)
                let woken = log.state.withLock { state in
                    state.queries.append(query)
                    let woken = state.waiters.filter { $0.name == query.name }
                    state.waiters.removeAll { $0.name == query.name }
                    return woken
                }
                for waiter in woken { waiter.continuation.resume() }
            }
        }
    }

    /// Starts the server; fails with a message saying what to install when python3 lacks dnslib.
    static func start() async throws -> DNSTestServer {
        let helper = try await HelperProcess.start("dns_server.py", [], requires: ["dnslib"])
        return DNSTestServer(helper: helper, address: try SocketAddress(ipAddress: "127.0.0.1", port: helper.port))
    }

    /// A resolver asking only this server: 2 s per try, 2 tries, unless told otherwise.
    func resolver(timeout: Duration = .seconds(2), attempts: Int = 2, lookupsPerZone: Int = 32, cacheEntries: Int = 1000,
                  hosts: [String: [IPAddress]] = [:]) -> DNSResolver {
        DNSResolver(configuration: ResolverConfiguration(nameservers: [address], timeout: timeout, attempts: attempts, hosts: hosts,
                                                         lookupsPerZone: lookupsPerZone, cacheEntries: cacheEntries))
    }

    /// Every query the server has reported for `name` (all names when `nil`), after a barrier: a query for a
    /// fresh name is sent and its report awaited, so every query sent before this call has been reported.
    func queries(_ name: String? = nil) async -> [Query] {
        let barrier = "barrier-\(UInt64.random(in: 0 ... .max)).test"
        await withCheckedContinuation { continuation in
            log.state.withLock { $0.waiters.append((barrier, continuation)) }
            _ = DNSTransport.exchange(name: barrier, type: .a, server: address, timeout: .seconds(5),
                                      on: MultiThreadedEventLoopGroup.singleton.next())
            // Never hang a test on a server that died: give up waiting after 5 s.
            MultiThreadedEventLoopGroup.singleton.next().scheduleTask(in: .seconds(5)) { [log] in
                let waiter = log.state.withLock { state in
                    let index = state.waiters.firstIndex { $0.name == barrier }
                    return index.map { state.waiters.remove(at: $0) }
                }
                waiter?.continuation.resume()
            }
        }
        return log.state.withLock { state in
            state.queries.filter { $0.name != barrier && !$0.name.hasPrefix("barrier-") && (name == nil || $0.name == name) }
        }
    }

    func stop() {
        helper.stop()
        reader.cancel()
    }
}
