import Testing
@testable import Imaging

@Suite("CLIP preprocessing matches Hugging Face and open_clip")
struct CLIPPreprocessTests {
    static let tolerance: Float = 1e-6

    func input(_ fixture: Fixtures.Preprocess) throws -> RGBImage {
        if fixture.inputIsEncoded {
            return try ImageDecoder.decode(Fixtures.bytes(fixture.input))
        }
        return try Fixtures.image(fixture.input, width: fixture.inputWidth, height: fixture.inputHeight)
    }

    @Test("tensors equal the references", arguments: Fixtures.index.preprocess)
    func matchesReference(_ fixture: Fixtures.Preprocess) throws {
        let rule: CenterCropRule = fixture.rule == "huggingface" ? .huggingface : .openCLIP
        let preprocess = try CLIPPreprocess(shortestEdge: fixture.shortestEdge, cropSize: fixture.cropSize,
                                            mean: fixture.mean, std: fixture.std, cropRule: rule)
        let image = try input(fixture)
        #expect((image.width, image.height) == (fixture.inputWidth, fixture.inputHeight))
        let tensor = preprocess.apply(image)
        let expected = try Fixtures.floats(fixture.reference)
        try #require(tensor.count == expected.count)
        var worst: Float = 0, differing = 0
        for (a, b) in zip(tensor, expected) where a != b {
            differing += 1
            worst = max(worst, abs(a - b))
        }
        #expect(worst <= Self.tolerance, "\(fixture): \(differing) values differ, max \(worst)")
    }

    @Test("the two rules differ by a one-pixel shift when the margin is odd")
    func rulesDiffer() throws {
        let image = try ImageDecoder.decode(Fixtures.bytes("jpeg_large.jpg"))  // 640 x 427 -> 335 x 224
        let hf = try CLIPPreprocess(cropRule: .huggingface).apply(image)
        let oc = try CLIPPreprocess(cropRule: .openCLIP).apply(image)
        #expect(hf != oc)
        // open_clip starts one column later (round(55.5) = 56 against 111 // 2 = 55).
        var shifted = true
        for c in 0..<3 { for y in 0..<224 { for x in 0..<223 where hf[c * 50176 + y * 224 + x + 1] != oc[c * 50176 + y * 224 + x] { shifted = false } } }
        #expect(shifted)
    }

    @Test("crop placement: floor against round-half-even, and padding offsets")
    func placement() {
        // Gaps 0...7: Hugging Face floors; torchvision rounds half to even.
        let hf = (0...7).map { CenterCropRule.huggingface.placement(length: 10 + $0, crop: 10).source }
        let oc = (0...7).map { CenterCropRule.openCLIP.placement(length: 10 + $0, crop: 10).source }
        #expect(hf == [0, 0, 1, 1, 2, 2, 3, 3])
        #expect(oc == [0, 0, 1, 2, 2, 2, 3, 4])  // 0.5→0, 1.5→2, 2.5→2, 3.5→4
        // Smaller than the crop: Hugging Face pads ceil(gap/2) before, torchvision floor(gap/2).
        #expect(CenterCropRule.huggingface.placement(length: 7, crop: 10) == (0, 2, 7))
        #expect(CenterCropRule.openCLIP.placement(length: 7, crop: 10) == (0, 1, 7))
        #expect(CenterCropRule.huggingface.placement(length: 6, crop: 10) == (0, 2, 6))
    }

    @Test("shortest-edge size: int(S * long / short)")
    func resizedSize() throws {
        let p = try CLIPPreprocess()
        #expect(p.resizedSize(width: 640, height: 427) == (335, 224))
        #expect(p.resizedSize(width: 427, height: 640) == (224, 335))
        #expect(p.resizedSize(width: 4032, height: 3024) == (298, 224))
        #expect(p.resizedSize(width: 1024, height: 768) == (298, 224))
        #expect(p.resizedSize(width: 500, height: 500) == (224, 224))
        #expect(p.resizedSize(width: 1, height: 3) == (224, 672))
        // 224 * 7 / 3 = 522.666...: truncated.
        #expect(p.resizedSize(width: 7, height: 3) == (522, 224))
    }

    @Test("writes into a slice of a batch buffer without touching its neighbours")
    func batchSlice() throws {
        let p = try CLIPPreprocess(shortestEdge: 32, cropSize: 32)
        let image = try Fixtures.image("ref/jpeg_444.rgb", width: 150, height: 100)
        let single = p.apply(image)
        var batch = [Float](repeating: .nan, count: p.outputCount * 3)
        try batch.withUnsafeMutableBufferPointer { buffer in
            try p.apply(image, into: UnsafeMutableBufferPointer(rebasing: buffer[p.outputCount..<(2 * p.outputCount)]))
        }
        #expect(Array(batch[p.outputCount..<(2 * p.outputCount)]) == single)
        #expect(batch[..<p.outputCount].allSatisfy(\.isNaN) && batch[(2 * p.outputCount)...].allSatisfy(\.isNaN))
        var small = [Float](repeating: 0, count: p.outputCount - 1)
        #expect(throws: ImagingError.self) {
            try small.withUnsafeMutableBufferPointer { try p.apply(image, into: $0) }
        }
    }

    @Test("invalid configurations are refused")
    func invalid() {
        #expect(throws: ImagingError.self) { try CLIPPreprocess(shortestEdge: 0) }
        #expect(throws: ImagingError.self) { try CLIPPreprocess(cropSize: -1) }
        #expect(throws: ImagingError.self) { try CLIPPreprocess(mean: [0.5, 0.5]) }
        #expect(throws: ImagingError.self) { try CLIPPreprocess(std: [1, 0, 1]) }
    }
}
