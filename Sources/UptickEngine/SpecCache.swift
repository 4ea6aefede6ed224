import Synchronization
import UptickCore

/// Decoded checks by the row fields they come from. The same monitors come back every interval, and
/// decoding (settings JSON, URL parsing) costs more than looking up; bounded, and emptied when full.
final class SpecCache: Sendable {
    private struct Key: Hashable {
        var type: String
        var target: String
        var settings: String
        var intervalSeconds: Int64
        var timeoutMilliseconds: Int64
    }

    /// The most distinct monitors remembered (a few hundred bytes each).
    static let capacity = 20_000

    private let entries = Mutex<[Key: Result<CheckSpec, CheckFailure>]>([:])

    /// The monitor as a check (or why it cannot be one), decoded at most once per distinct row content.
    func spec(for monitor: Monitor) -> Result<CheckSpec, CheckFailure> {
        let key = Key(type: monitor.type, target: monitor.target, settings: monitor.settings,
                      intervalSeconds: monitor.intervalSeconds, timeoutMilliseconds: monitor.timeoutMilliseconds)
        var decoded = entries.withLock { $0[key] } ?? {
            let result = Result { () throws(CheckFailure) in try CheckSpec(monitor: monitor) }
            entries.withLock { entries in
                if entries.count >= Self.capacity { entries.removeAll(keepingCapacity: true) }
                entries[key] = result
            }
            return result
        }()
        if case .success(var spec) = decoded {
            spec.monitorID = monitor.id
            decoded = .success(spec)
        }
        return decoded
    }
}
