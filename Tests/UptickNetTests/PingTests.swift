import Foundation
import Synchronization
import Testing
import UptickCore
@testable import UptickNet
import UptickProbes
import UptickTestSupport

/// Whether this process may open an ICMP socket of `kind` (datagram needs net.ipv4.ping_group_range to
/// include our group; raw needs CAP_NET_RAW). CI enables both inside its network namespace.
func canOpen(_ kind: ICMPEcho.SocketKind) -> Bool {
    let descriptor = ICMPEcho.systemOpener(AF_INET, kind)
    if descriptor >= 0 { close(descriptor) }
    return descriptor >= 0
}

/// Opens only sockets of `kind`, so each kind is tested on its own.
func only(_ kind: ICMPEcho.SocketKind) -> ICMPEcho.Opener {
    { family, requested in requested == kind ? ICMPEcho.systemOpener(family, requested) : -EPERM }
}

@Suite("Ping (ICMP echo to 127.0.0.1 and ::1 only)")
struct PingTests {
    let policy = AddressPolicy(allow: [AddressPolicy.Rule("127.0.0.1/32")!, AddressPolicy.Rule("::1/128")!])

    func ping(_ host: String, count: Int = 3, timeout: Int64 = 10_000, opener: @escaping ICMPEcho.Opener = ICMPEcho.systemOpener) async throws -> CheckResult {
        let monitor = Monitor(id: 1, name: "p", type: "ping", target: host, intervalSeconds: 30, timeoutMilliseconds: timeout,
                              settings: #"{"ping_count":\#(count)}"#)
        return await StandardProbe(network: .hermetic(policy), icmpOpener: opener).check(try CheckSpec(monitor: monitor))
    }

    @Test("raw sockets: every echo request to loopback is answered", .enabled(if: canOpen(.raw)), arguments: ["127.0.0.1", "::1"])
    func raw(host: String) async throws {
        let result = try await ping(host, opener: only(.raw))
        #expect(result.status == .up, "\(result)")
        let stats = try #require(result.details?.ping)
        #expect(stats.sent == 3 && stats.received == 3 && stats.lossPercent == 0 && stats.address == host)
        let (rttMin, rttAvg, rttMax) = (try #require(stats.rttMinMicroseconds), try #require(stats.rttAvgMicroseconds), try #require(stats.rttMaxMicroseconds))
        #expect(rttMin <= rttAvg && rttAvg <= rttMax)
    }

    @Test("concurrent pings share one raw socket per family, and each gets exactly its own replies", .enabled(if: canOpen(.raw)))
    func sharedRawSocket() async throws {
        let opened = Mutex(0)
        let counting: ICMPEcho.Opener = { family, kind in
            if kind == .raw { opened.withLock { $0 += 1 } }
            return only(.raw)(family, kind)
        }
        let probe = StandardProbe(network: .hermetic(policy), icmpOpener: counting)
        let results = try await withThrowingTaskGroup(of: CheckResult.self) { group in
            for index in 0..<100 {
                let host = index % 2 == 0 ? "127.0.0.1" : "::1"
                let monitor = Monitor(id: Int64(index), name: "p", type: "ping", target: host, intervalSeconds: 30, timeoutMilliseconds: 5000,
                                      settings: #"{"ping_count":2}"#)
                let spec = try CheckSpec(monitor: monitor)
                group.addTask { await probe.check(spec) }
            }
            return try await group.reduce(into: []) { $0.append($1) }
        }
        #expect(results.count == 100)
        #expect(results.allSatisfy { $0.status == .up && $0.details?.ping?.received == 2 }, "\(results.filter { $0.status != .up })")
        #expect(opened.withLock { $0 } == 2)  // one raw socket for IPv4, one for IPv6
    }

    @Test("unprivileged datagram sockets: the same", .enabled(if: canOpen(.datagram)), arguments: ["127.0.0.1", "::1"])
    func datagram(host: String) async throws {
        let result = try await ping(host, count: 2, opener: only(.datagram))
        #expect(result.status == .up && result.details?.ping?.received == 2, "\(result)")
    }

    @Test("where no ICMP socket may be opened the check is 'unsupported', with advice")
    func unsupported() async throws {
        let result = try await ping("127.0.0.1", opener: { _, _ in -EPERM })
        #expect(result.errorClass == .unsupported && result.message?.contains("port check") == true)
    }

    @Test("denied addresses are never pinged: no ICMP socket is even opened")
    func blocked() async throws {
        let opened = Mutex(0)
        let counting: ICMPEcho.Opener = { family, kind in
            opened.withLock { $0 += 1 }
            return ICMPEcho.systemOpener(family, kind)
        }
        for host in ["127.0.0.2", "::ffff:127.0.0.2", "169.254.169.254", "fd00:ec2::254"] {
            let result = try await ping(host, opener: counting)
            #expect(result.errorClass == .blocked, "\(host): \(result)")
        }
        #expect(opened.withLock { $0 } == 0)
    }

    @Test("requests that get no reply end as a timeout at the deadline", .enabled(if: canOpen(.raw)))
    func noReply() async throws {
        // A UDP socket in place of the ICMP one: the requests go nowhere, so nothing ever answers.
        let deaf: ICMPEcho.Opener = { family, _ in
            let descriptor = socket(family, Int32(SOCK_DGRAM.rawValue) | Int32(SOCK_NONBLOCK.rawValue), Int32(IPPROTO_UDP))
            return descriptor >= 0 ? descriptor : -errno
        }
        let started = ContinuousClock.now
        let result = try await ping("127.0.0.1", timeout: 500, opener: deaf)
        #expect(result.status == .down && result.errorClass == .timeout && result.details?.ping?.received == 0, "\(result)")
        // Ends at the deadline instead of hanging. The slack is for the full suite's start, when some 60 suites begin at
        // once on two cores: a 0.5 s deadline was seen to end up to 6.2 s later there (0.5 s alone).
        #expect(ContinuousClock.now - started < .milliseconds(500) + .seconds(10))
    }

    @Test("ping_count is bounded", arguments: [0, 11])
    func countBounds(count: Int) async throws {
        let monitor = Monitor(id: 1, name: "p", type: "ping", target: "127.0.0.1", intervalSeconds: 30, timeoutMilliseconds: 1000,
                              settings: #"{"ping_count":\#(count)}"#)
        #expect(throws: CheckFailure.self) { try CheckSpec(monitor: monitor) }
    }
}
