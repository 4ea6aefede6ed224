import Foundation
import Synchronization

/// A progress line on standard error for long commands (`import` of a large file, `uptick-bench` runs), shown only
/// when standard error is a terminal: redirected to a file or a pipe, nothing is written. Updates are throttled to
/// ten a second and overwrite each other (`\r`, clear to end of line); ``finish(_:)`` ends the line.
package final class Progress: Sendable {
    let label: String
    let total: Int?
    let enabled: Bool
    private let lastDrawn = Mutex<ContinuousClock.Instant?>(nil)

    /// `total`: the count that is 100 %, when known.
    package init(_ label: String, total: Int? = nil, enabled: Bool = isatty(STDERR_FILENO) == 1) {
        self.label = label
        self.total = total
        self.enabled = enabled
    }

    /// The line for `done` (pure, for tests).
    package static func line(_ label: String, done: Int, total: Int?, unit: String) -> String {
        guard let total, total > 0 else { return "\(label): \(done) \(unit)" }
        return "\(label): \(done)/\(total) \(unit) (\(min(100, done * 100 / total))%)"
    }

    /// Shows `done` (throttled).
    package func update(_ done: Int, unit: String = "") {
        show(Self.line(label, done: done, total: total, unit: unit), always: false)
    }

    /// Shows a phase in words (always drawn).
    package func show(_ phase: String) {
        show("\(label): \(phase)", always: true)
    }

    private func show(_ text: String, always: Bool) {
        guard enabled else { return }
        let now = ContinuousClock.now
        let due = lastDrawn.withLock { last in
            guard always || last.map({ now - $0 >= .milliseconds(100) }) ?? true else { return false }
            last = now
            return true
        }
        if due { FileHandle.standardError.write(Data(("\r\u{1B}[K" + text).utf8)) }
    }

    /// Ends the line with `note`.
    package func finish(_ note: String) {
        guard enabled else { return }
        FileHandle.standardError.write(Data("\r\u{1B}[K\(label): \(note)\n".utf8))
    }
}
