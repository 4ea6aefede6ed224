import Foundation
package import Logging

/// Standard output or standard error for a process that must not stall on them: ``write(_:)`` never blocks. Text
/// goes into a bounded buffer that a thread of its own drains with blocking writes; while nobody reads the pipe (or
/// the terminal is stopped) the buffer fills, and then whole lines are dropped and counted instead of waiting, so
/// claims, commits and signal handling go on. Once the reader is back, one line on standard error says how many
/// were lost.
///
/// A daemon's results and logs go through here (`uptick run` printed each committed batch on the engine's own
/// thread: with a full pipe it stopped committing and ignored SIGTERM). Short commands print directly.
package final class LineWriter: @unchecked Sendable {
    package static let standardError = LineWriter(descriptor: STDERR_FILENO, name: "standard error")
    package static let standardOutput = LineWriter(descriptor: STDOUT_FILENO, name: "standard output", notices: standardError)

    /// Bytes held for a reader that does not keep up (about 5 000 result lines).
    package static let defaultCapacity = 1 << 20

    private let descriptor: Int32
    private let name: String
    private let capacity: Int
    /// Where the count of dropped lines is told (`nil`: in this stream itself).
    private let notices: LineWriter?
    // Guarded by `condition`.
    private let condition = NSCondition()
    private var pending: [UInt8] = []
    private var writing = false
    private var dropped = 0
    private var started = false

    package init(descriptor: Int32, name: String, capacity: Int = LineWriter.defaultCapacity, notices: LineWriter? = nil) {
        self.descriptor = descriptor
        self.name = name
        self.capacity = capacity
        self.notices = notices
    }

    /// Queues `text` plus a newline, or drops it (counted) when the buffer is full. Never waits for the reader.
    package func write(_ text: String) {
        let bytes = Array((text + "\n").utf8)
        condition.lock()
        if !started {
            started = true
            Thread.detachNewThread { [self] in drain() }
        }
        if pending.count + bytes.count <= capacity {
            pending += bytes
        } else {
            dropped += 1
        }
        condition.signal()
        condition.unlock()
    }

    /// Lines dropped so far because the buffer was full.
    package var droppedLines: Int {
        condition.lock()
        defer { condition.unlock() }
        return dropped
    }

    /// Waits until everything queued is written, or `limit` has passed (a reader that never comes back must not keep
    /// the process from exiting). Returns whether it all went out.
    @discardableResult
    package func flush(within limit: Duration) -> Bool {
        let deadline = Date() + Double(limit.components.seconds) + Double(limit.components.attoseconds) / 1e18
        condition.lock()
        defer { condition.unlock() }
        while !pending.isEmpty || writing {
            if !condition.wait(until: deadline) { return false }
        }
        return true
    }

    /// Flushes both standard streams, each within `limit`.
    package static func flushStandardStreams(within limit: Duration = .seconds(2)) {
        standardOutput.flush(within: limit)
        standardError.flush(within: limit)
    }

    private func drain() {
        var reported = 0
        var chunk: [UInt8] = []  // the two buffers are swapped, not copied
        while true {
            condition.lock()
            while pending.isEmpty && dropped == reported { condition.wait() }
            swap(&chunk, &pending)
            let lost = dropped - reported
            reported = dropped
            writing = true
            condition.unlock()
            if lost > 0 {
                let notice = "uptick: \(lost) lines not written to \(name): nobody was reading it\n"
                if let notices { notices.write(String(notice.dropLast())) } else { chunk += Array(notice.utf8) }
            }
            writeAll(chunk)
            chunk.removeAll(keepingCapacity: true)
            condition.lock()
            writing = false
            condition.broadcast()
            condition.unlock()
        }
    }

    private func writeAll(_ bytes: [UInt8]) {
        var offset = 0
        while offset < bytes.count {
            let count = bytes[offset...].withUnsafeBytes { Foundation.write(descriptor, $0.baseAddress, $0.count) }
            if count < 0 {
                if errno == EINTR { continue }
                if errno == EAGAIN || errno == EWOULDBLOCK {
                    // A descriptor someone made non-blocking (Foundation's pipes are): wait here until it takes more.
                    var ready = pollfd(fd: descriptor, events: Int16(POLLOUT), revents: 0)
                    _ = poll(&ready, 1, -1)
                    continue
                }
                return  // closed (EPIPE) or broken: nothing more can go there
            }
            offset += count
        }
    }
}

/// swift-log's handler for uptick's long-running commands: the same line as `StreamLogHandler` (time, level, label,
/// metadata, message), written through ``LineWriter/standardError`` so a blocked standard error never blocks the
/// code that logs.
package struct LineLogHandler: LogHandler {
    package var logLevel: Logger.Level = .info
    package var metadata: Logger.Metadata = [:]
    private let label: String
    private let writer: LineWriter

    package init(label: String, writer: LineWriter = .standardError) {
        self.label = label
        self.writer = writer
    }

    package subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    package func log(event: LogEvent) {
        let all = metadata.merging(event.metadata ?? [:]) { _, new in new }
        let fields = all.isEmpty ? "" : " " + all.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }.joined(separator: " ")
        writer.write("\(Date().formatted(.iso8601)) \(event.level) \(label) :\(fields) \(event.message)")
    }
}
