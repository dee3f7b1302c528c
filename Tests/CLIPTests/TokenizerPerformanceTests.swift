import Foundation
import Testing
@testable import CLIP

/// Throughput on typical captions (timings printed; measure with
/// `swift test -c release -Xswiftc -enable-testing --filter TokenizerPerformanceTests`).
@Suite struct TokenizerPerformanceTests {
    /// 10,000 deterministic captions in the style of image-text data.
    static let captions: [String] = {
        let subjects = ["a photo of a cat", "A dog", "Two children", "an old man", "a red car", "the Eiffel Tower",
                        "a bowl of soup", "A group of people", "a wooden house", "an orange tabby kitten"]
        let verbs = ["sitting on", "running across", "standing next to", "parked in front of", "looking at",
                     "lying under", "walking through", "floating above"]
        let places = ["a busy street", "the beach at sunset", "a snowy forest", "a modern kitchen", "the city skyline",
                      "a green field", "an empty parking lot", "a crowded market"]
        let endings = [".", "", " in 2024.", ", black and white photo", " — it's beautiful!", " (close-up)", "!!",
                       ", 4k, highly detailed"]
        var generator = TokenizerBehaviourTests.SplitMix(seed: 7)
        func pick(_ items: [String]) -> String { items[Int(generator.next() % UInt64(items.count))] }
        return (0..<10_000).map { _ in "\(pick(subjects)) \(pick(verbs)) \(pick(places))\(pick(endings))" }
    }()

    @Test func tenThousandCaptionsAreConsistentWarmColdAndBatched() throws {
        let tokenizer = try CLIPTokenizer(mergesArchive: TokenizerFixtures.mergesArchive)
        let clock = ContinuousClock()
        var cold: [[Int32]] = []
        let coldTime = clock.measure { cold = Self.captions.map { tokenizer.tokenize($0) } }
        var warm: [[Int32]] = []
        let warmTime = clock.measure { warm = Self.captions.map { tokenizer.tokenize($0) } }
        var batch = TokenBatch(ids: [], lengths: [], contextLength: 77)
        let batchTime = clock.measure { batch = tokenizer.tokenizeBatch(Self.captions) }
        let cleaningTime = clock.measure { for caption in Self.captions { _ = TextCleaner.clean(caption) } }
        func perCaption(_ duration: Duration) -> Double {
            Double(duration.components.attoseconds) / 1e12 / Double(Self.captions.count)
                + Double(duration.components.seconds) * 1e6 / Double(Self.captions.count)
        }
        print(String(format: "tokenize 10k captions: cold %.2f µs, warm %.2f µs, batch %.2f µs, clean-up alone %.2f µs per caption",
                     perCaption(coldTime), perCaption(warmTime), perCaption(batchTime), perCaption(cleaningTime)))
        #expect(warm == cold)
        #expect((0..<batch.count).allSatisfy { Array(batch.row($0)) == cold[$0] })
        #expect(cold.allSatisfy { $0.count > 4 && $0.count < 40 })
        // Timings are printed, never asserted (the machines are shared); `tagtune bench` reports them.
    }
}
