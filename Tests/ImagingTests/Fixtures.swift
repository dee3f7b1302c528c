import Foundation
@testable import Imaging

/// Reference data written by scripts/fixtures/make_image_fixtures.py (see its docstring).
enum Fixtures {
    /// Tests/Fixtures/images, found from this file's own path (symlinks resolved).
    static let directory: URL = URL(fileURLWithPath: #filePath).resolvingSymlinksInPath()
        .deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("Fixtures/images")

    struct Decode: Decodable, CustomStringConvertible {
        let file: String
        let reference: String
        let width: Int
        let height: Int
        let background: [UInt8]?
        let matchesPIL: Bool
        let note: String
        var description: String { "\(file) over \(background.map { "\($0)" } ?? "nothing")" }
    }

    struct Resize: Decodable, CustomStringConvertible {
        let source: String
        let sourceWidth: Int
        let sourceHeight: Int
        let width: Int
        let height: Int
        let reference: String
        var description: String { "\(source) -> \(width)x\(height)" }
    }

    struct Preprocess: Decodable, CustomStringConvertible {
        let input: String
        let inputIsEncoded: Bool
        let inputWidth: Int
        let inputHeight: Int
        let rule: String
        let shortestEdge: Int
        let cropSize: Int
        let mean: [Float]
        let std: [Float]
        let reference: String
        var description: String { "\(input) \(rule) S=\(shortestEdge) crop=\(cropSize)" }
    }

    struct Index: Decodable {
        let decode: [Decode]
        let resize: [Resize]
        let preprocess: [Preprocess]
    }

    static let index: Index = {
        do {
            let data = try Data(contentsOf: directory.appendingPathComponent("index.json"))
            return try JSONDecoder().decode(Index.self, from: data)
        } catch {
            fatalError("cannot read the fixture index: \(error)")
        }
    }()

    static func bytes(_ relativePath: String) throws -> [UInt8] {
        [UInt8](try Data(contentsOf: directory.appendingPathComponent(relativePath)))
    }

    /// A raw little-endian float32 file.
    static func floats(_ relativePath: String) throws -> [Float] {
        let raw = try bytes(relativePath)
        return stride(from: 0, to: raw.count, by: 4).map { i in
            Float(bitPattern: UInt32(raw[i]) | UInt32(raw[i + 1]) << 8 | UInt32(raw[i + 2]) << 16 | UInt32(raw[i + 3]) << 24)
        }
    }

    /// A raw RGB8 file as an image.
    static func image(_ relativePath: String, width: Int, height: Int) throws -> RGBImage {
        try RGBImage(width: width, height: height, pixels: bytes(relativePath))
    }
}

/// Count of differing samples and the largest difference between two equally long arrays.
func sampleDifferences(_ a: [UInt8], _ b: [UInt8]) -> (count: Int, maximum: Int) {
    var count = 0, maximum = 0
    for (x, y) in zip(a, b) where x != y {
        count += 1
        maximum = max(maximum, abs(Int(x) - Int(y)))
    }
    return (count, maximum)
}

/// Deterministic pseudo-random numbers for the corruption tests (SplitMix64).
struct SplitMix64: RandomNumberGenerator {
    var state: UInt64
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}

/// CRC-32 as PNG uses it, to build chunks with valid checksums.
func pngCRC(_ bytes: some Sequence<UInt8>) -> UInt32 {
    var crc: UInt32 = 0xFFFF_FFFF
    for byte in bytes {
        crc ^= UInt32(byte)
        for _ in 0..<8 { crc = crc & 1 != 0 ? 0xEDB8_8320 ^ (crc >> 1) : crc >> 1 }
    }
    return ~crc
}

extension Array where Element == UInt8 {
    /// Big-endian bytes of a 32-bit value.
    static func bigEndian(_ value: UInt32) -> [UInt8] {
        [UInt8(value >> 24), UInt8(value >> 16 & 0xFF), UInt8(value >> 8 & 0xFF), UInt8(value & 0xFF)]
    }
}
