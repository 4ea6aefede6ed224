package import UptickCore

/// Runs one check of one target. Never throws: whatever the target does becomes a ``CheckResult``.
package protocol Probe: Sendable {
    /// Checks `spec`'s target, finishing within `spec.timeoutMilliseconds`.
    func check(_ spec: CheckSpec) async -> CheckResult
}
