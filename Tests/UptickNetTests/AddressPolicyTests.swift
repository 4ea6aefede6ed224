import NIOCore
import Synchronization
import Testing
@testable import UptickNet

@Suite("Address policy verdicts (pure)")
struct AddressPolicyTests {
    let policy = AddressPolicy.publicOnly

    func verdict(_ text: String, port: Int = 80, policy: AddressPolicy = .publicOnly) throws -> AddressPolicy.Verdict {
        policy.verdict(try #require(IPAddress(text)), port: port)
    }

    @Test("special-purpose IPv4 addresses are denied, at both edges of each range", arguments: [
        "0.0.0.0", "0.255.255.255", "10.0.0.0", "10.255.255.255", "100.64.0.0", "100.127.255.255",
        "127.0.0.1", "127.255.255.254", "169.254.0.0", "169.254.169.254", "169.254.255.255",
        "172.16.0.0", "172.31.255.255", "192.0.0.0", "192.0.0.255", "192.0.2.0", "192.0.2.255",
        "192.88.99.1", "192.168.0.0", "192.168.255.255", "198.18.0.0", "198.19.255.255",
        "198.51.100.7", "203.0.113.9", "224.0.0.1", "239.255.255.255", "240.0.0.1", "255.255.255.255",
    ])
    func deniedIPv4(address: String) throws {
        #expect(try verdict(address) != .allowed)
    }

    @Test("public IPv4 addresses just outside each range are allowed", arguments: [
        "1.0.0.0", "9.255.255.255", "11.0.0.0", "100.63.255.255", "100.128.0.0", "126.255.255.255", "128.0.0.0",
        "169.253.255.255", "169.255.0.0", "172.15.255.255", "172.32.0.0", "192.0.1.255", "192.0.3.0",
        "192.88.98.255", "192.167.255.255", "192.169.0.0", "198.17.255.255", "198.20.0.0", "198.51.99.255",
        "203.0.112.255", "223.255.255.255", "8.8.8.8", "93.184.216.34",
    ])
    func allowedIPv4(address: String) throws {
        #expect(try verdict(address) == .allowed)
    }

    @Test("special-purpose and non-global IPv6 addresses are denied", arguments: [
        "::", "::1", "fe80::1", "fec0::1", "fc00::1", "fd00:ec2::254", "ff02::1", "100::1", "64:ff9b:1::1",
        "2001::1", "2001:2::1", "2001:db8::1", "3fff::1", "5f00::1", "4000::1", "::2:1",
    ])
    func deniedIPv6(address: String) throws {
        #expect(try verdict(address) != .allowed)
    }

    @Test("IPv6 forms that embed an IPv4 address are judged by that address", arguments: [
        ("::ffff:127.0.0.1", false), ("::ffff:7f00:1", false), ("::ffff:169.254.169.254", false),
        ("::ffff:10.1.2.3", false), ("::127.0.0.1", false), ("64:ff9b::7f00:1", false), ("64:ff9b::a9fe:a9fe", false),
        ("2002:7f00:1::1", false), ("2002:a9fe:a9fe::", false), ("2002:c0a8:101::5", false),
        ("::ffff:8.8.8.8", true), ("64:ff9b::808:808", true), ("2002:808:808::1", true),
    ])
    func embeddedIPv4(address: String, allowed: Bool) throws {
        #expect((try verdict(address) == .allowed) == allowed)
    }

    @Test("public IPv6 addresses are allowed", arguments: ["2606:4700:4700::1111", "2a00:1450:4001:80b::200e", "2620:fe::fe"])
    func allowedIPv6(address: String) throws {
        #expect(try verdict(address) == .allowed)
    }

    @Test("the reason names the range")
    func reasons() throws {
        #expect(try verdict("169.254.169.254") == .denied("link-local (cloud metadata) (169.254.0.0/16)"))
        #expect(try verdict("::ffff:127.0.0.1") == .denied("loopback (127.0.0.0/8)"))
    }

    @Test("operators can allow a range, optionally one port, and deny rules win")
    func operatorRules() throws {
        let lan = AddressPolicy(allow: [try #require(AddressPolicy.Rule("10.0.0.0/8")), try #require(AddressPolicy.Rule("127.0.0.1/32:8080"))],
                                deny: [try #require(AddressPolicy.Rule("10.9.0.0/16")), try #require(AddressPolicy.Rule("8.8.8.0/24"))])
        #expect(try verdict("10.1.2.3", policy: lan) == .allowed)
        #expect(try verdict("::ffff:10.1.2.3", policy: lan) == .allowed)
        #expect(try verdict("10.9.1.1", policy: lan) == .denied("denied by an operator rule"))  // the rule's text is not shown
        #expect(try verdict("8.8.8.8", policy: lan) != .allowed)
        #expect(try verdict("127.0.0.1", port: 8080, policy: lan) == .allowed)
        #expect(try verdict("127.0.0.1", port: 8081, policy: lan) != .allowed)
        #expect(try verdict("192.168.1.1", policy: lan) != .allowed)
    }

    @Test("only canonical address spellings parse; legacy inet_aton forms do not", arguments: [
        "127.1", "0x7f.0.0.1", "0177.0.0.1", "2130706433", "017700000001", "127.0.0.1.", "[::1]", "::1%lo", " 127.0.0.1", "1.2.3.256",
    ])
    func strictParsing(text: String) {
        #expect(IPAddress(text) == nil)
    }

    @Test("ranges and rules parse strictly")
    func rules() {
        #expect(CIDR("10.0.0.0/8")?.description == "10.0.0.0/8")
        #expect(CIDR("fd00::/8")?.description == "fd00::/8")
        #expect(CIDR("10.0.0.1/8") == nil)  // host bits set
        #expect(CIDR("10.0.0.0/33") == nil)
        #expect(CIDR("10.0.0.0/-1") == nil)
        #expect(AddressPolicy.Rule("192.168.1.5/32:8080")?.port == 8080)
        #expect(AddressPolicy.Rule("fd00::/8:443")?.port == 443)
        #expect(AddressPolicy.Rule("10.0.0.0/8:99999") == nil)
        #expect(AddressPolicy.Rule("example.com/8") == nil)
    }
}

@Suite("Address policy: embedded IPv4, NAT64 prefixes, the runner's own addresses (pure)")
struct EmbeddedAndLocalTests {
    func verdict(_ text: String, _ policy: AddressPolicy = .publicOnly, port: Int = 443, local: Set<IPAddress> = []) throws -> AddressPolicy.Verdict {
        policy.verdict(try #require(IPAddress(text)), port: port, local: local)
    }

    @Test("an allow rule on the outer IPv6 form does not let in an internal embedded IPv4")
    func allowOnOuterForm() throws {
        let nat64 = AddressPolicy(allow: [try #require(AddressPolicy.Rule("64:ff9b::/96")), try #require(AddressPolicy.Rule("::ffff:0:0/96"))])
        #expect(try verdict("64:ff9b::a9fe:a9fe", nat64) == .denied("link-local (cloud metadata) (169.254.0.0/16)"))
        #expect(try verdict("::ffff:10.0.0.1", nat64) != .allowed)
        #expect(try verdict("64:ff9b::808:808", nat64) == .allowed)
        // Allowing the IPv4 range itself opens both forms.
        let lan = AddressPolicy(allow: [try #require(AddressPolicy.Rule("10.0.0.0/8"))])
        #expect(try verdict("::ffff:10.0.0.1", lan) == .allowed && verdict("64:ff9b::a00:1", lan) == .allowed)
    }

    @Test("IPv4-compatible ::a.b.c.d is denied even with a public IPv4")
    func compatibleForm() throws {
        #expect(try verdict("::8.8.8.8") == .denied("IPv4-compatible (::/96, deprecated)"))
        #expect(try verdict("::ffff:8.8.8.8") == .allowed)
    }

    @Test("a configured NAT64 prefix of every RFC 6052 length yields its embedded IPv4", arguments: [
        // RFC 6052 §2.4's examples, embedding 192.0.2.33, then the same layouts embedding 169.254.169.254.
        ("2001:db8::/32", "2001:db8:c000:221::", "192.0.2.33"), ("2001:db8:100::/40", "2001:db8:1c0:2:21::", "192.0.2.33"),
        ("2001:db8:122::/48", "2001:db8:122:c000:2:2100::", "192.0.2.33"), ("2001:db8:122:300::/56", "2001:db8:122:3c0:0:221::", "192.0.2.33"),
        ("2001:db8:122:344::/64", "2001:db8:122:344:c0:2:2100:0", "192.0.2.33"), ("2001:db8:122:344::/96", "2001:db8:122:344::192.0.2.33", "192.0.2.33"),
        ("2600:1f00::/32", "2600:1f00:a9fe:a9fe::", "169.254.169.254"), ("2600:1f00:64::/96", "2600:1f00:64::a9fe:a9fe", "169.254.169.254"),
    ])
    func nat64(prefix: String, address: String, embedded: String) throws {
        let policy = AddressPolicy(nat64Prefixes: [try #require(CIDR(prefix))])
        #expect(policy.embeddedIPv4(try #require(IPAddress(address))).map { IPAddress.v4($0).description } == embedded)
        #expect(try verdict(address, policy) != .allowed)
        #expect(AddressPolicy.publicOnly.embeddedIPv4(try #require(IPAddress(address))) == nil)
    }

    @Test("the runner's own addresses are denied, even inside an allowed range, unless allowed by themselves")
    func ownAddresses() throws {
        let own: Set<IPAddress> = [try #require(IPAddress("8.8.4.4")), try #require(IPAddress("10.0.0.5")), try #require(IPAddress("2a00:1450::5"))]
        #expect(try verdict("8.8.4.4", local: own) == .denied("an address of the runner itself"))
        #expect(try verdict("::ffff:8.8.4.4", local: own) == .denied("an address of the runner itself"))
        #expect(try verdict("2a00:1450::5", local: own) != .allowed)
        #expect(try verdict("8.8.8.8", local: own) == .allowed)
        let lan = AddressPolicy(allow: [try #require(AddressPolicy.Rule("10.0.0.0/8"))])
        #expect(try verdict("10.0.0.5", lan, local: own) != .allowed && verdict("10.0.0.6", lan, local: own) == .allowed)
        let host = AddressPolicy(allow: [try #require(AddressPolicy.Rule("10.0.0.5/32:9100"))])
        #expect(try verdict("10.0.0.5", host, port: 9100, local: own) == .allowed && verdict("10.0.0.5", host, port: 22, local: own) != .allowed)
    }

    @Test("the interfaces read from the system include loopback")
    func systemInterfaces() throws {
        #expect(LocalAddresses().current.contains(try #require(IPAddress("127.0.0.1"))))
    }

    @Test("interface addresses are read again once a reading is older than the refresh interval, not before")
    func refreshedInterfaces() throws {
        let readings = Mutex(0)
        let address = try #require(IPAddress("8.8.4.4"))
        let read: @Sendable () -> Set<IPAddress> = {
            readings.withLock { $0 += 1 }
            return [address]
        }
        let cached = LocalAddresses(read: read, refresh: .seconds(3600))
        _ = (cached.current, cached.current)
        #expect(readings.withLock { $0 } == 1)  // the reading at start serves both
        let stale = LocalAddresses(read: read, refresh: .zero)
        _ = (stale.current, stale.current)
        #expect(readings.withLock { $0 } == 4)  // one at start, then one per use
    }

    @Test("numeric hosts parse as the C library's numeric parser does; names do not", arguments: [
        ("127.1", "127.0.0.1"), ("0x7f.0.0.1", "127.0.0.1"), ("0177.0.0.1", "127.0.0.1"), ("2130706433", "127.0.0.1"),
        ("fe80::1%eth0", "fe80::1"), ("::1", "::1"), ("1.2.3.4", "1.2.3.4"),
    ])
    func numericHosts(text: String, address: String) {
        #expect(IPAddress(numericHost: text)?.description == address)
    }

    @Test("names are not numeric hosts", arguments: ["example.com", "cafe", "beef.de", "127.0.0.1.", "1.2.3.4 x", "", "0x"])
    func names(text: String) {
        #expect(IPAddress(numericHost: text) == nil)
    }
}
