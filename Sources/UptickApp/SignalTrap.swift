import Dispatch
import Foundation
import Synchronization
import UptickEngine

/// Turns SIGINT and SIGTERM into a ``StopSignal``: the first asks for a graceful stop; another one at
/// least a second later (an impatient Ctrl-C) exits at once with status 130, leaving uncommitted results
/// to the leases. Repeats within that second are the same request delivered twice (GNU `timeout`
/// signals both the process and its group).
public final class SignalTrap {
    /// Signals closer than this to the first one are duplicates, not a second request.
    static let repeatWindow: TimeInterval = 1

    private let sources: [any DispatchSourceSignal]

    public init(stop: StopSignal) {
        let queue = DispatchQueue(label: "uptick.signals")
        let first = Mutex<Date?>(nil)
        sources = [SIGINT, SIGTERM].map { number in
            signal(number, SIG_IGN)
            let source = DispatchSource.makeSignalSource(signal: number, queue: queue)
            source.setEventHandler {
                guard let firstAt = first.withLock({ first in defer { first = first ?? Date() }; return first }) else {
                    stop.stop()
                    return
                }
                if Date().timeIntervalSince(firstAt) >= Self.repeatWindow {
                    FileHandle.standardError.write(Data("uptick: second signal, exiting now\n".utf8))
                    exit(130)
                }
            }
            source.resume()
            return source
        }
    }

    deinit {
        for source in sources { source.cancel() }
    }
}
