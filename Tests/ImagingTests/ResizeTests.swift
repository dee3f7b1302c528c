import Testing
@testable import Imaging

@Suite("Bicubic resize matches PIL")
struct ResizeTests {
    @Test("every size equals PIL's Image.resize(BICUBIC)", arguments: Fixtures.index.resize)
    func matchesPIL(_ fixture: Fixtures.Resize) throws {
        let source = try Fixtures.image(fixture.source, width: fixture.sourceWidth, height: fixture.sourceHeight)
        let resized = try BicubicResampler.resize(source, width: fixture.width, height: fixture.height)
        #expect(resized.width == fixture.width && resized.height == fixture.height)
        let diff = sampleDifferences(resized.pixels, try Fixtures.bytes(fixture.reference))
        #expect(diff.count == 0, "\(fixture): \(diff.count) samples differ, max \(diff.maximum)")
    }

    @Test("any window equals the same region of the full resize")
    func windowMatchesFull() throws {
        let fixture = try #require(Fixtures.index.resize.first { $0.width == 168 })
        let source = try Fixtures.image(fixture.source, width: fixture.sourceWidth, height: fixture.sourceHeight)
        // Both pass orders ((100, 20) and (250, 5) run vertically first), one and two passes.
        for (w, h) in [(168, 126), (60, 45), (120, 126), (168, 90), (299, 224), (100, 20), (250, 5)] {
            let full = try BicubicResampler.resize(source, width: w, height: h)
            let window = PixelRect(x: w / 5, y: h / 3, width: w / 2, height: h / 2)
            var part = [UInt8](repeating: 0, count: window.width * window.height * 3)
            part.withUnsafeMutableBufferPointer {
                BicubicResampler.resample(source, width: w, height: h, window: window, into: $0.baseAddress!)
            }
            var expected: [UInt8] = []
            for y in window.y..<(window.y + window.height) {
                let start = (y * w + window.x) * 3
                expected += full.pixels[start..<(start + window.width * 3)]
            }
            #expect(part == expected, "window of \(w)x\(h)")
        }
    }

    @Test("pass order follows Pillow 13")
    func passOrder() {
        // Observed with Pillow 13 on 40 x 30: which single order reproduces Image.resize.
        let verticalFirst = [(39, 15), (41, 29), (80, 15), (41, 15)]
        let horizontalFirst = [(20, 15), (39, 29), (20, 29), (41, 31), (20, 60), (80, 60)]
        for size in verticalFirst {
            #expect(BicubicResampler.runsVerticalFirst(from: (40, 30), to: size), "\(size)")
        }
        for size in horizontalFirst {
            #expect(!BicubicResampler.runsVerticalFirst(from: (40, 30), to: size), "\(size)")
        }
    }

    @Test("coefficients: Pillow's window bounds and fixed-point weights")
    func coefficients() {
        // 4 -> 2: scale 2, support 4, centers 1 and 3.
        let c = ResampleCoefficients(inSize: 4, outSize: 2)
        #expect(c.stride == 9)
        #expect(c.starts == [0, 0])
        #expect(c.counts == [4, 4])
        // Weights of one output sum to 1.0 in fixed point, up to one unit of rounding per tap.
        for o in 0..<2 {
            let sum = c.weights[(o * c.stride)..<(o * c.stride + 4)].reduce(0, +)
            #expect(abs(Int(sum) - (1 << 22)) <= 4)
        }
        // Same size: each output is its own input (weight 1.0 at the center tap).
        let identity = ResampleCoefficients(inSize: 5, outSize: 5)
        for o in 0..<5 {
            let start = Int(identity.starts[o])
            #expect(identity.weights[o * identity.stride + (o - start)] == 1 << 22)
        }
        // A covered range holds exactly the full table's entries for those outputs.
        let full = ResampleCoefficients(inSize: 90, outSize: 37)
        let part = ResampleCoefficients(inSize: 90, outSize: 37, outputs: 10..<20)
        #expect(part.starts == Array(full.starts[10..<20]) && part.counts == Array(full.counts[10..<20]))
        #expect(part.weights == Array(full.weights[(10 * full.stride)..<(20 * full.stride)]))
        #expect(ResampleCoefficients.bicubic(0) == 1 && ResampleCoefficients.bicubic(1) == 0)
        #expect(ResampleCoefficients.bicubic(0.5) == 0.5625 && ResampleCoefficients.bicubic(-1.5) == -0.0625)
    }

    @Test("same size returns the input; non-positive sizes are refused")
    func edges() throws {
        let image = try RGBImage(width: 2, height: 1, pixels: [1, 2, 3, 4, 5, 6])
        #expect(try BicubicResampler.resize(image, width: 2, height: 1) == image)
        #expect(throws: ImagingError.self) { try BicubicResampler.resize(image, width: 0, height: 1) }
        #expect(throws: ImagingError.self) { try BicubicResampler.resize(image, width: 3, height: -1) }
    }
}
