import Foundation
import Testing
import UptickFuzz

/// The committed fuzzing corpus (Fuzz/corpus/<target>/, docs/fuzzing.md) replayed through the fuzz targets: every input
/// libFuzzer kept, and every crash it found (named `crash-*`), still parses without breaking a property.
@Suite("Fuzz corpus")
struct FuzzCorpusTests {
    static let corpus = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .appendingPathComponent("../../Fuzz/corpus").standardizedFileURL

    @Test("each target's corpus replays clean", arguments: FuzzTarget.allCases)
    func replay(_ target: FuzzTarget) throws {
        let directory = Self.corpus.appendingPathComponent(target.rawValue)
        let files = try FileManager.default.contentsOfDirectory(atPath: directory.path).sorted()
        #expect(files.count >= 5, "the \(target.rawValue) corpus is missing (\(directory.path))")
        for file in files {
            let data = try Data(contentsOf: directory.appendingPathComponent(file))
            let broken = target.run(Array(data))
            #expect(broken.isEmpty, "\(target.rawValue)/\(file): \(broken.joined(separator: "; "))")
        }
    }
}
