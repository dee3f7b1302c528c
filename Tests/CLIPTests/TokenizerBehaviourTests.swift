import Compute
import Foundation
import Testing
@testable import CLIP

/// Sequence layout, special tokens in text, batching, concurrency, merging long words.
@Suite struct TokenizerBehaviourTests {
    let tokenizer = TokenizerFixtures.openCLIP

    @Test func emptyAndBlankTextsAreStartAndEnd() {
        for text in ["", " ", "\t\n\r ", "\u{3000}\u{A0}"] {
            #expect(tokenizer.encode(text) == [])
            #expect(tokenizer.tokenize(text) == [tokenizer.startTokenID, tokenizer.endTokenID])
        }
    }

    @Test func longTextsAreTruncatedKeepingTheEndToken() {
        let text = Array(repeating: "the quick brown fox jumps over the lazy dog", count: 20).joined(separator: " ")
        let ids = tokenizer.encode(text)
        #expect(ids.count == 180)
        for contextLength in [77, 10, 3, 2] {
            let sequence = tokenizer.tokenize(text, contextLength: contextLength)
            #expect(sequence == [tokenizer.startTokenID] + ids.prefix(contextLength - 2) + [tokenizer.endTokenID])
        }
        // open_clip keeps the first contextLength ids and overwrites the last one.
        #expect(tokenizer.tokenize(text, contextLength: 1) == [tokenizer.endTokenID])
    }

    @Test func sequencesThatFitAreNotTruncated() {
        let fits = String(repeating: "word ", count: 75), over = String(repeating: "word ", count: 76)
        #expect(tokenizer.tokenize(fits) == [tokenizer.startTokenID] + tokenizer.encode(fits) + [tokenizer.endTokenID])
        #expect(tokenizer.tokenize(fits).count == 77)
        #expect(tokenizer.tokenize(over).count == 77)
        #expect(tokenizer.tokenize(over).last == tokenizer.endTokenID)
    }

    @Test func specialTokenNamesInTextAreSpecialTokens() {
        // open_clip's pattern lists its special tokens, so text spelling them gets their ids.
        #expect(tokenizer.encode("a <end_of_text> b") == [320, tokenizer.endTokenID, 321])
        #expect(tokenizer.encode("<START_OF_TEXT>") == [tokenizer.startTokenID])
        #expect(!tokenizer.encode("<|endoftext|>").contains(tokenizer.endTokenID))
    }

    @Test func batchIsZeroPaddedRows() {
        let texts = ["a photo of a cat", "", String(repeating: "dog ", count: 100), "Größe 😀"]
        let batch = tokenizer.tokenizeBatch(texts)
        #expect(batch.count == 4)
        #expect(batch.ids.count == 4 * 77)
        for (index, text) in texts.enumerated() {
            let sequence = tokenizer.tokenize(text)
            #expect(Array(batch.row(index)) == sequence)
            #expect(batch.lengths[index] == sequence.count)
            #expect(batch.ids[index * 77 + sequence.count..<(index + 1) * 77].allSatisfy { $0 == 0 })
        }
        #expect(tokenizer.tokenizeBatch([], contextLength: 16) == TokenBatch(ids: [], lengths: [], contextLength: 16))
    }

    @Test func concurrentTokenizationGivesTheSameIds() async throws {
        let cases = try TokenizerFixtures.lines("cases.jsonl", as: TokenizerFixtures.TokenCase.self)
        // A fresh tokenizer: its word cache starts empty, so tasks fill it concurrently.
        let shared = try CLIPTokenizer(mergesArchive: TokenizerFixtures.mergesArchive)
        let results = await withTaskGroup(of: (Int, [[Int32]]).self) { group in
            for task in 0..<16 {
                group.addTask {
                    // Each task walks the cases from a different offset.
                    let order = cases.indices.map { ($0 + task * 97) % cases.count }
                    var ids = [[Int32]](repeating: [], count: cases.count)
                    for index in order { ids[index] = shared.tokenize(cases[index].text) }
                    return (task, ids)
                }
            }
            var all: [[[Int32]]] = []
            for await (_, ids) in group { all.append(ids) }
            return all
        }
        #expect(results.count == 16)
        for ids in results {
            #expect(ids == cases.map(\.ids))
        }
    }

    @Test func longWordsMergeTheSameByHeapAndByScanning() {
        let encoder = tokenizer.encoder
        var generator = SplitMix(seed: 42)
        let alphabet = Array("aaabbbcdeeeinorst 0123456789".utf8) + Array("éß😀".utf8)
        for length in [1, 2, 3, 5, 8, 13, 40, 49, 100, 300, 1000] {
            for _ in 0..<20 {
                let word = (0..<length).map { _ in alphabet[Int(generator.next() % UInt64(alphabet.count))] }
                let symbols = encoder.symbols(of: word)
                #expect(encoder.mergeByScanning(symbols) == encoder.mergeWithHeap(symbols), "\(word)")
            }
        }
    }

    /// A small deterministic generator (the test must not depend on the system's randomness).
    typealias SplitMix = SplitMix64
}
