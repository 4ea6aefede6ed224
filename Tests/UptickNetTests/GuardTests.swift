import Foundation
import NIOCore
import Synchronization
import Testing
import UptickCore
@testable import UptickNet
import UptickProbes
import UptickTargets
import UptickTestSupport

/// Answers host names from a table, one answer list per call in turn (the last one repeats); counts calls.
final class TableResolver: NameResolver {
    private let answers: [String: [[String]]]
    private let calls = Mutex(0)

    init(_ answers: [String: [[String]]]) {
        self.answers = answers
    }

    var callCount: Int { calls.withLock { $0 } }

    func lookup(_ name: String, families: AddressFamilies, deadline: NIODeadline) async throws(CheckFailure) -> [IPAddress] {
        let call = calls.withLock { count in
            defer { count += 1 }
            return count
        }
        guard let lists = answers[name] else { return [] }
        return lists[min(call, lists.count - 1)].compactMap { IPAddress($0) }
    }
}

/// One allowed HTTP server on 127.0.0.1 and forbidden ones on 127.0.0.2 (same port) and on 127.0.0.1
/// at another port; the forbidden ones must never see a connection.
struct GuardFixture {
    let allowed: LoopbackServer
    let forbidden: LoopbackServer
    let otherPort: LoopbackServer
    /// Allows exactly 127.0.0.1 at the allowed server's port.
    let policy: AddressPolicy

