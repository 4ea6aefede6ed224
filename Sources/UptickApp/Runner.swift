import Foundation

/// Names this process in `checks.runner`: `UPTICK_RUNNER_ID`, else `hostname:pid`.
package enum Runner {
    package static var identity: String {
        if let id = ProcessInfo.processInfo.environment["UPTICK_RUNNER_ID"], !id.isEmpty { return id }
        return "\(ProcessInfo.processInfo.hostName):\(ProcessInfo.processInfo.processIdentifier)"
    }
}
