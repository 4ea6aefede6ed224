import Foundation
import Testing
import UptickApp
import UptickCore
import UptickStore

@Suite("Terminal output")
struct OutputTests {
    @Test("the 24-hour bars: one character an hour, oldest first, by the share of checks not down; color only when asked")
    func hourBars() {
        let hour: EpochMilliseconds = 3_600_000
        let now: EpochMilliseconds = 1_764_460_800_000 + 10 * hour + 1_234
        func rollup(_ back: Int64, up: Int64, down: Int64) -> Rollup {
            Rollup(monitorID: 1, periodStart: Rollup.Resolution.hourly.periodStart(now) - back * hour, up: up, degraded: 0, down: down,
                   durationSumMicroseconds: 0, latency: LatencyHistogram())
        }
        let hours = [rollup(23, up: 5, down: 0), rollup(2, up: 3, down: 1), rollup(1, up: 1, down: 3), rollup(0, up: 2, down: 0), rollup(30, up: 0, down: 1)]
        let plain = Output.hourBars(hours, now: now, color: false)
        #expect(plain == "█" + String(repeating: "·", count: 20) + "▅▁█")
        let colored = Output.hourBars(hours, now: now, color: true)
        #expect(colored.hasPrefix("\u{1B}[32m█\u{1B}[0m·") && colored.contains("\u{1B}[33m▅") && colored.contains("\u{1B}[31m▁"))
    }

    @Test("a progress line: done of total with its share, or a bare count")
    func progressLine() {
        #expect(Progress.line("daemon run", done: 12, total: 30, unit: "s") == "daemon run: 12/30 s (40%)")
        #expect(Progress.line("import", done: 7, total: nil, unit: "rows") == "import: 7 rows")
    }
}

@Suite("Writing to a pipe nobody reads", .timeLimit(.minutes(1)))
struct LineWriterTests {
    @Test("writes never wait for the reader: once the buffer is full, lines are dropped and counted, and said once the reader is back")
    func blockedPipe() throws {
        let pipe = Pipe(), noticePipe = Pipe()
        let notices = LineWriter(descriptor: noticePipe.fileHandleForWriting.fileDescriptor, name: "notices")
        let writer = LineWriter(descriptor: pipe.fileHandleForWriting.fileDescriptor, name: "the pipe", capacity: 4_096, notices: notices)
        let line = String(repeating: "x", count: 99)  // 100 bytes with its newline
        // Until the pipe is full (64 KB here): each line goes out, until one cannot.
        var written = 0
        repeat {
            writer.write(line)
            written += 1
        } while writer.flush(within: .milliseconds(100)) && written < 100_000
        #expect(writer.droppedLines == 0 && written < 100_000)
        // Then 2 000 more lines (200 KB) while nobody reads: 4 KB wait in the buffer, the rest is dropped. Each write returns
        // at once (a blocking one would hang this test until its time limit).
        for _ in 0..<2_000 { writer.write(line) }
        written += 2_000
        #expect(writer.droppedLines >= 2_000 - 41)
        #expect(!writer.flush(within: .milliseconds(100)), "nobody reads, so the buffer cannot empty")
        // The reader comes back: everything kept arrives whole, and the notice says how many lines were lost.
        let reader = pipe.fileHandleForReading
        var received = Data()
        let kept = written - writer.droppedLines
        while received.count < kept * 100 { received += reader.availableData }
        #expect(writer.flush(within: .seconds(5)))
        let lines = String(decoding: received, as: UTF8.self).split(separator: "\n", omittingEmptySubsequences: false).dropLast()
        #expect(lines.count == kept && lines.allSatisfy { $0 == line[...] }, "only whole lines")
        #expect(notices.flush(within: .seconds(5)))
        // One notice per stretch of drops (usually one): together they count every dropped line.
        let text = String(decoding: noticePipe.fileHandleForReading.availableData, as: UTF8.self)
        let noticed = text.split(separator: "\n").map { notice -> Int in
            #expect(notice.hasPrefix("uptick: ") && notice.hasSuffix(" lines not written to the pipe: nobody was reading it"), "\(notice)")
            return Int(notice.split(separator: " ")[1]) ?? 0
        }
        #expect(!noticed.isEmpty && noticed.reduce(0, +) == writer.droppedLines, "\(text)")
    }
}
