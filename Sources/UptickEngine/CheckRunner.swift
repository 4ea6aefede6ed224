package import UptickCore
package import UptickProbes

/// One check of one monitor as the engine runs it: decode the row, probe within the hard deadline.
/// `uptick check` uses it too, so a one-off check takes exactly the engine's path.
package struct CheckRunner: Sendable {
    let probe: any Probe

    package init(probe: any Probe) {
        self.probe = probe
    }

    /// The result; a row that cannot be decoded is a `down` result of its error class, never an error.
    package func check(_ monitor: Monitor) async -> CheckResult {
        await check(Result { () throws(CheckFailure) in try CheckSpec(monitor: monitor) })
    }

    /// The result of an already decoded monitor (see `SpecCache`).
    func check(_ decoded: Result<CheckSpec, CheckFailure>) async -> CheckResult {
        await withCheckedContinuation { continuation in
            start(decoded) { continuation.resume(returning: $0) }
        }
    }

    /// Starts the check of an already decoded monitor and calls `deliver` once with its result, on an
    /// event loop thread (see ``startWithHardDeadline(_:operation:fallback:ended:deliver:)``). The engine's
    /// path: no task waits for the check.
    /// `ended` is called once the probe has really returned (after `deliver` when it overran its deadline).
    func start(_ decoded: Result<CheckSpec, CheckFailure>, ended: @escaping @Sendable () -> Void = {},
               deliver: @escaping @Sendable (CheckResult) -> Void) {
        switch decoded {
        case .failure(let failure):
            deliver(.down(failure.errorClass, failure.message))
            ended()
        case .success(let spec):
            let limit = Duration.milliseconds(spec.timeoutMilliseconds)
            startWithHardDeadline(limit, operation: { [probe] in await probe.check(spec) }, fallback: {
                .down(.timeout, "no result within \(spec.timeoutMilliseconds) ms", durationMicroseconds: limit.wholeMicroseconds)
            }, ended: ended, deliver: deliver)
        }
    }
}
