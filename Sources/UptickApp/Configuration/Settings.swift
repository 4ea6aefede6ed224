import Foundation
import Yams

/// The runner's settings from their three sources, by key: command-line flags, then the environment, then an
/// optional `uptick.yaml`. A key is a flag's long name (`concurrency`, `allow-cidr`); its environment variable
/// is `UPTICK_` and the key in capitals with `_` for `-` (`UPTICK_ALLOW_CIDR`); the file has the key itself.
///
/// A single value comes from the first source that has it: flags win over the environment, which wins over
/// the file. The list keys (the address ranges and nameservers) are the exception: every source's values apply, so a `deny`
/// rule set in one place is never dropped by a flag given in another.
package struct Settings: Sendable {
    /// Every key the file may hold, with whether it takes a list.
    package static let keys: [String: Bool] = [
        "db": false, "db-token": false,
        "concurrency": false, "batch": false, "poll": false, "retention": false, "hourly-retention": false, "daily-retention": false,
        "deliver-for": false,
        "ticks-per-invocation": false,
        "allow-cidr": true, "deny-cidr": true, "nat64-prefix": true, "nameserver": true,
        "dns-lookups-per-zone": false, "dns-detail": false, "allow-host-header": false,
        "alert-give-up": false, "alert-concurrency": false,
        "queue": false, "sqs-endpoint": false, "queue-wait": false, "queue-visibility": false, "dispatch-window": false,
        "http": false, "status-title": false, "api-token": false, "monitor-metrics": false,
    ]

    package var flags: [String: [String]]
    package var environment: [String: String]
    package var file: [String: [String]]
    /// Where ``file`` came from, for messages.
    package var filePath: String?

    package init(flags: [String: [String]] = [:], environment: [String: String] = [:], file: [String: [String]] = [:], filePath: String? = nil) {
        self.flags = flags
        self.environment = environment
        self.file = file
        self.filePath = filePath
    }

    /// `UPTICK_` + the key in capitals, `-` as `_`.
    package static func variable(_ key: String) -> String {
        "UPTICK_" + key.uppercased().replacingOccurrences(of: "-", with: "_")
    }

    /// The value of a single-valued key, and where it came from (for messages).
    package func value(_ key: String) -> (text: String, source: String)? {
        if let flag = flags[key]?.last { return (flag, "--\(key)") }
        if let value = environment[Self.variable(key)], !value.isEmpty { return (value, Self.variable(key)) }
        if let value = file[key]?.last { return (value, "\(key) in \(filePath ?? "the config file")") }
        return nil
    }

    /// The values of a list key from every source: flags, then the environment (comma-separated), then the file.
    package func values(_ key: String) -> [String] {
        let fromEnvironment = (environment[Self.variable(key)] ?? "").split(separator: ",")
            .map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
        return (flags[key] ?? []) + fromEnvironment + (file[key] ?? [])
    }

    /// The config file: `--config-file`, else `UPTICK_CONFIG_FILE`, else `./uptick.yaml` when it exists. A file named
    /// explicitly must exist.
    package static func configFile(_ option: String?, environment: [String: String]) throws(UptickError) -> (path: String, values: [String: [String]])? {
        let named = option ?? environment["UPTICK_CONFIG_FILE"].flatMap { $0.isEmpty ? nil : $0 }
        let path = named ?? "./uptick.yaml"
        guard FileManager.default.fileExists(atPath: path) else {
            if let named { throw UptickError("config file \(named) does not exist") }
            return nil
        }
        guard let data = FileManager.default.contents(atPath: path) else { throw UptickError("config file \(path) cannot be read") }
        return (path, try parse(String(decoding: data, as: UTF8.self), path: path))
    }

    /// A config file's keys and values: a mapping of keys to a value or (for list keys) a list of values.
    package static func parse(_ text: String, path: String) throws(UptickError) -> [String: [String]] {
        let root: Node?
        do {
            root = try Yams.compose(yaml: text)
        } catch {
            throw UptickError("\(path): not YAML (\(error))")
        }
        guard let root else { return [:] }
        guard let mapping = root.mapping else { throw UptickError("\(path): expected a mapping of settings, e.g. 'concurrency: 500'") }
        var values: [String: [String]] = [:]
        for (name, node) in mapping {
            let line = name.mark?.line ?? 0
            guard let key = name.string, let isList = keys[key] else {
                throw UptickError("\(path):\(line): unknown setting '\(name.string ?? "?")' (the keys are the flags' names, e.g. concurrency, allow-cidr)")
            }
            if let scalar = node.scalar?.string {
                values[key] = [scalar]
            } else if isList, let list = node.sequence {
                values[key] = try list.map { item throws(UptickError) in
                    guard let scalar = item.scalar?.string else { throw UptickError("\(path):\(item.mark?.line ?? line): '\(key)' must be a list of values") }
                    return scalar
                }
            } else {
                throw UptickError("\(path):\(line): '\(key)' must be \(isList ? "a value or a list of values" : "a single value")")
            }
        }
        return values
    }
}
