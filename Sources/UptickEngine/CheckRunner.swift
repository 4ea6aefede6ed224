import UptickCore
import UptickProbes

/// One check of one monitor as the engine runs it: decode the row, probe within the hard deadline.
/// `uptick check` uses it too, so a one-off check takes exactly the engine's path.
public struct CheckRunner: Sendable {
    let probe: any Probe

    public init(probe: any Probe) {
        self.probe = probe
    }

    /// The result; a row that cannot be decoded is a `down` result of its error class, never an error.
    public func check(_ monitor: Monitor) async -> CheckResult {
        await check(Result { () throws(CheckFailure) in try CheckSpec(monitor: monitor) })
    }

    /// The result of an already decoded monitor (see `SpecCache`).
    func check(_ decoded: Result<CheckSpec, CheckFailure>) async -> CheckResult {
        switch decoded {
        case .failure(let failure):
            return .down(failure.errorClass, failure.message)
        case .success(let spec):
            let limit = Duration.milliseconds(spec.timeoutMilliseconds)
            return await withHardDeadline(limit) { [probe] in
                await probe.check(spec)
            } fallback: {
                .down(.timeout, "no result within \(spec.timeoutMilliseconds) ms", durationMicroseconds: limit.wholeMicroseconds)
            }
        }
    }
}
