/// CLIP's text tokenizer, with exactly the behaviour of open_clip's `SimpleTokenizer` (OpenAI's
/// original): ftfy-style clean-up, HTML unescaping, whitespace collapse, Python lower-casing,
/// CLIP's split pattern and byte-level BPE. Safe to share between concurrent tasks.
public final class CLIPTokenizer: Sendable {
    /// The context length of every released CLIP model.
    public static let defaultContextLength = 77

    /// Id of the start-of-text token that opens every sequence.
    public let startTokenID: Int32
    /// Id of the end-of-text token that closes every sequence.
    public let endTokenID: Int32
    /// One more than the largest token id (the size of the text embedding table).
    public let vocabularySize: Int

    let encoder: BytePairEncoder
    private let preTokenizer: PreTokenizer
    /// Ids of `preTokenizer.specialTokens`.
    private let specialTokenIDs: [Int32]

    /// A tokenizer over `vocabulary` (token bytes -> id) and merge lines (their parts, in rank
    /// order). The start and end tokens must be in the vocabulary; they are also recognised when
    /// the text spells them. Tokens the merges produce outside the vocabulary become `unknownToken`
    /// (the end token when nil).
    init(vocabulary: [[UInt8]: Int32], merges: [[[UInt8]]], startToken: String, endToken: String,
         unknownToken: String? = nil) throws {
        guard let start = vocabulary[Array(startToken.utf8)] else {
            throw CLIPError.tokenizer("the vocabulary has no start token \(startToken)")
        }
        guard let end = vocabulary[Array(endToken.utf8)] else {
            throw CLIPError.tokenizer("the vocabulary has no end token \(endToken)")
        }
        guard !merges.isEmpty else { throw CLIPError.tokenizer("no merges") }
        startTokenID = start
        endTokenID = end
        vocabularySize = Int(vocabulary.values.max()!) + 1
        let unknown = unknownToken.flatMap { vocabulary[Array($0.utf8)] } ?? end
        encoder = BytePairEncoder(vocabulary: vocabulary, merges: merges, unknownID: unknown)
        preTokenizer = PreTokenizer(specialTokens: [Array(startToken.unicodeScalars), Array(endToken.unicodeScalars)])
        specialTokenIDs = [start, end]
    }

    /// Token ids of `text`, without start and end tokens and without truncation.
    public func encode(_ text: String) -> [Int32] {
        encode(text, stoppingAfter: .max)
    }

    /// Ids of `text`, stopping after the word that brings their number to `limit` or more.
    private func encode(_ text: String, stoppingAfter limit: Int) -> [Int32] {
        let cleaned = TextCleaner.clean(text)
        var ids = [Int32]()
        ids.reserveCapacity(cleaned.count / 3 + 2)
        var word = [UInt8]()
        preTokenizer.forEachPiece(in: cleaned) { piece in
            if let special = piece.specialIndex {
                ids.append(specialTokenIDs[special])
            } else {
                word.removeAll(keepingCapacity: true)
                for index in piece.range {
                    let scalar = cleaned[index]
                    if scalar.isASCII { word.append(UInt8(scalar.value)) } else { word.append(contentsOf: UTF8.encode(scalar)!) }
                }
                encoder.encode(word: word, into: &ids)
            }
            return ids.count < limit
        }
        return ids
    }

    /// `startTokenID`, the ids of `text`, `endTokenID`; at most `contextLength` ids, keeping the
    /// end token last when truncated; not padded.
    public func tokenize(_ text: String, contextLength: Int = CLIPTokenizer.defaultContextLength) -> [Int32] {
        precondition(contextLength > 0, "contextLength must be positive")
        // Words after the first contextLength - 1 ids cannot change the truncated result.
        let ids = encode(text, stoppingAfter: contextLength - 1)
        var sequence = [startTokenID] + ids + [endTokenID]
        if sequence.count > contextLength {
            sequence.removeLast(sequence.count - contextLength)
            sequence[contextLength - 1] = endTokenID
        }
        return sequence
    }

    /// `tokenize` for each text, as one zero-padded [texts.count × contextLength] matrix.
    public func tokenizeBatch(_ texts: [String], contextLength: Int = CLIPTokenizer.defaultContextLength) -> TokenBatch {
        var ids = [Int32](repeating: 0, count: texts.count * contextLength)
        var lengths = [Int]()
        lengths.reserveCapacity(texts.count)
        for (row, text) in texts.enumerated() {
            let sequence = tokenize(text, contextLength: contextLength)
            ids.replaceSubrange(row * contextLength..<row * contextLength + sequence.count, with: sequence)
            lengths.append(sequence.count)
        }
        return TokenBatch(ids: ids, lengths: lengths, contextLength: contextLength)
    }
}