    static func make() async throws -> GuardFixture {
        let allowed = try await LoopbackServer.http(host: "127.0.0.1")
        let forbidden = try await LoopbackServer.http(host: "127.0.0.2", port: allowed.port)
        let otherPort = try await LoopbackServer.http(host: "127.0.0.1")
        let policy = AddressPolicy(allow: [AddressPolicy.Rule(try #require(CIDR("127.0.0.1/32")), port: allowed.port)])
        return GuardFixture(allowed: allowed, forbidden: forbidden, otherPort: otherPort, policy: policy)
    }

    func check(_ url: String, resolver: any NameResolver = HermeticResolver()) async -> CheckResult {
        let monitor = Monitor(id: 1, name: "t", type: "http", target: url, intervalSeconds: 30, timeoutMilliseconds: 5000)
        guard let spec = try? CheckSpec(monitor: monitor) else { return .down(.invalidTarget, "rejected") }
        return await StandardProbe(network: Network(policy: policy, resolver: resolver)).check(spec)
    }

    /// Whether the forbidden servers have seen no connection (counted after every earlier connection was accepted).
    func untouched() async throws -> Bool {
        let forbiddenCount = try await forbidden.settledConnections()
        let otherPortCount = try await otherPort.settledConnections()
        return forbiddenCount == 0 && otherPortCount == 0
    }

    func stop() async throws {
        try await allowed.stop()
        try await forbidden.stop()
        try await otherPort.stop()
    }
}

@Suite("The connect-time guard, on loopback only")
struct GuardTests {
    @Test("the allowed server is reachable, so the other cases prove something")
    func allowedWorks() async throws {
        let fixture = try await GuardFixture.make()
        let result = await fixture.check(fixture.allowed.url("/"))
        #expect(result.status == .up)
        #expect(try await fixture.allowed.settledConnections() == 1)
        #expect(try await fixture.untouched())
        try await fixture.stop()
    }

    @Test("no spelling of a denied address gets a connection through", arguments: [
        ("http://127.0.0.2:PORT/", ErrorClass.blocked), ("http://2130706434:PORT/", .blocked), ("http://0x7f000002:PORT/", .blocked),
        ("http://0177.0.0.2:PORT/", .blocked), ("http://127.2:PORT/", .blocked), ("http://0x7f.0.0.2:PORT/", .blocked),
        ("http://127.000.000.002:PORT/", .blocked), ("http://[::ffff:127.0.0.2]:PORT/", .blocked),
        ("http://[::ffff:7f00:2]:PORT/", .blocked), ("http://[::127.0.0.2]:PORT/", .blocked), ("HTTP://127.0.0.2:PORT/", .blocked),
        ("http://127.0.0.1:OTHER/", .blocked), ("http://[::1]:PORT/", .blocked), ("http://0.0.0.0:PORT/", .blocked),
        ("http://localhost:OTHER/", .dns), ("http://ⓛocalhost:OTHER/", .dns), ("http://[fe80::1%25lo]:PORT/", .blocked),
        // glibc does not resolve these trailing-dot forms; a resolver that did would still be judged.
        ("http://127.0.0.2.:PORT/", .dns), ("http://127.0.0.1%2e:OTHER/", .dns),
        ("http://127.0.0.1@127.0.0.2:PORT/", .invalidTarget),
    ])
    func spellings(template: String, expected: ErrorClass) async throws {
        let fixture = try await GuardFixture.make()
        let url = template.replacingOccurrences(of: "PORT", with: String(fixture.allowed.port))
            .replacingOccurrences(of: "OTHER", with: String(fixture.otherPort.port))
        let result = await fixture.check(url)
        #expect(result.status == .down && result.errorClass == expected, "\(url): \(result)")
        #expect(try await fixture.untouched(), "\(url) reached a forbidden server")
        try await fixture.stop()
    }

    @Test("a name whose only answers are denied fails exactly like a name that does not exist")
    func deniedAnswers() async throws {
        let fixture = try await GuardFixture.make()
        let resolver = TableResolver(["evil.test": [["127.0.0.2", "::1", "169.254.169.254"]]])
        let result = await fixture.check("http://evil.test:\(fixture.allowed.port)/", resolver: resolver)
        let unknown = await fixture.check("http://unknown.test:\(fixture.allowed.port)/", resolver: resolver)
        #expect(result.errorClass == .dns && unknown.errorClass == .dns)
        #expect(result.message == "cannot resolve evil.test" && unknown.message == "cannot resolve unknown.test")
        #expect(try await fixture.untouched())
        try await fixture.stop()
    }

    @Test("with the operator's detail flag, the message names the kinds of range, never the addresses")
    func deniedAnswersInDetail() async throws {
        let fixture = try await GuardFixture.make()
        let resolver = TableResolver(["evil.test": [["127.0.0.2", "::1", "169.254.169.254"]]])
        let network = Network(policy: fixture.policy, resolver: resolver, revealsDNSDetail: true)
        let monitor = Monitor(id: 1, name: "t", type: "http", target: "http://evil.test:\(fixture.allowed.port)/", intervalSeconds: 30, timeoutMilliseconds: 5000)
        let result = await StandardProbe(network: network).check(try CheckSpec(monitor: monitor))
        #expect(result.errorClass == .blocked)
        let message = try #require(result.message)
        #expect(message.contains("loopback") && message.contains("link-local"), "\(message)")
        #expect(!message.contains("127.0.0.2") && !message.contains("::1") && !message.contains("169.254"), "internal answers leaked: \(message)")
        #expect(try await fixture.untouched())
        try await fixture.stop()
    }

    @Test("when a name has several addresses, the denied ones are skipped, never connected")
    func multipleAnswers() async throws {
        let fixture = try await GuardFixture.make()
        let resolver = TableResolver(["mixed.test": [["127.0.0.2", "127.0.0.1"]]])
        let result = await fixture.check("http://mixed.test:\(fixture.allowed.port)/", resolver: resolver)
        #expect(result.status == .up)
        #expect(try await fixture.allowed.settledConnections() == 1)
        #expect(try await fixture.untouched())
        try await fixture.stop()
    }

    @Test("DNS rebinding: the name is resolved once and the checked address is the one connected to")
    func rebinding() async throws {
        let fixture = try await GuardFixture.make()
        // First answer allowed, every later answer the forbidden server: a second lookup would be caught.
        let resolver = TableResolver(["rebind.test": [["127.0.0.1"], ["127.0.0.2"]]])
        let result = await fixture.check("http://rebind.test:\(fixture.allowed.port)/", resolver: resolver)
        #expect(result.status == .up)
        #expect(resolver.callCount == 1)
        #expect(try await fixture.allowed.settledConnections() == 1)
        #expect(try await fixture.untouched())
        try await fixture.stop()
    }

    @Test("proxy variables in the environment are ignored")
    func proxiesIgnored() async throws {
        let fixture = try await GuardFixture.make()
        let proxy = "http://127.0.0.2:\(fixture.allowed.port)"
        let names = ["HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "http_proxy", "https_proxy", "all_proxy"]
        for name in names { setenv(name, proxy, 1) }
        setenv("NO_PROXY", "", 1)
        defer { for name in names + ["NO_PROXY"] { unsetenv(name) } }
        let result = await fixture.check(fixture.allowed.url("/"))
        #expect(result.status == .up)
        #expect(try await fixture.allowed.settledConnections() == 1)
        #expect(try await fixture.untouched())
        try await fixture.stop()
    }

    @Test("port checks go through the same guard")
    func portChecks() async throws {
        let fixture = try await GuardFixture.make()
        let network = Network.hermetic(fixture.policy)
        for target in ["127.0.0.2:\(fixture.allowed.port)", "127.0.0.1:\(fixture.otherPort.port)", "[::ffff:127.0.0.2]:\(fixture.allowed.port)"] {
            let spec = try CheckSpec(monitor: Monitor(id: 1, name: "p", type: "port", target: target, intervalSeconds: 30, timeoutMilliseconds: 5000))
            let result = await StandardProbe(network: network).check(spec)
            #expect(result.errorClass == .blocked, "\(target): \(result)")
        }
        #expect(try await fixture.untouched())
        try await fixture.stop()
    }
}

@Suite("Redirects")
struct RedirectTests {
    func check(_ url: String, settings: String = "{}", policy: AddressPolicy) async throws -> CheckResult {
        let monitor = Monitor(id: 1, name: "r", type: "http", target: url, intervalSeconds: 30, timeoutMilliseconds: 5000, settings: settings)
        return await StandardProbe(network: .hermetic(policy)).check(try CheckSpec(monitor: monitor))
    }

    @Test("up to three redirects are followed and recorded; a fourth is refused")
    func hopLimit() async throws {
        let fixture = try await GuardFixture.make()
        let three = try await check(fixture.allowed.url("/redirect/3"), policy: fixture.policy)
        #expect(three.status == .up && three.httpStatus == 200)
        #expect(three.details?.redirects == ["/redirect/2", "/redirect/1", "/redirect/0"].map { fixture.allowed.url($0) })
        let four = try await check(fixture.allowed.url("/redirect/4"), policy: fixture.policy)
        #expect(four.errorClass == .redirects && four.details?.redirects?.count == 3)
        let loop = try await check(fixture.allowed.url("/loop"), policy: fixture.policy)
        #expect(loop.errorClass == .redirects)
        #expect(try await fixture.allowed.settledConnections() == 4 + 4 + 4)
        try await fixture.stop()
    }

    @Test("every hop goes through the guard: redirects into denied addresses are blocked", arguments: [
        "http://127.0.0.2:PORT/", "http://127.0.0.1:OTHER/", "http://[::ffff:127.0.0.2]:PORT/", "http://2130706434:PORT/",
    ])
    func redirectIntoDenied(target: String) async throws {
        let fixture = try await GuardFixture.make()
        let location = target.replacingOccurrences(of: "PORT", with: String(fixture.allowed.port))
            .replacingOccurrences(of: "OTHER", with: String(fixture.otherPort.port))
        let result = try await check(fixture.allowed.url("/redirect-to?\(location)"), policy: fixture.policy)
        #expect(result.errorClass == .blocked, "\(result)")
        #expect(result.details?.redirects?.count == 1)
        #expect(try await fixture.untouched())
        try await fixture.stop()
    }

    @Test("redirects to other schemes are refused", arguments: ["ftp://example.com/", "file:///etc/passwd", "gopher://127.0.0.2:70/"])
    func otherSchemes(location: String) async throws {
        let fixture = try await GuardFixture.make()
        let result = try await check(fixture.allowed.url("/redirect-to?\(location)"), policy: fixture.policy)
        #expect(result.errorClass == .redirects, "\(result)")
        #expect(try await fixture.untouched())
        try await fixture.stop()
    }

    @Test("303 continues with GET and no body; 307 repeats the method and body")
    func methods() async throws {
        let fixture = try await GuardFixture.make()
        let post = #"{"method":"POST","body":"hello","keyword":"method"}"#
        let seeOther = try await check(fixture.allowed.url("/see-other/303"), settings: post, policy: fixture.policy)
        #expect(seeOther.status == .up)
        let temporary = try await check(fixture.allowed.url("/see-other/307"), settings: #"{"method":"POST","body":"hello","keyword":"method POST body 5"}"#, policy: fixture.policy)
        #expect(temporary.status == .up, "\(temporary)")
        let wrong = try await check(fixture.allowed.url("/see-other/303"), settings: #"{"method":"POST","body":"hello","keyword":"method POST"}"#, policy: fixture.policy)
        #expect(wrong.errorClass == .keyword)
        try await fixture.stop()
    }

    @Test("a redirect status that is expected is not followed")
    func expectedRedirect() async throws {
        let fixture = try await GuardFixture.make()
        let result = try await check(fixture.allowed.url("/redirect/2"), settings: #"{"expected_status":"302"}"#, policy: fixture.policy)
        #expect(result.status == .up && result.httpStatus == 302 && result.details == nil)
        try await fixture.stop()
    }
}

@Suite("The connect-time guard and the runner's own addresses, on loopback only")
struct OwnAddressGuardTests {
    @Test("an address of the runner is refused even inside an allowed range, and never connected to")
    func ownAddress() async throws {
        let fixture = try await GuardFixture.make()
        // 127.0.0.0/8 allowed, with 127.0.0.2 standing for the runner's public interface address.
        let policy = AddressPolicy(allow: [try #require(AddressPolicy.Rule("127.0.0.0/8"))])
        let network = Network(policy: policy, resolver: HermeticResolver(["own.test": ["127.0.0.2"]]),
                              local: LocalAddresses(fixed: [try #require(IPAddress("127.0.0.2"))]))
        func check(_ url: String) async throws -> CheckResult {
            let monitor = Monitor(id: 1, name: "t", type: "http", target: url, intervalSeconds: 30, timeoutMilliseconds: 5000)
            return await StandardProbe(network: network).check(try CheckSpec(monitor: monitor))
        }
        let literal = try await check("http://127.0.0.2:\(fixture.allowed.port)/")
        #expect(literal.errorClass == .blocked && literal.message == "127.0.0.2 is an address of the runner itself")
        #expect(try await check("http://own.test:\(fixture.allowed.port)/").errorClass == .dns)
        #expect(try await check("http://127.0.0.1:\(fixture.allowed.port)/").status == .up)
        #expect(try await fixture.forbidden.settledConnections() == 0)
        try await fixture.stop()
    }
}
