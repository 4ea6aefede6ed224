import UptickTargets
import NIOCore
import Synchronization
import Testing
import UptickCore
@testable import UptickNet
import UptickProbes
import UptickTestSupport

/// uptick's resolver against a real DNS server on loopback (Tests/Helpers/dns_server.py, dnslib).
@Suite("The resolver, against a real DNS server on 127.0.0.1", .serialized)
struct ResolverTests {
    let server: DNSTestServer

    init() async throws {
        server = try await DNSTestServer.start()
    }

    func soon(_ milliseconds: Int64 = 10_000) -> NIODeadline { .now() + .milliseconds(milliseconds) }

    func strings(_ addresses: [IPAddress]) -> [String] { addresses.map(\.description) }

    @Test("A and AAAA are asked in parallel and both kept, IPv4 first; one family alone asks once")
    func families() async throws {
        defer { server.stop() }
        let resolver = server.resolver()
        #expect(strings(try await resolver.lookup("public.test", families: .both, deadline: soon()))
            == ["93.184.216.34", "2606:2800:220:1:248:1893:25c8:1946"])
        #expect(strings(try await resolver.lookup("loop.test", families: .ipv6, deadline: soon())) == ["::1"])
        let types = Set(await server.queries("public.test").map(\.type))
        #expect(types == ["A", "AAAA"])
        #expect(await server.queries("loop.test").map(\.type) == ["AAAA"])
    }

    @Test("NXDOMAIN and NODATA are empty answers, cached for the SOA's negative TTL")
    func negativeAnswers() async throws {
        defer { server.stop() }
        let resolver = server.resolver()
        #expect(try await resolver.lookup("nx.test", families: .both, deadline: soon()).isEmpty)
        #expect(try await resolver.lookup("nx.test", families: .both, deadline: soon()).isEmpty)
        #expect(await server.queries("nx.test").count == 2)  // A and AAAA once each: the second lookup came from the cache
        #expect(strings(try await resolver.lookup("v4only.test", families: .both, deadline: soon())) == ["127.0.0.1"])
        #expect(try await resolver.lookup("v4only.test", families: .ipv6, deadline: soon()).isEmpty)
        #expect(await server.queries("v4only.test").count == 2)
        #expect(resolver.statistics.cacheHits == 3)
    }

    @Test("names are asked exactly as written, fully qualified: no search domains, a final dot changes nothing")
    func fullyQualified() async throws {
        defer { server.stop() }
        let resolver = server.resolver()
        #expect(try await resolver.lookup("db", families: .ipv4, deadline: soon()).isEmpty)
        #expect(try await resolver.lookup("Loop.Test.", families: .ipv4, deadline: soon()).map(\.description) == ["127.0.0.1"])
        #expect(Set(await server.queries().map(\.name)) == ["db", "loop.test"])
    }

    @Test("SERVFAIL and REFUSED are retried, then a dns failure saying so")
    func serverFailures() async throws {
        defer { server.stop() }
        let resolver = server.resolver(attempts: 2)
        await #expect(throws: CheckFailure(.dns, "the nameserver answered SERVFAIL")) {
            try await resolver.lookup("servfail.test", families: .ipv4, deadline: soon())
        }
        await #expect(throws: CheckFailure(.dns, "the nameserver refused the query")) {
            try await resolver.lookup("refused.test", families: .ipv4, deadline: soon())
        }
        #expect(await server.queries("servfail.test").count == 2)
        #expect(await server.queries("refused.test").count == 2)
    }

    @Test("a silent zone costs only its own lookups their deadline; others answer meanwhile")
    func silence() async throws {
        defer { server.stop() }
        // Alone, the resolver would wait 2 × 8 s for the silent zone: the lookup's 3 s deadline ends it before even the
        // first attempt's timeout (5 s apart, for a loaded machine's late threads).
        let resolver = server.resolver(timeout: .seconds(8), attempts: 2)
        let start = NIODeadline.now()
        let silentDone = Flag()
        let silent = Task {
            defer { silentDone.set() }
            return try await resolver.lookup("a.silent.test", families: .both, deadline: .now() + .milliseconds(3000))
        }
        // Another customer's name, asked while the silent lookup waits: answered while it still waits (an order, not a
        // time; the 3 s are for a loaded machine, whose threads the whole suite holds for seconds at its start).
        let other = try await resolver.lookup("public.test", families: .ipv4, deadline: soon())
        #expect(strings(other) == ["93.184.216.34"])
        #expect(!silentDone.isSet, "the other lookup waited for the silent one")
        await #expect(throws: CheckFailure.self) { _ = try await silent.value }
        let took = NIODeadline.now() - start
        #expect(took >= .milliseconds(3000) && took < .milliseconds(8000), "took \(took): its deadline, not an attempt's timeout")
    }

    @Test("a truncated answer is asked again over TCP; very large answers keep the first 32 addresses")
    func truncation() async throws {
        defer { server.stop() }
        let resolver = server.resolver()
        let addresses = try await resolver.lookup("big.test", families: .ipv4, deadline: soon())
        #expect(addresses.count == DNSResolver.maxAddresses)
        #expect(addresses.first?.description == "93.184.0.1")
        // Asked over UDP, then over TCP, which answered (a loaded machine can make the resolver try the round again).
        let transports = await server.queries("big.test").map(\.transport)
        #expect(transports.first == "udp" && transports.last == "tcp", "\(transports)")
        // A server that ignores the advertised size: the datagram is cut at 4 KB, fails to parse, and TCP has it whole.
        #expect(try await resolver.lookup("huge.test", families: .ipv4, deadline: soon()).count == DNSResolver.maxAddresses)
        #expect(await server.queries("huge.test").map(\.transport) == ["udp", "tcp"])
        // A datagram with the right id that does not parse is also worth a TCP query.
        #expect(strings(try await resolver.lookup("garbled.test", families: .ipv4, deadline: soon())) == ["127.0.0.1"])
        #expect(await server.queries("garbled.test").map(\.transport) == ["udp", "tcp"])
    }

    @Test("a CNAME chain inside the answer is followed, and cached for its shortest TTL")
    func cnameChain() async throws {
        defer { server.stop() }
        let resolver = server.resolver()
        #expect(strings(try await resolver.lookup("chain.test", families: .ipv4, deadline: soon())) == ["127.0.0.1"])
        #expect(strings(try await resolver.lookup("chain.test", families: .ipv4, deadline: soon())) == ["127.0.0.1"])
        #expect(await server.queries("chain.test").count == 1)
    }

    @Test("TTL 0 is never cached")
    func zeroTTL() async throws {
        defer { server.stop() }
        let resolver = server.resolver()
        for _ in 0..<3 { #expect(strings(try await resolver.lookup("ttl0.test", families: .ipv4, deadline: soon())) == ["127.0.0.1"]) }
        #expect(await server.queries("ttl0.test").count == 3)
    }

    @Test("spoofed answers (wrong id, wrong question, wrong source port) are ignored, and cannot poison the cache")
    func spoofing() async throws {
        defer { server.stop() }
        let resolver = server.resolver()
        #expect(strings(try await resolver.lookup("spoof.test", families: .ipv4, deadline: soon())) == ["127.0.0.1"])
        #expect(strings(try await resolver.lookup("spoof.test", families: .ipv4, deadline: soon())) == ["127.0.0.1"])
        #expect(try await resolver.lookup("other.test", families: .ipv4, deadline: soon()).isEmpty)  // the forged question was not cached
    }

    @Test("concurrent lookups of one name are one query")
    func merging() async throws {
        defer { server.stop() }
        let resolver = server.resolver()
        let answers = try await withThrowingTaskGroup(of: [IPAddress].self) { group in
            for _ in 0..<20 { group.addTask { try await resolver.lookup("slow.test", families: .ipv4, deadline: .now() + .seconds(3)) } }
            return try await group.reduce(into: []) { $0.append($1) }
        }
        #expect(answers.count == 20 && answers.allSatisfy { strings($0) == ["127.0.0.1"] })
        #expect(await server.queries("slow.test").count == 1)
        #expect(resolver.statistics.joined == 19)
    }

    @Test("at most lookupsPerZone lookups of one zone are at the server at once; other zones are not held up")
    func zoneBound() async throws {
        defer { server.stop() }
        let resolver = server.resolver(lookupsPerZone: 2)
        let start = NIODeadline.now()
        async let zone = withThrowingTaskGroup(of: [IPAddress].self) { group in
            for index in 0..<6 {
                group.addTask { try await resolver.lookup("n\(index).slowzone.test", families: .ipv4, deadline: .now() + .seconds(5)) }
            }
            return try await group.reduce(into: []) { $0.append($1) }
        }
        let other = try await resolver.lookup("public.test", families: .ipv4, deadline: soon())
        #expect(strings(other) == ["93.184.216.34"] && NIODeadline.now() - start < .milliseconds(300))
        let answers = try await zone
        #expect(answers.count == 6 && answers.allSatisfy { strings($0) == ["127.0.0.1"] })
        let queries = await server.queries().filter { $0.name.hasSuffix("slowzone.test") }
        #expect(queries.count == 6 && queries.map(\.zoneInProgress).max() == 2)
        // 6 lookups of 400 ms, two at a time: three rounds.
        #expect(NIODeadline.now() - start >= .milliseconds(1150))
    }

    @Test("the hosts file answers first, without a query")
    func hostsFile() async throws {
        defer { server.stop() }
        let resolver = server.resolver(hosts: ["pinned.test": [IPAddress("127.0.0.1")!, IPAddress("::1")!]])
        #expect(strings(try await resolver.lookup("Pinned.Test", families: .both, deadline: soon())) == ["127.0.0.1", "::1"])
        #expect(strings(try await resolver.lookup("pinned.test", families: .ipv6, deadline: soon())) == ["::1"])
        #expect(await server.queries("pinned.test").isEmpty)
    }

    @Test("the cache holds at most its capacity, dropping the oldest entry first")
    func cacheBound() async throws {
        defer { server.stop() }
        let resolver = server.resolver(cacheEntries: 2)
        for name in ["public.test", "loop.test", "forbidden.test", "public.test"] {
            _ = try await resolver.lookup(name, families: .ipv4, deadline: soon())
        }
        #expect(await server.queries("public.test").count == 2)
        _ = try await resolver.lookup("forbidden.test", families: .ipv4, deadline: soon())
        #expect(await server.queries("forbidden.test").count == 1)
    }

    @Test("through the guard: mixed answers connect to the allowed address only; denied-only fails like an unknown name")
    func throughTheGuard() async throws {
        defer { server.stop() }
        let fixture = try await GuardFixture.make()
        let resolver = server.resolver()
        let up = await fixture.check("http://mixed.test:\(fixture.allowed.port)/", resolver: resolver)
        #expect(up.status == .up, "\(up)")
        #expect(up.timings.dnsMicroseconds != nil)
        let denied = await fixture.check("http://forbidden.test:\(fixture.allowed.port)/", resolver: resolver)
        let unknown = await fixture.check("http://nx.test:\(fixture.allowed.port)/", resolver: resolver)
        #expect(denied.errorClass == .dns && denied.message == "cannot resolve forbidden.test")
        #expect(unknown.errorClass == .dns && unknown.message == "cannot resolve nx.test")
        #expect(try await fixture.untouched())
        try await fixture.stop()
    }

    @Test("dns checks use the resolver, within the check's deadline")
    func dnsChecks() async throws {
        defer { server.stop() }
        let probe = StandardProbe(network: Network(policy: .publicOnly, resolver: server.resolver(timeout: .seconds(2))))
        func check(_ host: String, _ settings: String = "{}", timeout: Int64 = 3000) async throws -> CheckResult {
            let monitor = Monitor(id: 1, name: "d", type: "dns", target: host, intervalSeconds: 30, timeoutMilliseconds: timeout, settings: settings)
            return await probe.check(try CheckSpec(monitor: monitor))
        }
        let up = try await check("public.test", #"{"dns_expect":["93.184.216.34"]}"#)
        #expect(up.status == .up && up.details?.answers == ["93.184.216.34", "2606:2800:220:1:248:1893:25c8:1946"])
        let silent = try await check("x.silent.test", timeout: 500)
        #expect(silent.status == .down && silent.errorClass == .timeout && silent.durationMicroseconds < 1_000_000, "\(silent)")
        #expect(try await check("servfail.test").errorClass == .dns)
    }
}

/// Set once, read from any task.
private final class Flag: Sendable {
    private let value = Mutex(false)
    func set() { value.withLock { $0 = true } }
    var isSet: Bool { value.withLock { $0 } }
}
