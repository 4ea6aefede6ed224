import ArgumentParser
import Foundation
import UptickApp
import UptickNet

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

    var flags: [String: [String]] {
        var flags: [String: [String]] = ["allow-cidr": allow, "deny-cidr": deny, "nat64-prefix": nat64, "nameserver": nameservers]
        flags["dns-lookups-per-zone"] = lookupsPerZone.map { [String($0)] }
        if dnsDetail { flags["dns-detail"] = ["true"] }
        if allowHostHeader { flags["allow-host-header"] = ["true"] }
        return flags.filter { !$0.value.isEmpty }
    }

    /// The guarded network for a command without a database (`check`, `channel test`): these flags, the
    /// environment and `./uptick.yaml` (or `UPTICK_CONFIG_FILE`).
    func network() throws(UptickError) -> Network {
        let environment = ProcessInfo.processInfo.environment
        let file = try Settings.configFile(nil, environment: environment)
        let configuration = try RunnerConfiguration(Settings(flags: flags, environment: environment, file: file?.values ?? [:], filePath: file?.path))
        try announce(configuration)
        return try configuration.policy.network()
    }
}

/// Options of the commands that run checks.
struct EngineOptions: ParsableArguments {
    @Option(help: "Checks in flight at once (default 500).") var concurrency: Int?
    @Option(help: "Most monitors claimed per claim statement (default 500).") var batch: Int?

    var flags: [String: [String]] {
        ["concurrency": concurrency.map { [String($0)] }, "batch": batch.map { [String($0)] }].compactMapValues { $0 }
    }
}

/// Options of the commands that deliver alerts.
struct DeliveryOptions: ParsableArguments {
    @Option(help: "Give up on an alert still failing after this long (it becomes dead; default 24h).") var alertGiveUp: String?
    @Option(help: "Alert requests in flight per channel (default 4).") var alertConcurrency: Int?

    var flags: [String: [String]] {
        ["alert-give-up": alertGiveUp.map { [$0] }, "alert-concurrency": alertConcurrency.map { [String($0)] }].compactMapValues { $0 }
    }
}

extension GlobalOptions {
    /// The runner's configuration: these flags, then the environment, then the config file.
    func configuration(_ flags: [String: [String]]...) throws(UptickError) -> RunnerConfiguration {
        let environment = ProcessInfo.processInfo.environment
        var all: [String: [String]] = ["db": db.map { [$0] }, "db-token": dbToken.map { [$0] }].compactMapValues { $0 }
        for group in flags { all.merge(group) { _, new in new } }
        let file = try Settings.configFile(configFile, environment: environment)
        return try RunnerConfiguration(Settings(flags: all, environment: environment, file: file?.values ?? [:], filePath: file?.path))
    }
}

/// Announces a non-default address policy on stderr, so an allowed internal range is never a surprise.
func announce(_ configuration: RunnerConfiguration) throws(UptickError) {
    if let line = Policy.describe(try configuration.policy.policy()) { LineWriter.standardError.write("uptick: \(line)") }
}
