import Foundation

/// Names this process in `checks.runner`: `UPTICK_RUNNER_ID`, else `hostname:pid`.
package enum Runner {
    /// This build's version (`uptick_build_info`, `uptick --version`).
    package static let version = "0.14.0"

    package static var identity: String {
        if let id = ProcessInfo.processInfo.environment["UPTICK_RUNNER_ID"], !id.isEmpty { return id }
        return "\(ProcessInfo.processInfo.hostName):\(ProcessInfo.processInfo.processIdentifier)"
    }
}
