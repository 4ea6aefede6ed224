import Foundation

/// What one scenario measured, in its own process (so CPU time and peak memory are its own).
struct Measurement: Codable {
    var scenario: String
    var checks: Int
    var failures: Int
    var seconds: Double
    /// User + system CPU time of the process, microseconds.
    var cpuMicroseconds: Int64
    /// Peak resident set size, kilobytes.
    var peakRSSKilobytes: Int64
    var latenessP50Milliseconds: Int64?
    var latenessP99Milliseconds: Int64?
    var latenessMaxMilliseconds: Int64?
    var databaseRowsPerSecond: Double?

    var checksPerSecond: Double { Double(checks) / seconds }
    var cpuMicrosecondsPerCheck: Double { Double(cpuMicroseconds) / Double(max(checks, 1)) }

    /// This process's CPU time and peak RSS so far.
    static func usage() -> (cpuMicroseconds: Int64, peakRSSKilobytes: Int64) {
        var usage = rusage()
        getrusage(RUSAGE_SELF.rawValue, &usage)
        let cpu = Int64(usage.ru_utime.tv_sec + usage.ru_stime.tv_sec) * 1_000_000 + Int64(usage.ru_utime.tv_usec + usage.ru_stime.tv_usec)
        return (cpu, Int64(usage.ru_maxrss))
    }
}
