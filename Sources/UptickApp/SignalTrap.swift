import Dispatch
import Foundation
import UptickEngine

/// Turns SIGINT and SIGTERM into a ``StopSignal``: the first asks for a graceful stop, a second one
/// (an impatient Ctrl-C) exits at once with status 130, leaving uncommitted results to the leases.
public final class SignalTrap {
    private let sources: [any DispatchSourceSignal]

    public init(stop: StopSignal) {
        let queue = DispatchQueue(label: "uptick.signals")
        sources = [SIGINT, SIGTERM].map { number in
            signal(number, SIG_IGN)
            let source = DispatchSource.makeSignalSource(signal: number, queue: queue)
            source.setEventHandler {
                if stop.isStopped {
                    FileHandle.standardError.write(Data("uptick: second signal, exiting now\n".utf8))
                    exit(130)
                }
                stop.stop()
            }
            source.resume()
            return source
        }
    }

    deinit {
        for source in sources { source.cancel() }
    }
}
