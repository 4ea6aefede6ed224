import NIOCore
import UptickCore
import UptickNet

/// The probes uptick ships, chosen by the check's kind, all through one ``Network``.
public struct StandardProbe: Probe {
    let network: Network

    public init(network: Network = Network()) {
        self.network = network
    }

    public func check(_ spec: CheckSpec) async -> CheckResult {
        let start = NIODeadline.now()
        // End a little before the engine's hard deadline, so a target's timeout is reported by the probe,
        // with its phase timings, and the engine's backstop only ever catches a misbehaving probe.
        let margin = min(25, spec.timeoutMilliseconds / 10)
        let deadline = start + .milliseconds(spec.timeoutMilliseconds - margin)
        var result: CheckResult
        switch spec.kind {
        case .port(let endpoint):
            result = await PortProbe(network: network).check(endpoint, deadline: deadline)
        case .http(let check):
            result = await HTTPProbe(network: network).check(check, deadline: deadline)
        case .ping:
            result = .down(.unsupported, "ping checks are not available in this build of uptick yet; use a port check")
        }
        result.durationMicroseconds = (NIODeadline.now() - start).nanoseconds / 1000
        if result.status == .up, let threshold = spec.degradedAfterMilliseconds, result.durationMicroseconds > threshold * 1000 {
            result.status = .degraded
            result.errorClass = .slow
            result.message = "took \(result.durationMicroseconds / 1000) ms, slower than \(threshold) ms"
        }
        return result
    }
}
