import NIOCore
import UptickCore
import UptickNet

/// A name lookup: up when the name has addresses of the asked kind and they include every expected one.
///
/// Answers outside the address policy are neither shown nor compared: a DNS check must not become a way
/// to read our internal DNS, so a name that resolves only to such addresses fails exactly like a name that
/// does not exist (see ``Network/unusable(host:denied:)``).
struct DNSProbe {
    let network: Network

    func check(_ check: DNSCheck, deadline: NIODeadline) async -> CheckResult {
        var timings = PhaseTimings()
        let start = NIODeadline.now()
        let families: AddressFamilies = switch check.record {
        case .a: .ipv4
        case .aaaa: .ipv6
        case .any: .both
        }
        let addresses: [IPAddress]
        do {
            addresses = try await network.lookup(check.host, families: families, deadline: deadline)
        } catch {
            timings.dnsMicroseconds = (NIODeadline.now() - start).nanoseconds / 1000
            return CheckResult(status: .down, errorClass: error.errorClass, message: error.message, timings: timings, durationMicroseconds: 0)
        }
        timings.dnsMicroseconds = (NIODeadline.now() - start).nanoseconds / 1000
        let (allowed, denied) = network.judge(addresses, port: 0)
        guard !allowed.isEmpty else {
            let failure = network.unusable(host: check.host, denied: denied)
            return CheckResult(status: .down, errorClass: failure.errorClass, message: failure.message, timings: timings, durationMicroseconds: 0)
        }
        var answers: [String] = []
        for address in allowed where !answers.contains(address.description) { answers.append(address.description) }
        var result = CheckResult(status: .up, message: "\(check.host): \(answers.joined(separator: ", "))", timings: timings,
                                 durationMicroseconds: 0, details: CheckDetails(answers: answers))
        let missing = check.expect.filter { !answers.contains($0) }
        if !missing.isEmpty {
            result.status = .down
            result.errorClass = .dnsMismatch
            result.message = "\(check.host) answered \(answers.joined(separator: ", ")), without \(missing.joined(separator: ", "))"
        }
        return result
    }
}
