import ArgumentParser
import Logging
import UptickAlerts
import UptickApp
import UptickCore
import UptickLibSQL
import Foundation
import UptickEngine
import UptickNet
import UptickProbes
import UptickStore

/// The network options of every command that connects to targets: the address policy and the resolver.
struct PolicyOptions: ParsableArguments {
    @Option(name: .customLong("allow-cidr"), help: "Also allow this range (CIDR or CIDR:PORT), e.g. a LAN you watch (repeatable; env UPTICK_ALLOW_CIDR).")
    var allow: [String] = []
    @Option(name: .customLong("deny-cidr"), help: "Also deny this range (CIDR or CIDR:PORT); wins over --allow-cidr (repeatable; env UPTICK_DENY_CIDR).")
    var deny: [String] = []
    @Option(name: .customLong("nat64-prefix"), help: "A NAT64 prefix of this network besides 64:ff9b::/96: its embedded IPv4 is judged too (repeatable; env UPTICK_NAT64_PREFIX).")
    var nat64: [String] = []
    @Option(name: .customLong("nameserver"), help: "Ask this DNS server (IP, IP:PORT or [IPv6]:PORT) instead of /etc/resolv.conf's (repeatable, up to 3; env UPTICK_NAMESERVER).")
    var nameservers: [String] = []
    @Option(name: .customLong("dns-lookups-per-zone"), help: "Name lookups under one zone on the network at once (default 32).")
    var lookupsPerZone: Int?
    @Flag(name: .customLong("dns-detail"), help: "Say in check messages why a name gave no usable address (off: it tells customers whether internal names exist).")
    var dnsDetail = false
    @Flag(name: .customLong("allow-host-header"), help: "Let monitors set their own Host header.")
    var allowHostHeader = false

    /// The policy, announced on stderr when it differs from the default.
    func policy() throws(CLIFailure) -> AddressPolicy {
        let policy = try Policy.make(allow: allow, deny: deny, nat64: nat64)
        if let line = Policy.describe(policy) { FileHandle.standardError.write(Data("uptick: \(line)\n".utf8)) }
        return policy
    }

    /// The guarded network, with its one resolver (and cache), for everything the command connects to.
    func network() throws(CLIFailure) -> Network {
        let resolver = DNSResolver(configuration: try Policy.resolver(nameservers: nameservers, lookupsPerZone: lookupsPerZone))
        return Network(policy: try policy(), resolver: resolver, revealsDNSDetail: dnsDetail, allowsHostHeader: allowHostHeader)
    }
}

/// Options of the commands that run checks.
struct EngineOptions: ParsableArguments {
    @Option(help: "Checks in flight at once.") var concurrency = 500
    @Option(help: "Most monitors claimed per claim statement.") var batch = 500

    /// On a network database (`remote`) round trips are the cost: a tick commits once at its end (or per
    /// `--batch` results), and the daemon claims and commits at most about once a second.
    func configuration(remote: Bool, tick: Bool) throws(CLIFailure) -> EngineConfiguration {
        guard (1...100_000).contains(concurrency) else { throw CLIFailure("--concurrency must be between 1 and 100000") }
        // Each check in flight holds a socket; leave room for the database and the process itself.
        let files = ResourceLimits.raiseOpenFiles()
        guard concurrency + 64 <= files else {
            throw CLIFailure("--concurrency \(concurrency) needs more open files than the limit of \(files) (raise `ulimit -n`)")
        }
        guard (1...10_000).contains(batch) else { throw CLIFailure("--batch must be between 1 and 10000") }
        var configuration = EngineConfiguration(runnerID: Runner.identity)
        configuration.concurrency = concurrency
        configuration.claimBatch = batch
        if remote {
            configuration.flushSize = batch
            configuration.flushDelay = tick ? .seconds(3600) : .seconds(1)
            configuration.claimWindow = tick ? configuration.claimWindow : .seconds(1)
        }
        return configuration
    }
}

/// The engine wired to the real store, probes and clock.
/// `doorbell` is rung after each commit that recorded alerts.
func makeEngine(
    store: SQLStore, configuration: EngineConfiguration, network: Network, doorbell: Doorbell? = nil,
    onCommit: @escaping @Sendable ([CheckOutcome]) -> Void = { _ in }
) -> Engine {
    let logger = makeLogger()
    let logging = LoggingTransitionSink(logger: logger)
    return Engine(
        store: store, probe: StandardProbe(network: network),
        sink: doorbell.map { DeliveryTrigger(next: logging, doorbell: $0) } ?? logging,
        configuration: configuration, logger: logger, onCommit: onCommit
    )
}

/// Options of the commands that deliver alerts.
struct DeliveryOptions: ParsableArguments {
    @Option(help: "Give up on an alert still failing after this long (it becomes dead).") var alertGiveUp = "24h"
    @Option(help: "Alert requests in flight per channel.") var alertConcurrency = 4

    func configuration() throws(CLIFailure) -> DeliveryConfiguration {
        guard let giveUp = DurationParser.milliseconds(alertGiveUp), giveUp >= 60_000 else {
            throw CLIFailure("--alert-give-up '\(alertGiveUp)' is not a duration of at least 1m")
        }
        guard (1...100).contains(alertConcurrency) else { throw CLIFailure("--alert-concurrency must be between 1 and 100") }
        var configuration = DeliveryConfiguration()
        configuration.giveUpAfter = .milliseconds(giveUp)
        configuration.perChannelConcurrency = alertConcurrency
        return configuration
    }
}

/// The alert deliverer, sending through the same guarded network as the probes.
func makeDeliverer(store: SQLStore, network: Network, configuration: DeliveryConfiguration) -> Deliverer {
    Deliverer(store: store, notifier: Notifier(network: network), configuration: configuration, logger: makeLogger())
}

func makeLogger() -> Logger {
    var logger = Logger(label: "uptick")
    logger.logLevel = .notice
    return logger
}

/// Saves what a run could not commit, and fails the command if there was any.
func spoolLeftovers(_ report: EngineReport, location: String) throws(CLIFailure) {
    try Database.spool(for: location).save(report.unpersisted)
    if !report.unpersisted.isEmpty {
        throw CLIFailure(
            "\(report.unpersisted.count) results could not be committed and were spooled to \(Database.spool(for: location).path): "
                + (report.errors.last ?? "database error"),
            exitCode: CLIFailure.runtime
        )
    }
}
