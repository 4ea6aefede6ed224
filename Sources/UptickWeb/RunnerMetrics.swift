import CoreMetrics
package import Prometheus
import Synchronization
package import UptickCore
import UptickEngine
package import UptickStore

/// What a runner exports on `/metrics` and what `/readyz` judges: the engine's and the deliverer's events recorded
/// through swift-metrics into a Prometheus registry, the last claim and commit, and (opt-in) a bounded set of
/// per-monitor series. Every method is cheap and thread-safe; the engine calls them on its loop and its checks' threads.
package final class RunnerMetrics: EngineObserver, Sendable {
    package let registry = PrometheusCollectorRegistry()
    let factory: CatalogueFactory
    let inFlight: Meter
    let pending: Meter
    let lateness: CoreMetrics.Timer
    let committedResults: CoreMetrics.Counter
    let droppedSeries: CoreMetrics.Counter
    let heartbeat = Mutex(Heartbeat())
    /// The per-monitor series, when asked for.
    let monitors: MonitorSeries?

    /// What readiness looks at.
    package struct Heartbeat: Sendable, Hashable {
        package var lastClaimAt: EpochMilliseconds?
        package var lastClaimFailed = false
        package var lastCommitAt: EpochMilliseconds?
        package var lastCommitFailed = false
        package var inFlight = 0
        package var pending = 0
        /// When results started waiting without a commit landing since (`nil`: none wait).
        package var waitingSince: EpochMilliseconds?

        package init() {}
    }

    /// `monitorSeries`: the most monitors with series of their own (0: none, the default).
    package init(monitorSeries: Int = 0, version: String) {
        factory = CatalogueFactory(registry: registry)
        inFlight = Meter(label: "uptick_checks_in_flight", factory: factory)
        pending = Meter(label: "uptick_results_pending", factory: factory)
        lateness = CoreMetrics.Timer(label: "uptick_schedule_lateness_seconds", factory: factory)
        committedResults = CoreMetrics.Counter(label: "uptick_results_committed_total", factory: factory)
        droppedSeries = CoreMetrics.Counter(label: "uptick_monitor_series_dropped_total", factory: factory)
        monitors = monitorSeries > 0 ? MonitorSeries(limit: monitorSeries) : nil
        Meter(label: "uptick_build_info", dimensions: [("version", version)], factory: factory).set(1)
        inFlight.set(0)
        pending.set(0)
    }

    package var snapshot: Heartbeat { heartbeat.withLock { $0 } }

    static func nanoseconds(_ duration: Duration) -> Int64 {
        duration.components.seconds * 1_000_000_000 + duration.components.attoseconds / 1_000_000_000
    }

    // MARK: EngineObserver

    package func claimed(_ count: Int?, took: Duration, at: EpochMilliseconds) {
        CoreMetrics.Timer(label: "uptick_claim_duration_seconds", dimensions: [("outcome", count == nil ? "error" : "ok")], factory: factory)
            .recordNanoseconds(Self.nanoseconds(took))
        heartbeat.withLock {
            $0.lastClaimFailed = count == nil
            if count != nil { $0.lastClaimAt = at }
        }
    }

    package func checked(_ claimed: ClaimedMonitor, _ outcome: CheckOutcome) {
        let type = claimed.monitor.displayType
        let result = outcome.result
        CoreMetrics.Counter(label: "uptick_checks_total", dimensions: [
            ("type", type), ("status", result.status.rawValue), ("error_class", result.errorClass?.rawValue ?? "none"),
        ], factory: factory).increment()
        CoreMetrics.Timer(label: "uptick_check_duration_seconds", dimensions: [("type", type)], factory: factory)
            .recordMicroseconds(result.durationMicroseconds)
        lateness.recordMilliseconds(max(0, outcome.startedAt - outcome.scheduledAt))
        if let monitors, !monitors.record(claimed.monitor, outcome) { droppedSeries.increment() }
    }

    package func committed(_ count: Int, failed: Bool, took: Duration, at: EpochMilliseconds) {
        CoreMetrics.Timer(label: "uptick_commit_duration_seconds", dimensions: [("outcome", failed ? "error" : "ok")], factory: factory)
            .recordNanoseconds(Self.nanoseconds(took))
        if !failed { committedResults.increment(by: count) }
        heartbeat.withLock {
            $0.lastCommitFailed = failed
            if !failed {
                $0.lastCommitAt = at
                $0.waitingSince = nil
            }
        }
    }

    package func load(inFlight running: Int, pending waiting: Int) {
        inFlight.set(running)
        pending.set(waiting)
        let now = SystemClock().now()
        heartbeat.withLock {
            $0.inFlight = running
            $0.pending = waiting
            if waiting == 0 { $0.waitingSince = nil } else if $0.waitingSince == nil { $0.waitingSince = now }
        }
    }

    // MARK: Delivery

    /// One delivery attempt's outcome, for `uptick_deliveries_total`.
    package func delivered(channelType: String?, _ outcome: DeliveryOutcome) {
        let verdict: String
        switch outcome.verdict {
        case .delivered: verdict = outcome.error == nil ? "delivered" : "skipped"
        case .retry: verdict = "failed"
        case .dead: verdict = "dead"
        case .released: return
        }
        let type = channelType.flatMap { ["webhook", "slack", "discord", "pagerduty", "email"].contains($0) ? $0 : nil } ?? "unknown"
        CoreMetrics.Counter(label: "uptick_deliveries_total", dimensions: [("channel_type", type), ("outcome", verdict)], factory: factory).increment()
    }

    // MARK: Scrape

    /// The name resolver's counters since start (uptick's own resolver keeps them).
    package struct ResolverCounts: Sendable, Hashable {
        package var cache: Int
        package var joined: Int
        package var network: Int
        package var queries: Int
        package var failures: Int

        package init(cache: Int, joined: Int, network: Int, queries: Int, failures: Int) {
            self.cache = cache
            self.joined = joined
            self.network = network
            self.queries = queries
            self.failures = failures
        }

        /// In the text format (counters kept by the resolver, so rendered here rather than registered).
        var exposition: String {
            """
            # HELP uptick_resolver_lookups_total Name lookups, by how they were answered (cache, joined a lookup under way, network).
            # TYPE uptick_resolver_lookups_total counter
            uptick_resolver_lookups_total{result="cache"} \(cache)
            uptick_resolver_lookups_total{result="joined"} \(joined)
            uptick_resolver_lookups_total{result="network"} \(network)
            # HELP uptick_resolver_queries_total DNS queries sent (a lookup sends one per try).
            # TYPE uptick_resolver_queries_total counter
            uptick_resolver_queries_total \(queries)
            # HELP uptick_resolver_failures_total Lookups that went to the network and failed.
            # TYPE uptick_resolver_failures_total counter
            uptick_resolver_failures_total \(failures)

            """
        }
    }

    /// The gauges read at scrape time (`nil`: not known, left out).
    package struct ScrapeValues: Sendable {
        package var outboxPending: Int?
        package var outboxDead: Int?
        package var databaseUp: Bool
        package var spoolBytes: Int?
        package var resolver: ResolverCounts?

        package init(outboxPending: Int? = nil, outboxDead: Int? = nil, databaseUp: Bool, spoolBytes: Int? = nil) {
            self.outboxPending = outboxPending
            self.outboxDead = outboxDead
            self.databaseUp = databaseUp
            self.spoolBytes = spoolBytes
        }
    }

    /// The exposition: the registry's series with `values` set, then the per-monitor series.
    package func exposition(_ values: ScrapeValues, now: EpochMilliseconds) -> String {
        Meter(label: "uptick_database_up", factory: factory).set(values.databaseUp ? 1 : 0)
        if let pending = values.outboxPending { Meter(label: "uptick_outbox_events", dimensions: [("state", "pending")], factory: factory).set(pending) }
        if let dead = values.outboxDead { Meter(label: "uptick_outbox_events", dimensions: [("state", "dead")], factory: factory).set(dead) }
        if let bytes = values.spoolBytes { Meter(label: "uptick_spool_bytes", factory: factory).set(bytes) }
        return registry.emitToString() + (values.resolver?.exposition ?? "") + (monitors?.exposition(now: now) ?? "")
    }
}
