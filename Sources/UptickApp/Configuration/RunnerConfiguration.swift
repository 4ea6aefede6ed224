package import UptickAlerts
import UptickCore
package import UptickEngine
import UptickLibSQL
import UptickLambda
package import UptickNet
package import UptickQueue
package import UptickWeb

/// What a runner does, whichever way it is started (`uptick run`, `uptick tick`, a Lambda invocation): every
/// setting validated once, from ``Settings`` (flags, environment, `uptick.yaml`), each with its documented default.
package struct RunnerConfiguration: Sendable {
    /// How the runner is started; it decides the pacing on a network database (``engine(for:)``).
    package enum Role: Sendable {
        case daemon, tick, lambda
    }

    /// `db`: a SQLite file path (or `file:PATH`), or a libSQL URL. Default `./uptick.db`.
    package var database = "./uptick.db"
    /// `db-token` (also `TURSO_AUTH_TOKEN`).
    package var token: String?
    /// `concurrency`: checks in flight at once.
    package var concurrency = 500
    /// `batch`: most monitors claimed per claim statement.
    package var batch = 500
    /// `poll`: claim on a fixed period instead of at each slot (daemon).
    package var poll: Duration?
    /// What the daemon's hourly housekeeping keeps: `retention` (checks and finished alert events, default 30 days),
    /// `hourly-retention` (hourly rollups, 7 days) and `daily-retention` (daily rollups, 400 days); `off` keeps forever.
    package var retention = Retention.Keep(checks: .seconds(30 * 86_400), hourly: .seconds(7 * 86_400), daily: .seconds(400 * 86_400))
    /// `deliver-for`: after a tick's checks, deliver due alerts for at most this long (0 skips delivery).
    package var deliverFor: Duration = .seconds(10)
    /// `ticks-per-invocation`: ticks a Lambda invocation runs when its event does not say.
    package var ticksPerInvocation = 1
    package var policy = PolicySettings()
    package var delivery = DeliveryConfiguration()
    package var queue = QueueSettings()
    /// The web server's options (`http`, `status-title`, `api-token`, `monitor-metrics`).
    package var web = WebServer.Configuration()
    /// `http` was given: `uptick run`, `work` and `dispatch` serve it too (`uptick serve` always does).
    package var servesHTTP = false
    /// The process environment the settings were read with (AWS credentials and region come from it).
    package var environment: [String: String] = [:]

    /// The queue options of `uptick dispatch` and `uptick work` (docs/scale-out.md).
    package struct QueueSettings: Sendable {
        /// `queue` (also `UPTICK_QUEUE_URL`): the SQS queue URL.
        package var url: String?
        /// `sqs-endpoint`: an SQS-compatible server to talk to instead of the queue URL's host.
        package var endpoint: String?
        /// `queue-wait`, `queue-visibility`: the worker's long poll and visibility timeout.
        package var work = WorkConfiguration()
        /// `dispatch-window`: the dispatcher daemon's claims are at least this far apart (lateness against SQS requests).
        package var dispatchWindow: Duration = DispatchConfiguration(runnerID: "").claimWindow

        package init() {}
    }

    /// The network options: the address policy and the resolver.
    package struct PolicySettings: Sendable {
        package var allow: [String] = []
        package var deny: [String] = []
        package var nat64: [String] = []
        package var nameservers: [String] = []
        package var lookupsPerZone: Int?
        package var dnsDetail = false
        package var allowHostHeader = false

        package init() {}

        /// The guarded network, with its one resolver (and cache), for everything the runner connects to.
        package func network() throws(UptickError) -> Network {
            let resolver = DNSResolver(configuration: try Policy.resolver(nameservers: nameservers, lookupsPerZone: lookupsPerZone))
            return Network(policy: try policy(), resolver: resolver, revealsDNSDetail: dnsDetail, allowsHostHeader: allowHostHeader)
        }

        /// The address policy alone.
        package func policy() throws(UptickError) -> AddressPolicy {
            try Policy.make(allow: allow, deny: deny, nat64: nat64)
        }
    }

    /// The defaults.
    package init() {}

    /// Every setting from `settings`; the first invalid one is reported with where it came from.
    package init(_ settings: Settings) throws(UptickError) {
        func duration(_ key: String, atLeast minimum: Int64, _ example: String) throws(UptickError) -> Duration? {
            guard let (text, source) = settings.value(key) else { return nil }
            guard let milliseconds = DurationParser.milliseconds(text), milliseconds >= minimum else {
                throw UptickError("\(source) '\(text)' is not a duration of at least \(example)")
            }
            return .milliseconds(milliseconds)
        }
        func number(_ key: String, in range: ClosedRange<Int>) throws(UptickError) -> Int? {
            guard let (text, source) = settings.value(key) else { return nil }
            guard let value = Int(text), range.contains(value) else {
                throw UptickError("\(source) must be a whole number from \(range.lowerBound) to \(range.upperBound), got '\(text)'")
            }
            return value
        }
        func flag(_ key: String) throws(UptickError) -> Bool {
            guard let (text, source) = settings.value(key) else { return false }
            guard let value = Bool(text.lowercased()) else { throw UptickError("\(source) must be true or false, got '\(text)'") }
            return value
        }
        database = settings.value("db")?.text ?? database
        token = settings.value("db-token")?.text ?? settings.environment["TURSO_AUTH_TOKEN"]
        concurrency = try number("concurrency", in: 1...100_000) ?? concurrency
        batch = try number("batch", in: 1...10_000) ?? batch
        poll = try duration("poll", atLeast: 1000, "1s")
        func age(_ key: String, atLeast minimum: Int64, _ example: String, default value: Duration?) throws(UptickError) -> Duration? {
            guard let (text, source) = settings.value(key) else { return value }
            if text == "off" { return nil }
            guard let milliseconds = DurationParser.milliseconds(text), milliseconds >= minimum else {
                throw UptickError("\(source) '\(text)' is not 'off' or a duration of at least \(example)")
            }
            return .milliseconds(milliseconds)
        }
        retention.checks = try age("retention", atLeast: 3_600_000, "1h", default: retention.checks)
        retention.hourly = try age("hourly-retention", atLeast: 86_400_000, "1d", default: retention.hourly)
        retention.daily = try age("daily-retention", atLeast: 86_400_000, "1d", default: retention.daily)
        deliverFor = try duration("deliver-for", atLeast: 0, "0s") ?? deliverFor
        ticksPerInvocation = try number("ticks-per-invocation", in: 1...ScheduleRequest.maxTicks) ?? ticksPerInvocation
        policy.allow = settings.values("allow-cidr")
        policy.deny = settings.values("deny-cidr")
        policy.nat64 = settings.values("nat64-prefix")
        policy.nameservers = settings.values("nameserver")
        policy.lookupsPerZone = try number("dns-lookups-per-zone", in: 1...10_000)
        policy.dnsDetail = try flag("dns-detail")
        policy.allowHostHeader = try flag("allow-host-header")
        if let giveUp = try duration("alert-give-up", atLeast: 60_000, "1m") { delivery.giveUpAfter = giveUp }
        environment = settings.environment
        queue.url = settings.value("queue")?.text ?? settings.environment["UPTICK_QUEUE_URL"].flatMap { $0.isEmpty ? nil : $0 }
        queue.endpoint = settings.value("sqs-endpoint")?.text
        if let wait = try duration("queue-wait", atLeast: 0, "0s") {
            guard wait <= .seconds(20) else { throw UptickError("queue-wait is at most 20s (SQS's longest poll)") }
            queue.work.wait = wait
        }
        queue.dispatchWindow = try duration("dispatch-window", atLeast: 1, "1ms") ?? queue.dispatchWindow
        if let visibility = try duration("queue-visibility", atLeast: 1000, "1s") {
            guard visibility <= .seconds(43_200) else { throw UptickError("queue-visibility is at most 12h (SQS's longest)") }
            queue.work.visibility = visibility
        }
        delivery.perChannelConcurrency = try number("alert-concurrency", in: 1...100) ?? delivery.perChannelConcurrency
        if let (text, source) = settings.value("http") {
            do throws(WebError) {
                try web.listen(text)
            } catch {
                throw UptickError("\(source): \(error.message)")
            }
            servesHTTP = true
        }
        web.title = settings.value("status-title")?.text ?? web.title
        web.apiToken = settings.value("api-token")?.text
        web.monitorSeries = try number("monitor-metrics", in: 0...100_000) ?? web.monitorSeries
    }

    /// Whether the database is reached over the network (libSQL), where round trips are the cost.
    package var isNetworkDatabase: Bool { LibSQLDatabase.handles(database) }

    /// The engine's configuration for a role. This is the one place that tunes for a network database: a tick
    /// or an invocation commits once at its end (or per `batch` results), and the daemon claims and commits
    /// at most about once a second.
    package func engine(for role: Role, runnerID: String = Runner.identity) -> EngineConfiguration {
        var configuration = EngineConfiguration(runnerID: runnerID)
        configuration.concurrency = concurrency
        configuration.claimBatch = batch
        if role == .daemon { configuration.poll = poll }
        if isNetworkDatabase {
            configuration.flushSize = batch
            configuration.flushDelay = role == .daemon ? .seconds(1) : .seconds(3600)
            if role == .daemon { configuration.claimWindow = .seconds(1) }
        }
        return configuration
    }
}
