import Foundation
import NIOCore
import UptickCore
import UptickNet

/// ICMP echo: up when every request is answered, degraded on partial loss, down when none is.
struct PingProbe {
    let network: Network
    let icmp: ICMPEcho

    /// Requests are this far apart, or closer when the timeout is short, so they all fit in half of it.
    static let interval: TimeAmount = .milliseconds(200)

    func check(host: String, count: Int, deadline: NIODeadline) async -> CheckResult {
        let address: SocketAddress
        let timings: PhaseTimings
        do {
            let allowed = try await network.allowedAddresses(host: host, port: 0, deadline: deadline)
            address = allowed.addresses[0]
            timings = allowed.timings
        } catch {
            return error.result
        }
        let budget = deadline - .now()
        let interval = min(Self.interval, .nanoseconds(budget.nanoseconds / Int64(2 * max(count, 1))))
        let statistics: ICMPEcho.Statistics
        do {
            statistics = try await icmp.ping(address, count: count, interval: interval, deadline: deadline)
        } catch {
            return CheckResult(status: .down, errorClass: error.errorClass, message: error.message, timings: timings, durationMicroseconds: 0)
        }
        let ping = PingStatistics(address: statistics.address, sent: statistics.sent, roundTrips: statistics.roundTrips)
        let unsent = statistics.sendErrors.isEmpty ? "" : " (could not send: \(statistics.sendErrors.joined(separator: "; ")))"
        var result = CheckResult(status: .up, timings: timings, durationMicroseconds: 0, details: CheckDetails(ping: ping))
        let average = ping.rttAvgMicroseconds.map { String(format: "%.2f ms", Double($0) / 1000) } ?? "-"
        switch ping.received {
        case 0:
            result.status = .down
            result.errorClass = .timeout
            result.message = "no reply to \(ping.sent) echo requests to \(ping.address)" + unsent
        case ping.sent:
            result.message = "\(ping.received)/\(ping.sent) replies from \(ping.address), avg \(average)"
        default:
            result.status = .degraded
            result.errorClass = .packetLoss
            result.message = String(format: "%.0f%% packet loss (%d/%d replies from %@), avg %@", ping.lossPercent, ping.received, ping.sent, ping.address, average) + unsent
        }
        return result
    }
}
