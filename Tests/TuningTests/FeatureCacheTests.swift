@testable import CLIP
import Compute
import Foundation
import Imaging
import Testing
@testable import Tuning

/// Image features are encoded once per (weights, image bytes) and then read from disk.
@Suite("Feature cache")
struct FeatureCacheTests {
    static let fixtures = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("Fixtures")

    @Test func secondPassEncodesNothingAndGivesTheSameFeatures() throws {
        let model = try CLIPModel(directory: Self.fixtures.appendingPathComponent("clip/hf-tiny-f32"))
        let root = FileManager.default.temporaryDirectory.appendingPathComponent("tagtune-cache-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: root) }
        let cache = try FeatureCache(root: root, model: model)
        let files = ["jpeg_baseline_420.jpg", "png_rgb.png", "jpeg_gray.jpg", "jpeg_baseline_420.jpg"]
        let bytes = try files.map { [UInt8](try Data(contentsOf: Self.fixtures.appendingPathComponent("images/\($0)"))) }
        var extractor = ImageFeatureExtractor(model: model, cache: cache)
        extractor.batchSize = 2
        let first = try extractor.features(count: files.count, loadBytes: { bytes[$0] }, decode: { try ImageDecoder.decode($0) })
        #expect(first.encoded == 3, "the repeated image is encoded once")
        let second = try extractor.features(count: files.count, loadBytes: { bytes[$0] },
                                            decode: { _ in Issue.record("decoded a cached image"); throw TuningError.cancelled })
        #expect(second.encoded == 0)
        #expect(second.features == first.features)
        // Rows are unit vectors; the repeated image gets the same row.
        let d = model.configuration.projectionDim
        let norm = first.features[0..<d].reduce(0) { $0 + $1 * $1 }
        #expect(abs(norm - 1) < 1e-5)
        #expect(Array(first.features[0..<d]) == Array(first.features[(3 * d)..<(4 * d)]))
        // Uncached reference: the same as encoding directly (up to summation order across batch sizes).
        let direct = L2Normalize.rows(try model.encode(images: [try ImageDecoder.decode(bytes[1])]), width: d)
        let difference = zip(first.features[d..<(2 * d)], direct).map { abs($0 - $1) }.max()!
        #expect(difference < 1e-6, "batch composition changes only the summation order")
    }

    /// A cancelled job stops encoding at the next batch; what was encoded stays in the cache.
    @Test func throwingProgressStopsThePassAndKeepsTheEncodedBatches() throws {
        let model = try CLIPModel(directory: Self.fixtures.appendingPathComponent("clip/hf-tiny-f32"))
        let root = FileManager.default.temporaryDirectory.appendingPathComponent("tagtune-cache-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: root) }
        let cache = try FeatureCache(root: root, model: model)
        let files = ["jpeg_baseline_420.jpg", "png_rgb.png", "jpeg_gray.jpg", "jpeg_444.jpg", "png_gray.png"]
        let bytes = try files.map { [UInt8](try Data(contentsOf: Self.fixtures.appendingPathComponent("images/\($0)"))) }
        var extractor = ImageFeatureExtractor(model: model, cache: cache)
        extractor.batchSize = 2
        var reports: [Int] = []
        #expect(throws: TuningError.cancelled) {
            _ = try extractor.features(count: files.count, loadBytes: { bytes[$0] }, decode: { try ImageDecoder.decode($0) },
                                       progress: { done, _ in reports.append(done); throw TuningError.cancelled })
        }
        #expect(reports == [2], "stopped after the first batch")
        let rest = try extractor.features(count: files.count, loadBytes: { bytes[$0] }, decode: { try ImageDecoder.decode($0) })
        #expect(rest.encoded == 3, "the first batch of 2 came from the cache")
    }

    /// A dataset of `count` images alternating between two fixture JPEGs (two distinct images),
    /// labelled circle or square by `isCircle(i)`.
    static func twoImageDataset(count: Int, in temporary: DatasetTemporaryFolder, isCircle: (Int) -> Bool) throws -> Dataset {
        var files: [String: Data] = ["classes.txt": DatasetTestSupport.text(["circle", "square"])]
        var manifest: [String] = []
        for i in 0..<count {
            files["\(i).jpg"] = try DatasetTestSupport.fixtureImage(i % 2 == 0 ? "jpeg_baseline_420.jpg" : "jpeg_444.jpg")
            manifest.append(#"{"image": "\#(i).jpg", "labels": ["\#(isCircle(i) ? "circle" : "square")"]}"#)
        }
        files["manifest.jsonl"] = DatasetTestSupport.text(manifest)
        return try DatasetLoader.load(from: try DatasetTestSupport.makeFolder(files, in: temporary))
    }

    /// `TuningRun.prepare` asks `isCancelled` between batches and stops with `.cancelled`.
    @Test func preparingARunStopsWhenCancelled() throws {
        let model = try CLIPModel(directory: Self.fixtures.appendingPathComponent("clip/hf-tiny-f32"))
        let temporary = try DatasetTemporaryFolder()
        let dataset = try Self.twoImageDataset(count: 40, in: temporary) { $0 % 3 == 0 }
        let run = TuningRun(model: model, training: dataset, validation: .heldOut(seed: 0), hyperparameters: TuningHyperparameters(),
                            featureCacheRoot: nil, encoderName: "tiny", promptSetID: "ps-test")
        var asked = 0
        var lastStage: (String, Int)?
        #expect(throws: TuningError.cancelled) {
            _ = try run.prepare(events: { event in
                if case .stage(let name, let done, _) = event { lastStage = (name, done) }
            }, isCancelled: { asked += 1; return asked == 2 })
        }
        #expect(asked == 2)
        #expect(lastStage?.0 == "encoding training images" && lastStage?.1 == 32, "stopped after the second batch of 16")
    }

    /// A run says how many images it encoded and how many the cache held: a second run on the same
    /// images (another job, or the same job taken over by another replica sharing the folder) encodes none.
    @Test func aSecondRunOnTheSameImagesEncodesNone() throws {
        let model = try CLIPModel(directory: Self.fixtures.appendingPathComponent("clip/hf-tiny-f32"))
        let temporary = try DatasetTemporaryFolder()
        let dataset = try Self.twoImageDataset(count: 8, in: temporary) { $0 % 2 == 0 }
        let cache = try DatasetTemporaryFolder()
        func encodedCounts() throws -> [String: [Int]] {
            let run = TuningRun(model: model, training: dataset, validation: .heldOut(seed: 0), hyperparameters: TuningHyperparameters(),
                                featureCacheRoot: cache.url, encoderName: "tiny", promptSetID: "ps-test")
            var counts: [String: [Int]] = [:]
            _ = try run.prepare(events: { if case .encoded(let stage, let encoded, let total) = $0 { counts[stage] = [encoded, total] } })
            return counts
        }
        let first = try encodedCounts()
        // Two images per file content: the extractor encodes each distinct image once.
        #expect(first["encoding training images"]?[0] == 2 && first["encoding validation images"]?[0] ?? 0 <= 2, "\(first)")
        let second = try encodedCounts()
        #expect(second.values.allSatisfy { $0[0] == 0 }, "\(second)")
        #expect(second.mapValues { $0[1] } == first.mapValues { $0[1] })
    }

    @Test func sameWeightsWithOtherPreprocessingGetTheirOwnFeatures() throws {
        let source = Self.fixtures.appendingPathComponent("clip/hf-tiny-f32")
        let copy = FileManager.default.temporaryDirectory.appendingPathComponent("tagtune-model-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: copy) }
        try FileManager.default.copyItem(at: source, to: copy)
        let config = copy.appendingPathComponent("preprocessor_config.json")
        var json = try JSONSerialization.jsonObject(with: Data(contentsOf: config)) as! [String: Any]
        json["image_mean"] = [0.5, 0.5, 0.5]
        try JSONSerialization.data(withJSONObject: json).write(to: config)
        let original = try CLIPModel(directory: source), edited = try CLIPModel(directory: copy)
        #expect(try original.weightsDigest() == edited.weightsDigest())
        #expect(try original.featureKey() != edited.featureKey())
        let root = FileManager.default.temporaryDirectory
        #expect(try FeatureCache(root: root, model: original).directory != FeatureCache(root: root, model: edited).directory)
    }

    /// Features computed in bf16 are cached apart from float32 ones; a model asked for in bf16 that
    /// serves f32 (no bf16 kernels) shares the f32 cache, and f32 keys are those of earlier builds.
    @Test func bf16FeaturesAreCachedApart() throws {
        let source = Self.fixtures.appendingPathComponent("clip/hf-tiny-f32")
        let f32 = try CLIPModel(directory: source), asked = try CLIPModel(directory: source, precision: .bf16)
        let digest = try f32.weightsDigest(), p = f32.preprocess
        let f32Key = try f32.featureKey(), askedKey = try asked.featureKey()
        #expect(f32Key == SHA256.hex(Array("\(digest) \(p.shortestEdge) \(p.cropSize) \(p.mean) \(p.std) \(p.cropRule)".utf8)))
        #expect(CLIPModel.featureKey(weightsDigest: digest, preprocess: p, precision: .bf16) != f32Key)
        #expect((askedKey == f32Key) == (asked.precision == .f32))
    }

    @Test func truncatedCacheFileIsIgnored() throws {
        let root = FileManager.default.temporaryDirectory.appendingPathComponent("tagtune-cache-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: root) }
        let cache = try FeatureCache(root: root, key: String(repeating: "ab", count: 32), dimension: 4)
        try cache.store([1, 2, 3, 4], imageDigest: "x")
        #expect(cache.features(imageDigest: "x") == [1, 2, 3, 4])
        try Data([1, 2, 3]).write(to: cache.directory.appendingPathComponent("x.f32"))
        #expect(cache.features(imageDigest: "x") == nil)
    }
}
