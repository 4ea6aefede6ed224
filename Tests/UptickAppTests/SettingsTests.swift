import UptickEngine
import Foundation
import Testing
import UptickApp

@Suite("Settings: flags, then the environment, then uptick.yaml")
struct SettingsTests {

    @Test("a single value comes from the first source that has it")
    func precedence() throws {
        let file = try Settings.parse("concurrency: 9\nbatch: 90\npoll: 30s\n", path: "uptick.yaml")
        let all = Settings(flags: ["concurrency": ["7"]], environment: ["UPTICK_CONCURRENCY": "8", "UPTICK_BATCH": "80"], file: file)
        let configuration = try RunnerConfiguration(all)
        #expect(configuration.concurrency == 7)  // flag over environment over file
        #expect(configuration.batch == 80)  // environment over file
        #expect(configuration.poll == .seconds(30))  // file alone
        #expect(configuration.retention.checks == .seconds(30 * 86_400))  // the default
        #expect(try RunnerConfiguration(Settings()).concurrency == 500)
    }

    @Test("address ranges add up from every source, so a deny rule set in one place is never dropped by another")
    func rangesAccumulate() throws {
        let file = try Settings.parse("deny-cidr: [10.9.0.0/16]\nallow-cidr: 10.0.0.0/8\n", path: "uptick.yaml")
        let settings = Settings(flags: ["allow-cidr": ["192.168.1.0/24"]], environment: ["UPTICK_DENY_CIDR": "10.8.0.0/16, 10.7.0.0/16"], file: file)
        let policy = try RunnerConfiguration(settings).policy
        #expect(policy.allow == ["192.168.1.0/24", "10.0.0.0/8"])
        #expect(policy.deny == ["10.8.0.0/16", "10.7.0.0/16", "10.9.0.0/16"])
    }

    @Test("a bad value names where it came from")
    func errorsNameTheirSource() {
        func message(_ settings: Settings) -> String? {
            do {
                _ = try RunnerConfiguration(settings)
                return nil
            } catch {
                return error.kind == .invalidInput ? error.message : "wrong kind: \(error)"
            }
        }
        #expect(message(Settings(flags: ["concurrency": ["0"]]))?.hasPrefix("--concurrency must be a whole number from 1 to 100000") == true)
        #expect(message(Settings(environment: ["UPTICK_BATCH": "many"]))?.hasPrefix("UPTICK_BATCH must be") == true)
        #expect(message(Settings(file: ["retention": ["5m"]], filePath: "/etc/uptick.yaml"))
                == "retention in /etc/uptick.yaml '5m' is not 'off' or a duration of at least 1h")
        #expect(message(Settings(flags: ["dns-detail": ["maybe"]]))?.contains("must be true or false") == true)
        #expect(message(Settings(flags: ["allow-cidr": ["nonsense"]])) == nil)  // ranges are judged when the policy is built
    }

    @Test("the file: unknown keys, lists where one value belongs, and non-mappings are refused with their line")
    func fileErrors() {
        func message(_ text: String) -> String? {
            do {
                _ = try Settings.parse(text, path: "uptick.yaml")
                return nil
            } catch {
                return error.message
            }
        }
        #expect(message("concurrency: 5\nconcurency: 6\n")?.hasPrefix("uptick.yaml:2: unknown setting 'concurency'") == true)
        #expect(message("batch: [1, 2]\n") == "uptick.yaml:1: 'batch' must be a single value")
        #expect(message("- concurrency\n")?.hasPrefix("uptick.yaml: expected a mapping") == true)
        #expect(message("concurrency: [\n")?.hasPrefix("uptick.yaml: not YAML") == true)
        #expect(message("") == nil)
        #expect(message("nameserver: 10.0.0.2\nallow-cidr:\n  - 10.0.0.0/8\n  - 10.1.0.0/16\n") == nil)
    }

    @Test("the file is --config-file, else UPTICK_CONFIG_FILE, else ./uptick.yaml if there; a named file must exist")
    func fileLocation() throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("uptick-settings-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let path = directory.appendingPathComponent("runner.yaml").path
        try "db: /var/lib/uptick/uptick.db\n".write(toFile: path, atomically: true, encoding: .utf8)
        #expect(try Settings.configFile(path, environment: [:])?.values == ["db": ["/var/lib/uptick/uptick.db"]])
        #expect(try Settings.configFile(nil, environment: ["UPTICK_CONFIG_FILE": path])?.path == path)
        #expect(throws: UptickError.self) { try Settings.configFile(path + ".missing", environment: [:]) }
    }

    @Test("the network-database pacing is decided in one place, by role")
    func networkDatabaseTuning() throws {
        let remote = try RunnerConfiguration(Settings(flags: ["db": ["libsql://db.example.turso.io"], "batch": ["200"], "poll": ["30s"]]))
        let daemon = remote.engine(for: .daemon, runnerID: "r"), tick = remote.engine(for: .tick, runnerID: "r")
        #expect(daemon.flushSize == 200 && daemon.flushDelay == .seconds(1) && daemon.claimWindow == .seconds(1) && daemon.poll == .seconds(30))
        #expect(tick.flushSize == 200 && tick.flushDelay == .seconds(3600) && tick.poll == nil)
        #expect(remote.engine(for: .lambda, runnerID: "r").flushDelay == .seconds(3600))
        let local = try RunnerConfiguration(Settings(flags: ["db": ["./uptick.db"]]))
        let defaults = local.engine(for: .daemon, runnerID: "r")
        #expect(defaults.flushSize == 500 && defaults.flushDelay == .milliseconds(200) && defaults.claimWindow == .milliseconds(20))
    }
}
