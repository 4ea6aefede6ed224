import Logging
import Synchronization
import UptickApp
import UptickCore
@testable import UptickEngine
import UptickProbes
import UptickStore
import UptickTestSupport

/// Builds engines on a temporary database for tests.
struct Harness {
    let db: TemporaryDatabase
    var configuration = EngineConfiguration(runnerID: "test-runner")

    static func make() async throws -> Harness {
        Harness(db: try await TemporaryDatabase.make())
    }

    /// The engine as ``Assembly`` wires it for production, with the test's configuration, probe, clock and sink.
    func engine(
        probe: any Probe = StandardProbe(network: .testLoopback), clock: any WallClock = SystemClock(), store: (any StoreBackend)? = nil,
        sink: any TransitionSink = RecordingSink(), observer: any EngineObserver = NoObserver(),
        onCommit: @escaping @Sendable ([CheckOutcome]) -> Void = { _ in }
    ) -> Engine {
        assembly(store: store).engine(for: .daemon, configuration: configuration, probe: probe, clock: clock, sink: sink,
                                      observer: observer, onCommit: onCommit)
    }

    /// The composition root on this database.
    func assembly(store: (any StoreBackend)? = nil) -> Assembly {
        Assembly(configuration: RunnerConfiguration(), store: store ?? db.store, network: .testLoopback,
                 spool: Spool(path: db.path + ".spool"), logger: Logger(label: "test"))
    }
}

/// Keeps the outcomes it is told about.
final class RecordingSink: TransitionSink {
    let received = Mutex<[CheckOutcome]>([])
    func statusChanged(_ outcomes: [CheckOutcome]) async { received.withLock { $0 += outcomes } }
}

/// Tells when the engine has nothing in hand: every check it claimed has been committed (the load it last reported
/// after an event was no check in flight and no result waiting).
final class IdleSignal: EngineObserver {
    private let state = Mutex<(isIdle: Bool, waiting: [CheckedContinuation<Void, Never>])>((true, []))

    /// Returns once the engine is idle (at once if it is).
    func idle() async {
        await withCheckedContinuation { continuation in
            let isIdle = state.withLock { state in
                if !state.isIdle { state.waiting.append(continuation) }
                return state.isIdle
            }
            if isIdle { continuation.resume() }
        }
    }

    func load(inFlight: Int, pending: Int) {
        let woken = state.withLock { state in
            state.isIdle = inFlight == 0 && pending == 0
            guard state.isIdle else { return [CheckedContinuation<Void, Never>]() }
            defer { state.waiting = [] }
            return state.waiting
        }
        for continuation in woken { continuation.resume() }
    }

    func claimed(_ count: Int?, took: Duration, at: EpochMilliseconds) {}
    func checked(_ claimed: ClaimedMonitor, _ outcome: CheckOutcome) {}
    func committed(_ count: Int, failed: Bool, took: Duration, at: EpochMilliseconds) {}
}

/// Wraps a probe: counts checks in flight (and the most at once) and reports each start on a stream.
final class InstrumentedProbe: Probe {
    let inner: any Probe
    private let state = Mutex((current: 0, peak: 0))
    let starts: AsyncStream<Int64>
    private let startContinuation: AsyncStream<Int64>.Continuation

    init(_ inner: any Probe) {
        self.inner = inner
        (starts, startContinuation) = AsyncStream.makeStream()
    }

    var peak: Int { state.withLock { $0.peak } }

    func check(_ spec: CheckSpec) async -> CheckResult {
        state.withLock { state in
            state.current += 1
            state.peak = max(state.peak, state.current)
        }
        startContinuation.yield(spec.monitorID)
        defer { state.withLock { $0.current -= 1 } }
        return await inner.check(spec)
    }
}

/// A probe that never returns and ignores cancellation: only the engine's hard deadline can end it.
struct StuckProbe: Probe {
    func check(_ spec: CheckSpec) async -> CheckResult {
        await withUnsafeContinuation { (_: UnsafeContinuation<Void, Never>) in }
        return .down(.other, "unreachable")
    }
}


/// Holds every check until ``open()``, then answers `up`.
final class GateProbe: Probe {
    private let state = Mutex<(isOpen: Bool, waiting: [CheckedContinuation<Void, Never>])>((false, []))

    func open() {
        let waiting = state.withLock { state in
            state.isOpen = true
            defer { state.waiting = [] }
            return state.waiting
        }
        for continuation in waiting { continuation.resume() }
    }

    func check(_ spec: CheckSpec) async -> CheckResult {
        await withCheckedContinuation { continuation in
            let isOpen = state.withLock { state in
                if !state.isOpen { state.waiting.append(continuation) }
                return state.isOpen
            }
            if isOpen { continuation.resume() }
        }
        return CheckResult(status: .up, durationMicroseconds: 1)
    }
}

/// Answers `up` at once, without touching the network.
struct StubProbe: Probe {
    func check(_ spec: CheckSpec) async -> CheckResult {
        CheckResult(status: .up, durationMicroseconds: 1)
    }
}
