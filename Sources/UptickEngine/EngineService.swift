import ServiceLifecycle
package import UptickCore

/// The engine as a lifecycle service: ``Engine/run(carriedOver:)`` until the group shuts down (or the task
/// is cancelled), then `finished` with the report, whose ``EngineReport/unpersisted`` the caller must keep.
package struct EngineService: Service {
    let engine: Engine
    let carriedOver: [CheckOutcome]
    let finished: @Sendable (EngineReport) async -> Void

    package init(engine: Engine, carriedOver: [CheckOutcome] = [], finished: @escaping @Sendable (EngineReport) async -> Void) {
        self.engine = engine
        self.carriedOver = carriedOver
        self.finished = finished
    }

    package func run() async {
        await finished(await engine.run(carriedOver: carriedOver))
    }
}
