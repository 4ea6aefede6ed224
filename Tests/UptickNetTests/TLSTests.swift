import Foundation
import NIOSSL
import Testing
import UptickCore
import UptickEngine
import UptickNet
import UptickProbes
import UptickTargets
import UptickTestSupport

/// HTTPS and TLS port checks against servers on 127.0.0.1 with certificates made for this run.
@Suite("TLS")
struct TLSTests {
    let authority: TestCertificateAuthority
    let policy = AddressPolicy.testLoopback

    init() throws {
        authority = try TestCertificateAuthority()
    }

    /// A network that trusts this run's CA (and nothing else), resolving `wrong.test` to 127.0.0.1.
    var network: Network {
        Network(policy: policy, resolver: HermeticResolver(["wrong.test": ["127.0.0.1"]]), tlsTrustRoots: .certificates([authority.certificate]))
    }

    func check(_ target: String, type: String = "http", settings: String = "{}", timeout: Int64 = 10_000) async -> CheckResult {
        let monitor = Monitor(id: 1, name: "t", type: type, target: target, intervalSeconds: 30, timeoutMilliseconds: timeout, settings: settings)
        return await CheckRunner(probe: StandardProbe(network: network)).check(monitor)
    }

    func server(_ identity: TestIdentity) async throws -> LoopbackServer {
        try await LoopbackServer.https(identity: identity)
    }

    @Test("a valid certificate: up, with the TLS time, the days left and the protocol")
    func valid() async throws {
        let server = try await server(authority.issue(notAfter: Date() + 100 * 86_400 + 3600))
        let result = await check(server.url("/", scheme: "https").replacingOccurrences(of: "127.0.0.1", with: "localhost"))
        #expect(result.status == .up && result.httpStatus == 200, "\(result)")
        let tls = try #require(result.details?.tls)
        #expect(tls.daysLeft == 100 && tls.verified && tls.version == "TLSv1.3")
        #expect(result.timings.tlsMicroseconds != nil && result.timings.connectMicroseconds != nil)
        // By IP address too: the certificate carries 127.0.0.1.
        #expect(await check(server.url("/", scheme: "https")).status == .up)
        try await server.stop()
    }

    @Test("invalid certificates are 'certificate' failures when validation is on", arguments: ["self-signed", "expired", "not-yet-valid", "wrong-name"])
    func invalid(kind: String) async throws {
        let identity: TestIdentity
        switch kind {
        case "self-signed": identity = try authority.issue(selfSigned: true)
        case "expired": identity = try authority.issue(notBefore: Date() - 30 * 86_400, notAfter: Date() - 2 * 86_400)
        case "not-yet-valid": identity = try authority.issue(notBefore: Date() + 86_400, notAfter: Date() + 30 * 86_400)
        default: identity = try authority.issue(names: ["localhost"], addresses: [])
        }
        let server = try await server(identity)
        let host = kind == "wrong-name" ? "wrong.test" : "localhost"
        let result = await check("https://\(host):\(server.port)/")
        #expect(result.status == .down && result.errorClass == .certificate, "\(kind): \(result)")
        try await server.stop()
    }

    @Test("with validation off, an expired certificate is reported by its expiry, as configured")
    func expiredUnverified() async throws {
        let server = try await server(try authority.issue(notBefore: Date() - 30 * 86_400, notAfter: Date() - 2 * 86_400 - 60, selfSigned: true))
        let url = server.url("/", scheme: "https")
        let degraded = await check(url, settings: #"{"tls_verify":false}"#)
        #expect(degraded.status == .degraded && degraded.errorClass == .certificateExpiry, "\(degraded)")
        #expect(degraded.details?.tls?.daysLeft == -3 && degraded.details?.tls?.verified == false)
        let down = await check(url, settings: #"{"tls_verify":false,"tls_expiry_status":"down"}"#)
        #expect(down.status == .down && down.errorClass == .certificateExpiry)
        try await server.stop()
    }

    @Test("a certificate expiring within the threshold is degraded; the threshold is per monitor")
    func expiringSoon() async throws {
        let server = try await server(try authority.issue(notAfter: Date() + 5 * 86_400 + 3600))
        let url = server.url("/", scheme: "https")
        let soon = await check(url)
        #expect(soon.status == .degraded && soon.errorClass == .certificateExpiry && soon.message?.contains("5 days") == true, "\(soon)")
        #expect(await check(url, settings: #"{"tls_expiry_days":3}"#).status == .up)
        #expect(await check(url, settings: #"{"tls_expiry_days":0}"#).status == .up)
        try await server.stop()
    }

    @Test("a TLS handshake that never completes ends at the deadline")
    func silentHandshake() async throws {
        let server = try await LoopbackServer.hostile(.silent)
        let result = await check(server.url("/", scheme: "https"), timeout: 500)
        #expect(result.errorClass == .timeout, "\(result)")
        #expect(result.durationMicroseconds < 500_000 + 5_000_000)
        try await server.stop()
    }

    @Test("speaking TLS to a plain HTTP server is a 'tls' failure")
    func notTLS() async throws {
        let server = try await LoopbackServer.http()
        let result = await check(server.url("/", scheme: "https"))
        #expect(result.errorClass == .tls, "\(result)")
        try await server.stop()
    }

    @Test("port checks can make a TLS handshake, judged the same way")
    func portTLS() async throws {
        // An hour past 100 days, so the days left cannot round either way while the test runs.
        let good = try await server(try authority.issue(notAfter: Date() + 100 * 86_400 + 3600))
        let result = await check("localhost:\(good.port)", type: "port", settings: #"{"tls":true}"#)
        #expect(result.status == .up && result.details?.tls?.daysLeft == 100 && result.timings.tlsMicroseconds != nil, "\(result)")
        let bad = try await server(try authority.issue(selfSigned: true))
        #expect(await check("localhost:\(bad.port)", type: "port", settings: #"{"tls":true}"#).errorClass == .certificate)
        #expect(await check("localhost:\(bad.port)", type: "port").status == .up)  // without tls, only the connect counts
        try await good.stop()
        try await bad.stop()
    }

    @Test("bad TLS settings are invalid monitors", arguments: [#"{"tls_expiry_days":-1}"#, #"{"tls_expiry_status":"maybe"}"#])
    func badSettings(settings: String) async {
        #expect(await check("https://localhost/", settings: settings).errorClass == .invalidMonitor)
    }
}
