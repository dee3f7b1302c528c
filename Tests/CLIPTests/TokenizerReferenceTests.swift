import Foundation
import Testing
@testable import CLIP

/// Every fixture case must give exactly the ids of the Python reference.
@Suite struct TokenizerReferenceTests {
    @Test func openCLIPCasesMatchSimpleTokenizer() throws {
        let cases = try TokenizerFixtures.lines("cases.jsonl", as: TokenizerFixtures.TokenCase.self)
        #expect(cases.count >= 150)
        let tokenizer = TokenizerFixtures.openCLIP
        var mismatches: [String] = []
        for testCase in cases {
            let ids = tokenizer.tokenize(testCase.text)
            if ids != testCase.ids {
                mismatches.append("\(TokenizerFixtures.describe(testCase.text)): \(ids) != \(testCase.ids)")
            }
        }
        #expect(mismatches.isEmpty, "\(mismatches.count) of \(cases.count) cases differ:\n\(mismatches.prefix(20).joined(separator: "\n"))")
    }

    @Test func smallHuggingFaceCasesMatchTransformers() throws {
        let cases = try TokenizerFixtures.lines("hf-small/cases.jsonl", as: TokenizerFixtures.TokenCase.self)
        #expect(cases.count >= 20)
        let tokenizer = TokenizerFixtures.smallHuggingFace
        for testCase in cases {
            #expect(tokenizer.tokenize(testCase.text) == testCase.ids, "\(testCase.text)")
        }
    }

    @Test func archiveVocabularyIsCLIPs() throws {
        let tokenizer = TokenizerFixtures.openCLIP
        #expect(tokenizer.vocabularySize == 49_408)
        #expect(tokenizer.startTokenID == 49_406)
        #expect(tokenizer.endTokenID == 49_407)
        #expect(tokenizer.encode("a photo of a cat") == [320, 1125, 539, 320, 2368])
    }

    @Test func smallHuggingFaceVocabularyIsReadFromItsFiles() throws {
        let tokenizer = TokenizerFixtures.smallHuggingFace
        #expect(tokenizer.vocabularySize == 2514)
        #expect(tokenizer.startTokenID == 2512)
        #expect(tokenizer.endTokenID == 2513)
    }
}
