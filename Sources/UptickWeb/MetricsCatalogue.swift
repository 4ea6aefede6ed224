import CoreMetrics
import Prometheus

/// Every series uptick exports, named by Prometheus' conventions (base units, `_total` for counters, `_seconds` for
/// durations), with its help text. docs/observability.md lists them with their labels.
enum MetricsCatalogue {
    enum Kind {
        case counter, gauge
        case histogram([Duration])
    }

    struct Entry {
        var name: String
        var kind: Kind
        var help: String
    }

    /// Check durations: up to the 10 s deadline.
    static let checkBuckets: [Duration] = [.milliseconds(5), .milliseconds(10), .milliseconds(25), .milliseconds(50), .milliseconds(100),
                                           .milliseconds(250), .milliseconds(500), .seconds(1), .milliseconds(2500), .seconds(5), .seconds(10)]
    /// Schedule lateness: fine at the low end, where a healthy runner is.
    static let latenessBuckets: [Duration] = [.milliseconds(1), .milliseconds(5), .milliseconds(10), .milliseconds(25), .milliseconds(50),
                                              .milliseconds(100), .milliseconds(250), .milliseconds(500), .seconds(1), .milliseconds(2500),
                                              .seconds(5), .seconds(10), .seconds(30), .seconds(60)]
    /// Database round trips.
    static let storeBuckets: [Duration] = [.milliseconds(1), .milliseconds(2), .milliseconds(5), .milliseconds(10), .milliseconds(25),
                                           .milliseconds(50), .milliseconds(100), .milliseconds(250), .milliseconds(500), .seconds(1),
                                           .milliseconds(2500), .seconds(5), .seconds(10)]

    static let entries: [Entry] = [
        Entry(name: "uptick_checks_total", kind: .counter, help: "Checks finished, by monitor type, verdict and error class."),
        Entry(name: "uptick_check_duration_seconds", kind: .histogram(checkBuckets), help: "Check durations, by monitor type."),
        Entry(name: "uptick_schedule_lateness_seconds", kind: .histogram(latenessBuckets), help: "How late checks started after their slot."),
        Entry(name: "uptick_checks_in_flight", kind: .gauge, help: "Checks running now."),
        Entry(name: "uptick_claim_duration_seconds", kind: .histogram(storeBuckets), help: "Claims of due monitors, by outcome."),
        Entry(name: "uptick_commit_duration_seconds", kind: .histogram(storeBuckets), help: "Commits of results, by outcome."),
        Entry(name: "uptick_results_committed_total", kind: .counter, help: "Results committed to the database."),
        Entry(name: "uptick_results_pending", kind: .gauge, help: "Results waiting to be committed (the batch being written included)."),
        Entry(name: "uptick_spool_bytes", kind: .gauge, help: "Size of the spool file of results a previous run could not commit."),
        Entry(name: "uptick_deliveries_total", kind: .counter, help: "Alert delivery attempts, by channel type and outcome."),
        Entry(name: "uptick_outbox_events", kind: .gauge, help: "Alert events in the outbox, by state (pending, dead)."),
        Entry(name: "uptick_database_up", kind: .gauge, help: "1 when the last scrape's database query answered."),
        Entry(name: "uptick_monitor_series_dropped_total", kind: .counter,
              help: "Checks of monitors left out of the per-monitor series because the limit was reached."),
        Entry(name: "uptick_build_info", kind: .gauge, help: "uptick's version, as a label; always 1."),
    ]

    static let byName: [String: Entry] = Dictionary(uniqueKeysWithValues: entries.map { ($0.name, $0) })

    static func descriptor(_ name: String) -> MetricNameDescriptor {
        MetricNameDescriptor(metricName: name, unitName: "", helpText: byName[name]?.help ?? name)
    }
}

/// swift-metrics on a Prometheus registry, with each series' help text and buckets from ``MetricsCatalogue`` (the
/// registry refuses two help texts for one name, and swift-prometheus' own factory gives none).
struct CatalogueFactory: MetricsFactory {
    let registry: PrometheusCollectorRegistry

    func makeCounter(label: String, dimensions: [(String, String)]) -> any CounterHandler {
        registry.makeCounter(descriptor: MetricsCatalogue.descriptor(label), labels: dimensions)
    }

    func makeFloatingPointCounter(label: String, dimensions: [(String, String)]) -> any FloatingPointCounterHandler {
        registry.makeCounter(descriptor: MetricsCatalogue.descriptor(label), labels: dimensions)
    }

    func makeRecorder(label: String, dimensions: [(String, String)], aggregate: Bool) -> any RecorderHandler {
        registry.makeGauge(descriptor: MetricsCatalogue.descriptor(label), labels: dimensions)
    }

    func makeMeter(label: String, dimensions: [(String, String)]) -> any MeterHandler {
        registry.makeGauge(descriptor: MetricsCatalogue.descriptor(label), labels: dimensions)
    }

    func makeTimer(label: String, dimensions: [(String, String)]) -> any TimerHandler {
        guard case .histogram(let buckets)? = MetricsCatalogue.byName[label]?.kind else {
            preconditionFailure("\(label) is not a histogram of the catalogue")
        }
        return registry.makeDurationHistogram(descriptor: MetricsCatalogue.descriptor(label), labels: dimensions, buckets: buckets)
    }

    func destroyCounter(_ handler: any CounterHandler) {
        if let counter = handler as? Prometheus.Counter { registry.unregisterCounter(counter) }
    }

    func destroyFloatingPointCounter(_ handler: any FloatingPointCounterHandler) {
        if let counter = handler as? Prometheus.Counter { registry.unregisterCounter(counter) }
    }

    func destroyRecorder(_ handler: any RecorderHandler) {
        if let gauge = handler as? Prometheus.Gauge { registry.unregisterGauge(gauge) }
    }

    func destroyMeter(_ handler: any MeterHandler) {
        if let gauge = handler as? Prometheus.Gauge { registry.unregisterGauge(gauge) }
    }

    func destroyTimer(_ handler: any TimerHandler) {
        if let histogram = handler as? DurationHistogram { registry.unregisterDurationHistogram(histogram) }
    }
}
