import Testing
@testable import Imaging

@Suite("Bad input ends in ImagingError, never a crash")
struct DecodeErrorTests {
    func decode(_ bytes: [UInt8], _ options: DecodeOptions = DecodeOptions()) -> Result<RGBImage, ImagingError> {
        Result { () throws(ImagingError) in try ImageDecoder.decode(bytes, options: options) }
    }

    func isUnsupported(_ result: Result<RGBImage, ImagingError>) -> Bool {
        if case .failure(.unsupportedFormat) = result { return true }
        return false
    }

    func isCorrupt(_ result: Result<RGBImage, ImagingError>) -> Bool {
        if case .failure(.corrupt) = result { return true }
        return false
    }

    @Test("zero bytes, garbage and other formats are unsupported")
    func unsupported() {
        #expect(isUnsupported(decode([])))
        #expect(isUnsupported(decode([0xFF])))
        var rng = SplitMix64(state: 1)
        #expect(isUnsupported(decode((0..<4096).map { _ in UInt8.random(in: 0...0xFE, using: &rng) })))
        #expect(isUnsupported(decode(Array("GIF89a".utf8) + [UInt8](repeating: 0, count: 40))))
        #expect(isUnsupported(decode(Array("RIFF\u{0}\u{0}\u{0}\u{0}WEBPVP8 ".utf8))))
        #expect(isUnsupported(decode(Array("BM".utf8) + [UInt8](repeating: 0, count: 60))))
        if case .failure(.unsupportedFormat(let reason)) = decode(Array("GIF89a".utf8)) {
            #expect(reason.contains("GIF"))
        }
    }

    @Test("magic bytes followed by garbage are corrupt")
    func garbageAfterMagic() {
        var rng = SplitMix64(state: 2)
        let noise = (0..<2000).map { _ in UInt8.random(in: 0...255, using: &rng) }
        #expect(isCorrupt(decode([0xFF, 0xD8, 0xFF] + noise)))
        #expect(isCorrupt(decode([0xFF, 0xD8, 0xFF])))
        #expect(isCorrupt(decode([0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A] + noise)))
        #expect(isCorrupt(decode([0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A])))
    }

    @Test("every truncation of a JPEG fails", arguments: ["jpeg_orientation_6.jpg", "jpeg_progressive.jpg", "jpeg_cmyk.jpg"])
    func truncatedJPEG(_ name: String) throws {
        let bytes = try Fixtures.bytes(name)
        // Every prefix up to a kilobyte, then every 7th: headers, scans, the final marker.
        let cuts = Array(0..<min(1024, bytes.count)) + Array(stride(from: 1024, to: bytes.count, by: 7))
            + [bytes.count - 2, bytes.count - 1]
        for cut in cuts where cut < bytes.count {
            let result = decode(Array(bytes.prefix(cut)))
            guard case .failure = result else {
                Issue.record("\(name) cut to \(cut) of \(bytes.count) bytes decoded")
                continue
            }
        }
    }

    @Test("a PNG cut before its image data ends fails; a cut after it yields the full image",
          arguments: ["png_rgba.png", "png_interlaced.png", "png_palette_trns.png"])
    func truncatedPNG(_ name: String) throws {
        let bytes = try Fixtures.bytes(name)
        let full = try ImageDecoder.decode(bytes)
        let idatEnd = try #require(endOfLastIDAT(bytes))
        for cut in 0..<bytes.count {
            let result = decode(Array(bytes.prefix(cut)))
            switch result {
            case .failure:
                continue
            case .success(let image):
                // Like PIL, chunks after the image data are optional (a lost IEND is tolerated).
                #expect(cut >= idatEnd - 4 && image == full, "\(name) cut to \(cut) decoded wrongly")
            }
        }
    }

    func endOfLastIDAT(_ bytes: [UInt8]) -> Int? {
        var i = 8, end: Int?
        while i + 12 <= bytes.count {
            let length = Int(bytes[i]) << 24 | Int(bytes[i + 1]) << 16 | Int(bytes[i + 2]) << 8 | Int(bytes[i + 3])
            if bytes[(i + 4)..<(i + 8)].elementsEqual("IDAT".utf8) { end = i + 12 + length }
            i += 12 + length
        }
        return end
    }

    @Test("a PNG with a bad CRC on a critical chunk fails")
    func badCRC() throws {
        let bytes = try Fixtures.bytes("png_rgb.png")
        var header = bytes
        header[29] ^= 0xFF  // last byte of the IHDR CRC
        #expect(isCorrupt(decode(header)))
        var data = bytes
        data[data.count - 13] ^= 0x01  // last byte of the last IDAT's CRC
        #expect(isCorrupt(decode(data)))
        var compressed = bytes
        compressed[60] ^= 0x55  // inside the IDAT payload
        #expect(isCorrupt(decode(compressed)))
    }

    @Test("random byte corruption never crashes", arguments: ["jpeg_baseline_420.jpg", "jpeg_progressive.jpg",
                                                              "png_rgba.png", "png_interlaced.png"])
    func fuzz(_ name: String) throws {
        let bytes = try Fixtures.bytes(name)
        var rng = SplitMix64(state: UInt64(bytes.count))
        for _ in 0..<150 {
            var mutated = bytes
            for _ in 0..<Int.random(in: 1...8, using: &rng) {
                mutated[Int.random(in: 2..<mutated.count, using: &rng)] = UInt8.random(in: 0...255, using: &rng)
            }
            if case .success(let image) = decode(mutated) {
                #expect(image.pixels.count == image.width * image.height * 3)
            }
        }
    }
}
