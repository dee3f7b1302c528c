import Foundation
import Testing
@testable import CLIP

/// CLIP's standard vocabulary carried in the binary: the same tokenizer as open_clip's archive,
/// used for open_clip folders without tokenizer files, refused where it cannot be the model's.
@Suite struct StandardVocabularyTests {
    @Test func bundledVocabularyTokenizesAsTheArchive() throws {
        let bundled = try CLIPTokenizer.standard()
        let archive = TokenizerFixtures.openCLIP
        #expect(bundled.vocabularySize == CLIPTokenizer.standardVocabularySize)
        #expect(bundled.startTokenID == archive.startTokenID && bundled.endTokenID == archive.endTokenID)
        let cases = try TokenizerFixtures.lines("cases.jsonl", as: TokenizerFixtures.TokenCase.self)
        let mismatches = cases.filter { bundled.tokenize($0.text) != $0.ids }.map { TokenizerFixtures.describe($0.text) }
        #expect(mismatches.isEmpty, "\(mismatches.count) of \(cases.count) cases differ: \(mismatches.prefix(10))")
        #expect(try CLIPTokenizer.standard() === bundled, "built once and shared")
    }

    /// An open_clip folder whose configuration (and weights) are those of a fixture, without its tokenizer files.
    private func folderWithoutTokenizer(editing edit: (inout [String: Any]) -> Void = { _ in }) throws -> URL {
        let source = CLIPParityTests.root.appendingPathComponent("openclip-tiny-f32")
        let folder = try TokenizerFixtures.temporaryFolder()
        var json = try JSONSerialization.jsonObject(with: Data(contentsOf: source.appendingPathComponent("open_clip_config.json"))) as! [String: Any]
        edit(&json)
        try JSONSerialization.data(withJSONObject: json).write(to: folder.appendingPathComponent("open_clip_config.json"))
        return folder
    }

    private static func configuration(_ folder: URL) throws -> CLIPConfiguration {
        let data = try Data(contentsOf: folder.appendingPathComponent("open_clip_config.json"))
        return try CLIPConfiguration.openCLIP(json: JSONSerialization.jsonObject(with: data) as! [String: Any])
    }

    private static func setText(_ key: String, _ value: Any, in json: inout [String: Any]) {
        var model = json["model_cfg"] as! [String: Any]
        var text = model["text_cfg"] as! [String: Any]
        text[key] = value
        model["text_cfg"] = text
        json["model_cfg"] = model
    }

    @Test func openCLIPFolderWithoutTokenizerFilesGetsTheStandardVocabulary() throws {
        let folder = try folderWithoutTokenizer { Self.setText("vocab_size", 49_408, in: &$0) }
        defer { try? FileManager.default.removeItem(at: folder) }
        let configuration = try Self.configuration(folder)
        #expect(CLIPTokenizer.files(in: folder) == nil)
        let tokenizer = try CheckpointFolder.tokenizer(in: folder, for: configuration)
        #expect(tokenizer === (try CLIPTokenizer.standard()))
    }

    @Test func otherVocabularySizesAndHubTokenizersAreRefusedByName() throws {
        // The fixture's own vocab_size (1014) is not the standard one.
        let small = try folderWithoutTokenizer()
        defer { try? FileManager.default.removeItem(at: small) }
        let refusal = #expect(throws: CLIPError.self) {
            try CheckpointFolder.tokenizer(in: small, for: try Self.configuration(small))
        }
        #expect(refusal?.description.contains("vocab_size is 1014") == true)
        #expect(refusal?.description.contains("no tokenizer files") == true)

        let named = try folderWithoutTokenizer {
            Self.setText("vocab_size", 49_408, in: &$0)
            Self.setText("hf_tokenizer_name", "some/tokenizer", in: &$0)
        }
        defer { try? FileManager.default.removeItem(at: named) }
        let configuration = try Self.configuration(named)
        #expect(configuration.hubTokenizerName == "some/tokenizer")
        let hubRefusal = #expect(throws: CLIPError.self) { try CheckpointFolder.tokenizer(in: named, for: configuration) }
        #expect(hubRefusal?.description.contains("'some/tokenizer'") == true)
    }

    @Test func foldersWithTokenizerFilesStillUseThem() throws {
        let folder = CLIPParityTests.root.appendingPathComponent("openclip-tiny-f32")
        #expect(CLIPTokenizer.files(in: folder) == .huggingFace)
        let tokenizer = try CheckpointFolder.tokenizer(in: folder, for: try Self.configuration(folder))
        #expect(tokenizer.vocabularySize == 1014)
    }
}
