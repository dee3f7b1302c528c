import Foundation

extension CLIPTokenizer {
    /// open_clip's name for its merges archive.
    public static let mergesArchiveName = "bpe_simple_vocab_16e6.txt.gz"
    /// CLIP reads at most this many merges from its archive (49152 - 256 - 2).
    public static let archiveMergeCount = 48_894

    /// The tokenizer files a folder holds, in the order they are preferred.
    public enum Files: Sendable, Equatable {
        /// Hugging Face `vocab.json` + `merges.txt`.
        case huggingFace
        /// open_clip's merges archive (`bpe_simple_vocab_16e6.txt.gz`, or a folder's single `*.txt.gz`).
        case mergesArchive(String)
    }

    /// Which tokenizer files `directory` has; nil when it has none.
    public static func files(in directory: URL) -> Files? {
        let names = (try? FileManager.default.contentsOfDirectory(atPath: directory.path)) ?? []
        if names.contains("vocab.json") && names.contains("merges.txt") { return .huggingFace }
        let archives = names.filter { $0.hasSuffix(".txt.gz") }.sorted()
        if archives.contains(mergesArchiveName) { return .mergesArchive(mergesArchiveName) }
        return archives.count == 1 ? .mergesArchive(archives[0]) : nil
    }

    /// Loads whichever tokenizer files `directory` has: Hugging Face `vocab.json` + `merges.txt`
    /// (preferred), else open_clip's `bpe_simple_vocab_16e6.txt.gz` (or a single `*.txt.gz`).
    public convenience init(directory: URL) throws {
        switch Self.files(in: directory) {
        case .huggingFace:
            try self.init(vocabularyFile: directory.appendingPathComponent("vocab.json"),
                          mergesFile: directory.appendingPathComponent("merges.txt"))
        case .mergesArchive(let name):
            try self.init(mergesArchive: directory.appendingPathComponent(name))
        case nil:
            throw CLIPError.tokenizer("no tokenizer files (vocab.json + merges.txt, or \(Self.mergesArchiveName)) in \(directory.path)")
        }
    }

    /// The number of ids of CLIP's standard vocabulary: 256 bytes, the same with "</w>", 48,894
    /// merges and the two special tokens.
    public static let standardVocabularySize = 49_408

    /// CLIP's standard vocabulary, carried in the binary (what open_clip ships and uses for every
    /// model without a Hugging Face tokenizer): built once, on first use, and shared.
    public static func standard() throws -> CLIPTokenizer {
        try standardTokenizer.get()
    }

    private static let standardTokenizer: Result<CLIPTokenizer, CLIPError> = {
        guard let packed = Data(base64Encoded: GeneratedStandardVocabulary.gzipBase64, options: .ignoreUnknownCharacters) else {
            return .failure(.tokenizer("the bundled vocabulary is not valid base64"))
        }
        do {
            return .success(try CLIPTokenizer(mergesText: try Gzip.decompress([UInt8](packed)), name: "the bundled vocabulary"))
        } catch let error as CLIPError {
            return .failure(error)
        } catch {
            return .failure(.tokenizer("the bundled vocabulary: \(error)"))
        }
    }()

    /// Loads open_clip's gzip merges archive and builds the vocabulary as CLIP does: the 256
    /// byte symbols, the same with "</w>", each merge joined (lines 1 ... 48894 at most; line 0 is
    /// a header), then "<start_of_text>" and "<end_of_text>" (open_clip's names, which it also
    /// recognises in text).
    public convenience init(mergesArchive url: URL) throws {
        try self.init(mergesText: try Gzip.decompress(Self.readFile(url)), name: url.lastPathComponent)
    }

    /// The same from the archive's decompressed text; `name` says where it came from in errors.
    convenience init(mergesText text: [UInt8], name: String) throws {
        let lines = text.split(separator: UInt8(ascii: "\n"), omittingEmptySubsequences: false)
        guard lines.count >= 2 else { throw CLIPError.tokenizer("\(name) has no merges") }
        let merges = lines[1..<min(lines.count, Self.archiveMergeCount + 1)].map(Self.splitOnWhitespace)
        guard merges.contains(where: { $0.count == 2 }) else {
            throw CLIPError.tokenizer("\(name) has no merges")
        }
        // Python builds dict(zip(vocab, range(len(vocab)))): a repeated token keeps its last id.
        var tokens = ByteLevelAlphabet.bytesInVocabularyOrder.map { ByteLevelAlphabet.symbol(for: $0, endOfWord: false) }
        tokens += ByteLevelAlphabet.bytesInVocabularyOrder.map { ByteLevelAlphabet.symbol(for: $0, endOfWord: true) }
        tokens += merges.map { Array($0.joined()) }
        let start = "<start_of_text>", end = "<end_of_text>"
        tokens += [Array(start.utf8), Array(end.utf8)]
        var vocabulary: [[UInt8]: Int32] = [:]
        vocabulary.reserveCapacity(tokens.count)
        for (id, token) in tokens.enumerated() { vocabulary[token] = Int32(id) }
        try self.init(vocabulary: vocabulary, merges: merges, startToken: start, endToken: end)
    }

