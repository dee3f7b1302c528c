import Testing
@testable import Imaging

@Suite("Decoding matches PIL")
struct DecodeTests {
    static let cases = Fixtures.index.decode

    @Test("every fixture decodes to the reference pixels", arguments: cases)
    func decodesExactly(_ fixture: Fixtures.Decode) throws {
        let bytes = try Fixtures.bytes(fixture.file)
        let background = fixture.background.map { RGBColor(red: $0[0], green: $0[1], blue: $0[2]) }
        let image = try ImageDecoder.decode(bytes, options: DecodeOptions(alphaBackground: background))
        #expect(image.width == fixture.width)
        #expect(image.height == fixture.height)
        let expected = try Fixtures.bytes(fixture.reference)
        try #require(image.pixels.count == expected.count)
        let diff = sampleDifferences(image.pixels, expected)
        #expect(diff.count == 0, "\(fixture.file): \(diff.count) samples differ, max \(diff.maximum)")
    }

    @Test("the fixture set covers every format variant the decoder claims")
    func coverage() {
        let files = Set(Self.cases.map(\.file))
        for name in ["jpeg_baseline_420.jpg", "jpeg_444.jpg", "jpeg_progressive.jpg", "jpeg_gray.jpg",
                     "jpeg_cmyk.jpg", "jpeg_ycck.jpg", "jpeg_exif6.jpg", "jpeg_exif3.jpg",
                     "png_rgb.png", "png_rgba.png", "png_palette_trns.png", "png_gray.png",
                     "png_gray_alpha.png", "png_rgb16.png", "png_interlaced.png", "png_exif6.png"] {
            #expect(files.contains(name), "missing fixture \(name)")
        }
        for orientation in 1...8 {
            #expect(files.contains("jpeg_orientation_\(orientation).jpg"))
        }
    }

    @Test("orientation can be left unapplied")
    func orientationOff() throws {
        let bytes = try Fixtures.bytes("jpeg_exif6.jpg")
        let upright = try ImageDecoder.decode(bytes)
        let stored = try ImageDecoder.decode(bytes, options: DecodeOptions(appliesOrientation: false))
        #expect((stored.width, stored.height) == (upright.height, upright.width))
        // Orientation 6 turns the stored image 90° clockwise: stored (x, y) lands at (h − 1 − y, x).
        let x = 5, y = 17
        let s = (y * stored.width + x) * 3
        let u = (x * upright.width + (stored.height - 1 - y)) * 3
        #expect(stored.pixels[s..<(s + 3)] == upright.pixels[u..<(u + 3)])
    }

    @Test("all eight orientations map the stored pixels as PIL's transposes do")
    func orientationsAgreeWithEachOther() throws {
        // Orientation 1 is the stored image; every other fixture is it turned by PIL.
        let base = try ImageDecoder.decode(Fixtures.bytes("jpeg_orientation_1.jpg"))
        for orientation in 2...8 {
            let raw = try ImageDecoder.decode(Fixtures.bytes("jpeg_orientation_\(orientation).jpg"),
                                              options: DecodeOptions(appliesOrientation: false))
            #expect(raw == base, "orientation \(orientation): stored pixels differ from orientation 1")
        }
    }
}
