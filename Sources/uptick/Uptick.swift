import ArgumentParser
import CGlibcCompat  // links the glibc symbol pins (Sources/CGlibcCompat)
import Foundation
import Logging
import NIOCore
import NIOPosix
import UptickApp
import UptickCore

/// The `uptick` command: parse, build the configuration, call the library (UptickApp), print.
@main
struct Uptick: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "uptick",
        abstract: "Checks that your sites and services are up, on a schedule, from a shared database.",
        version: Runner.version,
        subcommands: [
            Migrate.self, MonitorCommand.self, Check.self, Import.self, Tick.self, Run.self, History.self, Status.self, Prune.self,
            ChannelCommand.self, Incidents.self, OutboxCommand.self, Dispatch.self, Work.self, Lambda.self, Serve.self,
        ]
    )

    /// Runs the command; failures print one line on stderr and exit with their code.
    static func main() async {
        // Swift tasks run on NIO's event loops: no thread hop between a probe's code and its I/O
        // (measured in BENCHMARKS.md). Must happen before any other concurrency work.
        NIOSingletons.unsafeTryInstallSingletonPosixEventLoopGroupAsConcurrencyGlobalExecutor()
        // Logs never block the code that logs (a full stderr pipe would stall the engine): docs/architecture.md, "Printing never holds the engine".
        LoggingSystem.bootstrap { LineLogHandler(label: $0) }
        let clockLogger = Assembly.logger()
        SystemClock.shared.reportSteps { clockLogger.warning("\($0)") }
        // What is still queued for stdout and stderr goes out before the process ends, if a reader takes it in time.
        defer { LineWriter.flushStandardStreams() }
        do {
            // In a Lambda zip this binary is `bootstrap`, started without arguments.
            let asBootstrap = URL(fileURLWithPath: CommandLine.arguments[0]).lastPathComponent == "bootstrap" && CommandLine.arguments.count == 1
            var command = try parseAsRoot(asBootstrap ? ["lambda"] : nil)
            if var asyncCommand = command as? any AsyncParsableCommand {
                try await asyncCommand.run()
            } else {
                try command.run()
            }
        } catch let failure as UptickError {
            LineWriter.standardError.write("uptick: \(failure.message)")
            LineWriter.flushStandardStreams()
            // BSD `EX_USAGE` for bad input; 1 for a runner fault.
            Foundation.exit(failure.kind == .invalidInput ? 64 : 1)
        } catch {
            LineWriter.flushStandardStreams()
            exit(withError: error)
        }
    }
}

/// Options every command takes.
struct GlobalOptions: ParsableArguments {
    @Option(name: .long, help: "Database: a SQLite file (PATH or file:PATH, default ./uptick.db), libSQL/Turso (libsql://HOST, https://HOST, http://HOST:PORT) or PostgreSQL (postgres://USER@HOST:PORT/DB); env UPTICK_DB.")
    var db: String?

    @Option(name: .long, help: "Token for a libSQL database (env UPTICK_DB_TOKEN or TURSO_AUTH_TOKEN).")
    var dbToken: String?

    @Option(name: .long, help: "Settings file whose keys are the flags' names (env UPTICK_CONFIG_FILE; default ./uptick.yaml if it exists).")
    var configFile: String?

    @Flag(name: .long, help: "Print JSON instead of text.")
    var json = false

    /// The database: `--db`, else `UPTICK_DB`, else `db` in the config file, else `./uptick.db`.
    var location: String { get throws(UptickError) { try configuration().database } }
    var token: String? { get throws(UptickError) { try configuration().token } }
}

/// Prints to stdout.
func emit(_ text: String) {
    print(text)
}
