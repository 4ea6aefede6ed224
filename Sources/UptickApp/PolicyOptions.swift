import Foundation
import UptickNet

/// Builds the address policy from `--allow-cidr`/`--deny-cidr` values and the environment.
public enum Policy {
    /// Public-only plus the operator's rules: `allow` and `deny` entries, each `CIDR` or `CIDR:PORT`, plus
    /// comma-separated `UPTICK_ALLOW_CIDR` and `UPTICK_DENY_CIDR`.
    public static func make(allow: [String], deny: [String]) throws(CLIFailure) -> AddressPolicy {
        let environment = ProcessInfo.processInfo.environment
        func rules(_ values: [String], _ variable: String, _ flag: String) throws(CLIFailure) -> [AddressPolicy.Rule] {
            let fromEnvironment = (environment[variable] ?? "").split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }
            return try (values + fromEnvironment).filter { !$0.isEmpty }.map { text throws(CLIFailure) in
                guard let rule = AddressPolicy.Rule(text) else {
                    throw CLIFailure("\(flag) '\(text)' is not an address range like 10.0.0.0/8 or 192.168.1.5/32:8080")
                }
                return rule
            }
        }
        return AddressPolicy(allow: try rules(allow, "UPTICK_ALLOW_CIDR", "--allow-cidr"),
                             deny: try rules(deny, "UPTICK_DENY_CIDR", "--deny-cidr"))
    }

    /// One line for the start-up log, so an allowed internal range is never a surprise.
    public static func describe(_ policy: AddressPolicy) -> String? {
        guard !policy.allow.isEmpty || !policy.deny.isEmpty else { return nil }
        var parts = ["address policy: public unicast only"]
        if !policy.allow.isEmpty { parts.append("ALSO ALLOWING \(policy.allow.map(\.description).joined(separator: ", "))") }
        if !policy.deny.isEmpty { parts.append("also denying \(policy.deny.map(\.description).joined(separator: ", "))") }
        return parts.joined(separator: "; ")
    }
}
