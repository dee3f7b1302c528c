import Foundation
@testable import CLIP

/// Files under Tests/Fixtures/tokenizer (written by scripts/fixtures/make_tokenizer_fixtures.py)
/// and tokenizers loaded once from them.
enum TokenizerFixtures {
    static let directory = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("Fixtures/tokenizer")
    static let mergesArchive = directory.appendingPathComponent("bpe_simple_vocab_16e6.txt.gz")
    static let smallHuggingFaceDirectory = directory.appendingPathComponent("hf-small")

    /// open_clip's vocabulary, from the gzip archive.
    static let openCLIP: CLIPTokenizer = try! CLIPTokenizer(mergesArchive: mergesArchive)
    /// The 2514-token Hugging Face pair.
    static let smallHuggingFace: CLIPTokenizer = try! CLIPTokenizer(directory: smallHuggingFaceDirectory)

    /// {"text", "ids"}: SOT ... EOT at context length 77.
    struct TokenCase: Decodable {
        let text: String
        let ids: [Int32]
    }

    /// {"text", "fixed", "cleaned"}: ftfy.fix_text and the whole clean-up.
    struct CleaningCase: Decodable {
        let text: String
        let fixed: String
        let cleaned: String
    }

    /// {"text", "bad"}: ftfy.badness.is_bad.
    struct BadnessCase: Decodable {
        let text: String
        let bad: Bool
    }

    static func lines<T: Decodable>(_ name: String, as: T.Type) throws -> [T] {
        let data = try Data(contentsOf: directory.appendingPathComponent(name))
        let decoder = JSONDecoder()
        return try data.split(separator: UInt8(ascii: "\n")).map { try decoder.decode(T.self, from: Data($0)) }
    }

    /// A fresh empty folder under the temporary directory.
    static func temporaryFolder() throws -> URL {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("tokenizer-tests-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        return url
    }

    /// Scalars as "U+XXXX" for readable failure messages.
    static func describe(_ text: String) -> String {
        text.unicodeScalars.map { $0.isASCII && $0.value >= 0x20 ? String($0) : String(format: "<U+%04X>", $0.value) }.joined()
    }
}

/// A minimal gzip writer for test archives: deflate "stored" blocks (no compression) and CRC-32.
enum TokenizerTestGzip {
    static func compress(_ bytes: [UInt8]) -> [UInt8] {
        var out: [UInt8] = [0x1F, 0x8B, 8, 0, 0, 0, 0, 0, 0, 255]
        var offset = 0
        repeat {
            let length = min(65_535, bytes.count - offset)
            let isLast: UInt8 = offset + length == bytes.count ? 1 : 0
            out.append(isLast)
            out += littleEndian(UInt32(length), bytes: 2) + littleEndian(UInt32(~UInt16(length)), bytes: 2)
            out += bytes[offset..<offset + length]
            offset += length
        } while offset < bytes.count
        return out + littleEndian(crc32(bytes), bytes: 4) + littleEndian(UInt32(truncatingIfNeeded: bytes.count), bytes: 4)
    }

    private static func littleEndian(_ value: UInt32, bytes: Int) -> [UInt8] {
        (0..<bytes).map { UInt8(truncatingIfNeeded: value >> (8 * UInt32($0))) }
    }

    private static func crc32(_ bytes: [UInt8]) -> UInt32 {
        var crc: UInt32 = 0xFFFF_FFFF
        for byte in bytes {
            crc ^= UInt32(byte)
            for _ in 0..<8 { crc = crc & 1 != 0 ? (crc >> 1) ^ 0xEDB8_8320 : crc >> 1 }
        }
        return ~crc
    }
}
