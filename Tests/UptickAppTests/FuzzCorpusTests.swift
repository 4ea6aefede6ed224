import Foundation
import Testing
import UptickFuzz
import UptickTestSupport

/// The committed fuzzing corpus (Fuzz/corpus/<target>/, docs/fuzzing.md) replayed through the fuzz targets: every input
/// libFuzzer kept, and every crash it found (named `crash-*`), still parses without breaking a property.
@Suite("Fuzz corpus")
struct FuzzCorpusTests {
    static let corpus = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .appendingPathComponent("../../Fuzz/corpus").standardizedFileURL

    /// The replay runs on a Dispatch thread: thousands of parses in a row would hold one of Swift's cooperative threads
    /// (two on this machine) for seconds, and with it the tests beside it whose checks have real deadlines.
    @Test("each target's corpus replays clean", arguments: FuzzTarget.allCases)
    func replay(_ target: FuzzTarget) async throws {
        let directory = Self.corpus.appendingPathComponent(target.rawValue)
        let files = try FileManager.default.contentsOfDirectory(atPath: directory.path).sorted()
        #expect(files.count >= 5, "the \(target.rawValue) corpus is missing (\(directory.path))")
        let failures = await offPool {
            files.compactMap { file -> String? in
                let broken: [String]
                do {
                    broken = target.run(Array(try Data(contentsOf: directory.appendingPathComponent(file))))
                } catch {
                    broken = ["unreadable: \(error)"]
                }
                return broken.isEmpty ? nil : "\(target.rawValue)/\(file): \(broken.joined(separator: "; "))"
            }
        }
        #expect(failures.isEmpty, "\(failures.joined(separator: "\n"))")
    }
}
