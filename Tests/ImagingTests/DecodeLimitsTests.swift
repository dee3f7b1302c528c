import Testing
@testable import Imaging

@Suite("Decode limits are enforced before pixels are decoded")
struct DecodeLimitsTests {
    func decode(_ bytes: [UInt8], _ limits: DecodeLimits = .default) -> Result<RGBImage, ImagingError> {
        Result { () throws(ImagingError) in try ImageDecoder.decode(bytes, options: DecodeOptions(limits: limits)) }
    }

    func isTooLarge(_ result: Result<RGBImage, ImagingError>) -> Bool {
        if case .failure(.tooLarge) = result { return true }
        return false
    }

    /// Offset of the first SOF0/SOF2 segment's payload.
    func frameHeaderOffset(_ bytes: [UInt8]) -> Int? {
        var i = 2
        while i + 4 <= bytes.count, bytes[i] == 0xFF {
            let marker = bytes[i + 1]
            if marker == 0xC0 || marker == 0xC2 { return i + 4 }
            i += 2 + (Int(bytes[i + 2]) << 8 | Int(bytes[i + 3]))
        }
        return nil
    }

    @Test("input over the byte limit is refused before its format is looked at")
    func byteLimit() throws {
        let bytes = try Fixtures.bytes("jpeg_444.jpg")
        let exact = DecodeLimits(maxEncodedBytes: bytes.count, maxPixelCount: 1 << 30)
        #expect(throws: Never.self) { try ImageDecoder.decode(bytes, options: DecodeOptions(limits: exact)) }
        let below = DecodeLimits(maxEncodedBytes: bytes.count - 1, maxPixelCount: 1 << 30)
        #expect(isTooLarge(decode(bytes, below)))
        #expect(isTooLarge(decode([UInt8](repeating: 0x42, count: bytes.count), below)))  // not even an image
    }

    @Test("pixel limit: equal passes, one less fails", arguments: ["jpeg_444.jpg", "png_rgba.png"])
    func pixelLimit(_ name: String) throws {
        let bytes = try Fixtures.bytes(name)
        let image = try ImageDecoder.decode(bytes)
        let pixels = image.width * image.height
        #expect(throws: Never.self) {
            try ImageDecoder.decode(bytes, options: DecodeOptions(limits: DecodeLimits(maxEncodedBytes: 1 << 20, maxPixelCount: pixels)))
        }
        #expect(isTooLarge(decode(bytes, DecodeLimits(maxEncodedBytes: 1 << 20, maxPixelCount: pixels - 1))))
    }

    @Test("a JPEG header declaring 65000 x 65000 is refused from the header alone")
    func hugeJPEG() throws {
        var bytes = try Fixtures.bytes("jpeg_444.jpg")
        let sof = try #require(frameHeaderOffset(bytes))
        bytes[(sof + 1)...(sof + 4)] = [0xFD, 0xE8, 0xFD, 0xE8]  // height, width = 65000
        let clock = ContinuousClock()
        let start = clock.now
        let result = decode(bytes)
        // A decode would allocate 12 GB and take seconds; the refusal is immediate.
        #expect(clock.now - start < .milliseconds(200))
        guard case .failure(.tooLarge(let reason)) = result else {
            Issue.record("expected tooLarge, got \(result)")
            return
        }
        #expect(reason.contains("65000 x 65000"))
    }

    @Test("a PNG header declaring 100000 x 100000 is refused from the header alone")
    func hugePNG() throws {
        var bytes = try Fixtures.bytes("png_rgb.png")
        let declared: [UInt8] = .bigEndian(100_000) + .bigEndian(100_000)
        bytes[16..<24] = declared[...]
        bytes[29..<33] = [UInt8].bigEndian(pngCRC(bytes[12..<29]))[...]
        let clock = ContinuousClock()
        let start = clock.now
        let result = decode(bytes)
        #expect(clock.now - start < .milliseconds(200))
        guard case .failure(.tooLarge(let reason)) = result else {
            Issue.record("expected tooLarge, got \(result)")
            return
        }
        #expect(reason.contains("100000 x 100000"))
    }
}
