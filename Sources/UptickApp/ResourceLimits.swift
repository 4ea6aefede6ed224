import Foundation

/// Process limits uptick adjusts at start-up.
package enum ResourceLimits {
    /// Raises the soft limit on open files to the hard limit (allowed for any user), since every check in
    /// flight holds a socket: 10 000 checks in flight need 10 000 descriptors. Returns the new soft limit.
    @discardableResult
    package static func raiseOpenFiles() -> Int {
        var limit = rlimit()
        guard getrlimit(Int32(RLIMIT_NOFILE.rawValue), &limit) == 0 else { return 0 }
        if limit.rlim_cur < limit.rlim_max {
            limit.rlim_cur = limit.rlim_max
            _ = setrlimit(Int32(RLIMIT_NOFILE.rawValue), &limit)
            _ = getrlimit(Int32(RLIMIT_NOFILE.rawValue), &limit)
        }
        return Int(limit.rlim_cur)
    }
}