    /// Loads Hugging Face `vocab.json` and `merges.txt`. The start, end and unknown tokens are
    /// read from `special_tokens_map.json` or `tokenizer_config.json` next to `vocab.json` when
    /// present (`bos_token`, `eos_token`, `unk_token`), else "<|startoftext|>" and "<|endoftext|>";
    /// their ids come from the vocabulary or from `added_tokens_decoder`.
    public convenience init(vocabularyFile: URL, mergesFile: URL) throws {
        var vocabulary: [[UInt8]: Int32] = [:]
        for (token, id) in try TokenVocabularyJSON.parse(Self.readFile(vocabularyFile)) {
            vocabulary[token] = id
        }
        guard !vocabulary.isEmpty else { throw CLIPError.tokenizer("\(vocabularyFile.lastPathComponent) is empty") }
        var merges: [[[UInt8]]] = []
        for (number, line) in try Self.readFile(mergesFile).split(separator: UInt8(ascii: "\n")).enumerated() {
            if number == 0 && line.starts(with: Array("#version".utf8)) { continue }
            let parts = Self.splitOnWhitespace(line)
            if parts.isEmpty { continue }
            guard parts.count == 2 else {
                throw CLIPError.tokenizer("\(mergesFile.lastPathComponent) line \(number + 1) is not a merge \"a b\"")
            }
            merges.append(parts)
        }
        let folder = vocabularyFile.deletingLastPathComponent()
        let config = try Self.specialTokenNames(in: folder)
        for (name, id) in config.addedTokens where vocabulary[Array(name.utf8)] == nil {
            vocabulary[Array(name.utf8)] = id
        }
        try self.init(vocabulary: vocabulary, merges: merges,
                      startToken: config.start ?? "<|startoftext|>", endToken: config.end ?? "<|endoftext|>",
                      unknownToken: config.unknown ?? "<|endoftext|>")
    }

    static func readFile(_ url: URL) throws -> [UInt8] {
        guard let data = FileManager.default.contents(atPath: url.path) else {
            throw CLIPError.tokenizer("cannot read \(url.path)")
        }
        return [UInt8](data)
    }

    /// Python's `str.split()` on a merge line (symbols never contain whitespace).
    private static func splitOnWhitespace(_ line: ArraySlice<UInt8>) -> [[UInt8]] {
        let text = String(decoding: line, as: UTF8.self)
        let unicode = PythonUnicode.shared
        return text.unicodeScalars.split(whereSeparator: unicode.isSpace).map { Array(String($0).utf8) }
    }

    /// Special-token names from the Hugging Face config files of `folder`.
    private static func specialTokenNames(in folder: URL) throws
        -> (start: String?, end: String?, unknown: String?, addedTokens: [(String, Int32)]) {
        var start: String?, end: String?, unknown: String?
        var added: [(String, Int32)] = []
        for name in ["tokenizer_config.json", "special_tokens_map.json"] {
            let url = folder.appendingPathComponent(name)
            guard FileManager.default.fileExists(atPath: url.path) else { continue }
            guard let object = try? JSONSerialization.jsonObject(with: Data(readFile(url))) as? [String: Any] else {
                throw CLIPError.tokenizer("\(name) is not a JSON object")
            }
            start = tokenName(object["bos_token"]) ?? start
            end = tokenName(object["eos_token"]) ?? end
            unknown = tokenName(object["unk_token"]) ?? unknown
            if let decoder = object["added_tokens_decoder"] as? [String: Any] {
                for (id, entry) in decoder {
                    if let id = Int32(id), let content = tokenName(entry) { added.append((content, id)) }
                }
            }
        }
        return (start, end, unknown, added)
    }

    /// A token written as a string or as {"content": string}.
    private static func tokenName(_ value: Any?) -> String? {
        if let name = value as? String { return name }
        if let object = value as? [String: Any] { return object["content"] as? String }
        return nil
    }
}
