import NIOCore
package import UptickCore
package import UptickNet

/// The probes uptick ships, chosen by the check's kind, all through one ``Network``.
package struct StandardProbe: Probe {
    let network: Network
    let icmp: ICMPEcho

    package init(network: Network = Network(), icmpOpener: @escaping ICMPEcho.Opener = ICMPEcho.systemOpener) {
        self.network = network
        self.icmp = ICMPEcho(network: network, opener: icmpOpener)
    }

    package func check(_ spec: CheckSpec) async -> CheckResult {
        let start = NIODeadline.now()
        // End a little before the engine's hard deadline, so a target's timeout is reported by the probe,
        // with its phase timings, and the engine's backstop only ever catches a misbehaving probe.
        let margin = min(25, spec.timeoutMilliseconds / 10)
        let deadline = start + .milliseconds(spec.timeoutMilliseconds - margin)
        var result: CheckResult
        switch spec.kind {
        case .port(let endpoint, let tls):
            result = await PortProbe(network: network).check(endpoint, tls: tls, deadline: deadline)
        case .http(let check):
            result = await HTTPProbe(network: network).check(check, deadline: deadline)
        case .ping(let host, let count):
            result = await PingProbe(network: network, icmp: icmp).check(host: host, count: count, deadline: deadline)
        case .dns(let check):
            result = await DNSProbe(network: network).check(check, deadline: deadline)
        }
        result.durationMicroseconds = (NIODeadline.now() - start).nanoseconds / 1000
        // A ping is as slow as its round trips, not as the spacing between its requests.
        let latency = result.details?.ping?.rttAvgMicroseconds ?? result.durationMicroseconds
        if result.status == .up, let threshold = spec.degradedAfterMilliseconds, latency > threshold * 1000 {
            result.status = .degraded
            result.errorClass = .slow
            result.message = "took \(latency / 1000) ms, slower than \(threshold) ms"
        }
        return result
    }
}
