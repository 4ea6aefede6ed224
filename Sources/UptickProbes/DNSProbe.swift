import NIOCore
import UptickCore
import UptickNet

/// A name lookup: up when the name has addresses of the asked kind and they include every expected one.
///
/// Answers outside the address policy are neither shown nor compared: a DNS check must not become a way
/// to read our internal DNS, so a name that resolves only to such addresses is `blocked` like any other.
struct DNSProbe {
    let network: Network

    func check(_ check: DNSCheck) async -> CheckResult {
        var timings = PhaseTimings()
        let start = NIODeadline.now()
        let addresses: [SocketAddress]
        do {
            addresses = try await network.resolve(host: check.host, port: 0)
        } catch {
            return .down(error.errorClass, error.message)
        }
        timings.dnsMicroseconds = (NIODeadline.now() - start).nanoseconds / 1000
        let records = addresses.filter { address in
            switch check.record {
            case .a: address.protocol == .inet
            case .aaaa: address.protocol == .inet6
            case .any: true
            }
        }
        guard !records.isEmpty else {
            return CheckResult(status: .down, errorClass: .dns, message: "\(check.host) has no \(check.record.rawValue) records",
                               timings: timings, durationMicroseconds: 0)
        }
        let (allowed, denied) = network.judge(records, port: 0)
        guard !allowed.isEmpty else {
            let failure = network.blockedFailure(host: check.host, denied: denied)
            return CheckResult(status: .down, errorClass: failure.errorClass, message: failure.message, timings: timings, durationMicroseconds: 0)
        }
        var answers: [String] = []
        for address in allowed {
            if let ip = IPAddress(address)?.description, !answers.contains(ip) { answers.append(ip) }
        }
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
