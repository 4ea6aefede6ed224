import Testing
import UptickCore
@testable import UptickNet

@Suite("DNS messages, resolv.conf and hosts (pure)")
struct DNSMessageTests {
    /// RFC 1035 §4.1: a query for example.com A with id 0xbeef, RD, and an EDNS(0) OPT of 1232 bytes.
    @Test("a query is encoded byte for byte")
    func query() throws {
        let bytes = try #require(DNSMessage.query(id: 0xBEEF, name: "Example.COM.", type: .a))
        let expected: [UInt8] = [0xBE, 0xEF, 0x01, 0x00, 0, 1, 0, 0, 0, 0, 0, 1,
                                 7] + Array("example".utf8) + [3] + Array("com".utf8) + [0, 0, 1, 0, 1,
                                 0, 0, 41, 0x04, 0xD0, 0, 0, 0, 0, 0, 0]
        #expect(bytes == expected)
        #expect(DNSMessage.query(id: 1, name: "a..b", type: .a) == nil)
        #expect(DNSMessage.query(id: 1, name: String(repeating: "x", count: 64) + ".test", type: .a) == nil)
        #expect(DNSMessage.query(id: 1, name: Array(repeating: "abcdefghi", count: 26).joined(separator: "."), type: .a) == nil)
    }

    /// A response with a compressed CNAME and A record, and an SOA in authority.
    static let response: [UInt8] = {
        var bytes: [UInt8] = [0x12, 0x34, 0x81, 0x80, 0, 1, 0, 2, 0, 1, 0, 0]
        bytes += [3] + Array("www".utf8) + [4] + Array("test".utf8) + [0, 0, 1, 0, 1]       // question at 12
        bytes += [0xC0, 12, 0, 5, 0, 1, 0, 0, 0, 60, 0, 6, 3] + Array("cdn".utf8) + [0xC0, 16]  // www.test CNAME cdn.test
        bytes += [0xC0, 38, 0, 1, 0, 1, 0x80, 0, 0, 0, 0, 4, 93, 184, 216, 34]                  // cdn.test A, TTL top bit set
        bytes += [0xC0, 16, 0, 6, 0, 1, 0, 0, 0, 30, 0, 24, 0xC0, 16, 0xC0, 16]               // test SOA
        bytes += [0, 0, 0, 1, 0, 0, 0, 2, 0, 0, 0, 3, 0, 0, 0, 4, 0, 0, 0, 5]
        return bytes
    }()

    @Test("a response is parsed: header, question, compressed names, CNAME, A, SOA minimum; a TTL with the top bit is 0")
    func response() throws {
        let message = try #require(DNSMessage(parsing: Self.response))
        #expect(message.id == 0x1234 && message.isResponse && !message.truncated && message.responseCode == 0)
        #expect(message.question == DNSMessage.Question(name: "www.test", type: 1))
        #expect(message.answers == [
            .init(name: "www.test", type: 5, ttl: 60, data: .cname("cdn.test")),
            .init(name: "cdn.test", type: 1, ttl: 0, data: .a([93, 184, 216, 34])),
        ])
        #expect(message.authority == [.init(name: "test", type: 6, ttl: 30, data: .soa(minimum: 5))])
        let key = DNSCache.Key(name: "www.test", type: .a)
        #expect(DNSResolver.interpret(message, for: key) == .answer([.v4(0x5DB8_D822)], ttl: 0))
    }

    @Test("every truncation of a valid message, and pointer loops, parse to nil without crashing")
    func malformed() {
        for length in 0..<Self.response.count {
            #expect(DNSMessage(parsing: Array(Self.response.prefix(length))) == nil || length >= 12)
        }
        // A name that points at itself, and one that points forward.
        var loop: [UInt8] = [0, 1, 0x81, 0x80, 0, 1, 0, 0, 0, 0, 0, 0, 0xC0, 12, 0, 1, 0, 1]
        #expect(DNSMessage(parsing: loop) == nil)
        loop[13] = 14
        #expect(DNSMessage(parsing: loop) == nil)
        // Counts far beyond what the message holds.
        #expect(DNSMessage(parsing: [0, 1, 0x81, 0x80, 0, 0, 0xFF, 0xFF, 0, 0, 0, 0]) == nil)
        // An A record of the wrong length.
        var bad = Array(Self.response.prefix(12 + 15))
        bad[7] = 1
        bad += [0xC0, 12, 0, 1, 0, 1, 0, 0, 0, 60, 0, 3, 1, 2, 3]
        #expect(DNSMessage(parsing: bad) == nil)
    }

    @Test("NXDOMAIN's negative TTL is the SOA's TTL at most its minimum; without an SOA 30 s; failures ask the next server")
    func negativeTTL() throws {
        var message = try #require(DNSMessage(parsing: Self.response))
        message.answers = []
        message.responseCode = 3
        let key = DNSCache.Key(name: "www.test", type: .a)
        #expect(DNSResolver.interpret(message, for: key) == .answer([], ttl: 5))
        message.authority = []
        #expect(DNSResolver.interpret(message, for: key) == .answer([], ttl: 30))
        message.responseCode = 2
        #expect(DNSResolver.interpret(message, for: key) == .tryNext(CheckFailure(.dns, "the nameserver answered SERVFAIL")))
    }

    @Test("resolv.conf: nameservers (at most 3), timeout and attempts; search and ndots are not used")
    func resolvConf() {
        let configuration = ResolverConfiguration.parse(resolvConf: """
            # comment
            search corp.internal
            options ndots:5 timeout:2 attempts:3 rotate
            nameserver 10.0.0.2
            nameserver fd00::53
            nameserver not-an-address
            nameserver 10.0.0.3
            nameserver 10.0.0.4
            """)
        #expect(configuration.nameservers.map(\.display) == ["10.0.0.2:53", "[fd00::53]:53", "10.0.0.3:53"])
        #expect(configuration.timeout == .seconds(2) && configuration.attempts == 3)
        #expect(ResolverConfiguration.parse(resolvConf: "").nameservers.map(\.display) == ["127.0.0.1:53"])
        #expect(ResolverConfiguration.parse(resolvConf: "").timeout == .seconds(5))
    }

    @Test("hosts: every address of a name, in order, case and final dot folded, comments dropped")
    func hosts() {
        let hosts = ResolverConfiguration.parse(hosts: """
            127.0.0.1 localhost Local.Test.
            ::1 localhost ip6-localhost # loopback
            # 10.0.0.1 hidden
            garbage line
            10.1.1.1\tapp.test
            """)
        #expect(hosts["localhost"]?.map(\.description) == ["127.0.0.1", "::1"])
        #expect(hosts["local.test"]?.map(\.description) == ["127.0.0.1"])
        #expect(hosts["app.test"]?.map(\.description) == ["10.1.1.1"])
        #expect(hosts["hidden"] == nil && hosts.count == 4)
    }

    @Test("zones group a customer's names: the last two labels, three under a short second level of a country code")
    func zones() {
        #expect(DNSResolver.zone(of: "a.b.example.com") == "example.com")
        #expect(DNSResolver.zone(of: "www.example.co.uk") == "example.co.uk")
        #expect(DNSResolver.zone(of: "example.com") == "example.com")
        #expect(DNSResolver.zone(of: "localhost") == "localhost")
    }
}
