import Foundation
import Testing
@testable import CLIP

/// Both file layouts, the folder convenience, special-token configuration and broken inputs.
@Suite struct TokenizerLoadingTests {
    let fileManager = FileManager.default

    @Test func directoryPicksTheArchiveOrTheHuggingFacePair() throws {
        let folder = try TokenizerFixtures.temporaryFolder()
        defer { try? fileManager.removeItem(at: folder) }
        try fileManager.copyItem(at: TokenizerFixtures.mergesArchive,
                                 to: folder.appendingPathComponent(CLIPTokenizer.mergesArchiveName))
        let fromArchive = try CLIPTokenizer(directory: folder)
        #expect(fromArchive.vocabularySize == 49_408)
        #expect(fromArchive.tokenize("Größe") == TokenizerFixtures.openCLIP.tokenize("Größe"))

        // With both layouts present the Hugging Face pair wins.
        for name in ["vocab.json", "merges.txt"] {
            try fileManager.copyItem(at: TokenizerFixtures.smallHuggingFaceDirectory.appendingPathComponent(name),
                                     to: folder.appendingPathComponent(name))
        }
        #expect(try CLIPTokenizer(directory: folder).vocabularySize == 2514)
    }

    @Test func smallArchiveBuildsCLIPsSmallVocabulary() throws {
        // The first 2000 merges as an archive: ids equal the Hugging Face pair's (same layout).
        let folder = try TokenizerFixtures.temporaryFolder()
        defer { try? fileManager.removeItem(at: folder) }
        let merges = try String(contentsOf: TokenizerFixtures.smallHuggingFaceDirectory.appendingPathComponent("merges.txt"),
                                encoding: .utf8)
        let archive = folder.appendingPathComponent("small.txt.gz")
        try Self.gzip(Array(merges.dropLast().utf8), to: archive)  // no empty last line
        let small = try CLIPTokenizer(mergesArchive: archive)
        #expect(small.vocabularySize == 2514)
        #expect(small.startTokenID == 2512 && small.endTokenID == 2513)
        for text in ["a photo of a cat", "don't stop", "the quick brown fox"] {
            #expect(small.tokenize(text) == TokenizerFixtures.smallHuggingFace.tokenize(text))
        }
        // As in open_clip, an empty last line within the merge range is a (merge-less) vocabulary
        // entry "" that shifts the special tokens: SimpleTokenizer gives 2515 tokens, SOT 2513.
        try Self.gzip(Array(merges.utf8), to: archive)
        let shifted = try CLIPTokenizer(mergesArchive: archive)
        #expect(shifted.vocabularySize == 2515)
        #expect(shifted.tokenize("a photo of a cat") == [2513, 320, 1125, 539, 320, 2368, 2514])
    }

    @Test func specialTokensComeFromTheConfigFiles() throws {
        let folder = try TokenizerFixtures.temporaryFolder()
        defer { try? fileManager.removeItem(at: folder) }
        var vocabulary = try String(contentsOf: TokenizerFixtures.smallHuggingFaceDirectory.appendingPathComponent("vocab.json"),
                                    encoding: .utf8)
        vocabulary = vocabulary.replacingOccurrences(of: "\"<|startoftext|>\"", with: "\"<s>\"")
            .replacingOccurrences(of: "\"<|endoftext|>\"", with: "\"</s>\"")
        try vocabulary.write(to: folder.appendingPathComponent("vocab.json"), atomically: true, encoding: .utf8)
        try fileManager.copyItem(at: TokenizerFixtures.smallHuggingFaceDirectory.appendingPathComponent("merges.txt"),
                                 to: folder.appendingPathComponent("merges.txt"))
        #expect(throws: CLIPError.self) { try CLIPTokenizer(directory: folder) }

        let config = #"{"bos_token": {"content": "<s>", "special": true}, "eos_token": "</s>", "unk_token": "</s>"}"#
        try config.write(to: folder.appendingPathComponent("tokenizer_config.json"), atomically: true, encoding: .utf8)
        let tokenizer = try CLIPTokenizer(directory: folder)
        #expect(tokenizer.startTokenID == 2512 && tokenizer.endTokenID == 2513)
        #expect(tokenizer.tokenize("hello </s>") == [2512] + tokenizer.encode("hello") + [2513, 2513])
    }

    @Test func missingFilesAreReported() throws {
        let folder = try TokenizerFixtures.temporaryFolder()
        defer { try? fileManager.removeItem(at: folder) }
        #expect(throws: CLIPError.self) { try CLIPTokenizer(directory: folder) }
        #expect(throws: CLIPError.self) { try CLIPTokenizer(directory: folder.appendingPathComponent("absent")) }
        #expect(throws: CLIPError.self) { try CLIPTokenizer(mergesArchive: folder.appendingPathComponent("absent.txt.gz")) }
        #expect(throws: CLIPError.self) {
            try CLIPTokenizer(vocabularyFile: folder.appendingPathComponent("vocab.json"),
                              mergesFile: folder.appendingPathComponent("merges.txt"))
        }
    }

    @Test func brokenArchivesAreReported() throws {
        let folder = try TokenizerFixtures.temporaryFolder()
        defer { try? fileManager.removeItem(at: folder) }
        let archive = folder.appendingPathComponent("broken.txt.gz")
        let valid = try Data(contentsOf: TokenizerFixtures.mergesArchive)
        for broken in [Data(), Data("not gzip at all".utf8), valid.prefix(valid.count / 2)] {
            try broken.write(to: archive)
            #expect(throws: CLIPError.self) { try CLIPTokenizer(mergesArchive: archive) }
        }
        try Self.gzip(Array("header only\n".utf8), to: archive)
        #expect(throws: CLIPError.self) { try CLIPTokenizer(mergesArchive: archive) }
    }

    @Test(arguments: [
        ("{\"a\": 1", "a b\n"), ("[1, 2]", "a b\n"), ("{\"a\": x}", "a b\n"), ("{}", "a b\n"),
        ("{\"a\": 0, \"<|startoftext|>\": 1, \"<|endoftext|>\": 2}", "#version: 0.2\na b c\n"),
        ("{\"a\": 0, \"<|startoftext|>\": 1, \"<|endoftext|>\": 2}", "#version: 0.2\n"),
        ("{\"a\": 0, \"<|endoftext|>\": 2}", "#version: 0.2\na b\n"),
    ])
    func brokenHuggingFaceFilesAreReported(vocabulary: String, merges: String) throws {
        let folder = try TokenizerFixtures.temporaryFolder()
        defer { try? fileManager.removeItem(at: folder) }
        try vocabulary.write(to: folder.appendingPathComponent("vocab.json"), atomically: true, encoding: .utf8)
        try merges.write(to: folder.appendingPathComponent("merges.txt"), atomically: true, encoding: .utf8)
        #expect(throws: CLIPError.self) { try CLIPTokenizer(directory: folder) }
    }

    @Test func vocabularyJSONEscapesAreDecoded() throws {
        let entries = try TokenVocabularyJSON.parse(Array(#"{"\u00e9\n\"": 1, "\ud83d\ude00": 2, "é": 3}"#.utf8))
        #expect(entries.map(\.token) == [Array("é\n\"".utf8), Array("😀".utf8), Array("é".utf8)])
        #expect(entries.map(\.id) == [1, 2, 3])
    }

    /// Writes `bytes` as a gzip file (zlib's deflate with a gzip header).
    static func gzip(_ bytes: [UInt8], to url: URL) throws {
        try Data(TokenizerTestGzip.compress(bytes)).write(to: url)
    }
}
