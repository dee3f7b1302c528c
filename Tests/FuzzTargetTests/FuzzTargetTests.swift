import Foundation
import FuzzTargets
import Testing

/// The fuzz targets' short run in every `make test`: each committed regression input (a crash
/// found and fixed) and corpus seed, then a seeded batch of mutations of them, through the same
/// bodies libFuzzer drives in Fuzz/. A crash or a failed check ends the test process, which
/// fails the suite. Coverage-guided runs with AddressSanitizer are `make fuzz` and
/// `make fuzz-smoke` (a build of their own).
@Suite("Fuzz targets")
struct FuzzTargetTests {
    /// Mutated inputs per target; TAGTUNE_FUZZ_RUNS raises it for a longer run.
    static let runs = ProcessInfo.processInfo.environment["TAGTUNE_FUZZ_RUNS"].flatMap(Int.init) ?? 5000

    /// The files of Fuzz/<kind>/<target>, sorted.
    static func inputs(_ kind: String, _ target: FuzzTarget) throws -> [(name: String, bytes: [UInt8])] {
        let folder = FuzzTarget.repository.appendingPathComponent("Fuzz/\(kind)/\(target.rawValue)")
        guard FileManager.default.fileExists(atPath: folder.path) else { return [] }
        return try FileManager.default.contentsOfDirectory(atPath: folder.path).sorted().map {
            ($0, [UInt8](try Data(contentsOf: folder.appendingPathComponent($0))))
        }
    }

    @Test(arguments: FuzzTarget.allCases)
    func regressionsCorpusAndMutationsRunCleanly(target: FuzzTarget) throws {
        let regressions = try Self.inputs("regressions", target), corpus = try Self.inputs("corpus", target)
        #expect(!corpus.isEmpty, "Fuzz/corpus/\(target.rawValue) holds the seeds")
        for input in regressions + corpus {
            input.bytes.withUnsafeBytes { target.run($0) }
        }
        let longest = corpus.map(\.bytes.count).max() ?? 0
        var mutator = SeededMutator(seed: 0x7A67_7475_6E65 ^ UInt64(target.rawValue.utf8.count),
                                    corpus: (regressions + corpus).map(\.bytes), maximumLength: max(4096, longest * 2))
        for _ in 0..<Self.runs {
            mutator.next().withUnsafeBytes { target.run($0) }
        }
    }

    @Test func mutationsAreReproducibleAndChangeTheInputs() {
        let corpus: [[UInt8]] = [Array("classes: [a, b]".utf8), Array("PK\u{3}\u{4}".utf8)]
        var a = SeededMutator(seed: 5, corpus: corpus, maximumLength: 64)
        var b = SeededMutator(seed: 5, corpus: corpus, maximumLength: 64)
        let first = (0..<200).map { _ in a.next() }
        #expect(first == (0..<200).map { _ in b.next() })
        #expect(first.filter { !corpus.contains($0) }.count > 150)
        #expect(first.allSatisfy { $0.count <= 64 })
    }
}
