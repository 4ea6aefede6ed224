import Dispatch
import Foundation
import UptickEngine

/// Turns SIGINT and SIGTERM into a ``StopSignal``: the first asks for a graceful stop.
public final class SignalTrap {
    private let sources: [any DispatchSourceSignal]

    public init(stop: StopSignal) {
        sources = [SIGINT, SIGTERM].map { number in
            signal(number, SIG_IGN)
            let source = DispatchSource.makeSignalSource(signal: number, queue: .global())
            source.setEventHandler { stop.stop() }
            source.resume()
            return source
        }
    }

    deinit {
        for source in sources { source.cancel() }
    }
}
