// CLIP's tokenizer (text cleaning, mojibake fixing, HTML unescaping, byte-level BPE) on any
// bytes read as UTF-8, with the real 49,408-token vocabulary from the test fixtures.
import CLIP
import Foundation
import FuzzDriver

let fixtures = URL(fileURLWithPath: #filePath)
    .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
    .appendingPathComponent("Tests/Fixtures/tokenizer")
let tokenizer = try! CLIPTokenizer(mergesArchive: fixtures.appendingPathComponent(CLIPTokenizer.mergesArchiveName))

FuzzDriver.run { bytes in
    let text = String(decoding: bytes, as: UTF8.self)
    let tokens = tokenizer.tokenize(text)
    // Start and end tokens around at most 75 ids (not padded).
    precondition((2...CLIPTokenizer.defaultContextLength).contains(tokens.count), "\(tokens.count) tokens")
    precondition(tokens.first == tokenizer.startTokenID && tokens.last == tokenizer.endTokenID, "no start or end token")
    precondition(tokens.allSatisfy { $0 >= 0 && Int($0) < tokenizer.vocabularySize }, "an id outside the vocabulary")
}
