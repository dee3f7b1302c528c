import CLIP
import Compute
import Imaging
import Foundation

/// Image features on disk, keyed by (encoder, image bytes digest), so a second job on the same
/// images encodes nothing. The encoder key is `CLIPModel.featureKey()` (weights and preprocessing).
/// One small file per image under `<root>/<first 16 hex of the key>/<image digest>.f32`, written atomically
/// (temporary file, then rename); a file of the wrong size is treated as missing.
public struct FeatureCache: Sendable {
    public let directory: URL
    public let dimension: Int

    /// The cache of one encoder (`key`: its `featureKey()`); `root` is shared by all encoders.
    public init(root: URL, key: String, dimension: Int) throws {
        directory = root.appendingPathComponent(String(key.prefix(16)), isDirectory: true)
        self.dimension = dimension
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
    }

    private func url(_ imageDigest: String) -> URL { directory.appendingPathComponent(imageDigest + ".f32") }

    /// The cached features of an image, or nil.
    public func features(imageDigest: String) -> [Float]? {
        guard let data = try? Data(contentsOf: url(imageDigest)), data.count == dimension * 4 else { return nil }
        return data.withUnsafeBytes { Array($0.bindMemory(to: Float.self)) }
    }

    /// Stores an image's features (atomic: readers never see a partial file). Not `AtomicFile`: a
    /// cache entry lost in a crash is computed again, and an fsync per image would slow big datasets.
    public func store(_ features: ArraySlice<Float>, imageDigest: String) throws {
        precondition(features.count == dimension, "features must have \(dimension) values")
        let data = features.withUnsafeBytes { Data($0) }
        try data.write(to: url(imageDigest), options: .atomic)
    }
}

/// Encodes the images of a job once, through the cache: features [N, D], L2-normalised.
public struct ImageFeatureExtractor {
    public let model: CLIPModel
    public let cache: FeatureCache?
    public var batchSize: Int = 16

    public init(model: CLIPModel, cache: FeatureCache?) {
        self.model = model
        self.cache = cache
    }

    /// Features of every image, in order. `loadBytes(i)` returns image i's file bytes; images are
    /// decoded only when missing from the cache. `progress(done, total)` is called after each batch;
    /// an error it throws (a cancelled job) stops the pass, and the batches encoded so far stay cached.
    public func features(
        count: Int, loadBytes: (Int) throws -> [UInt8], decode: ([UInt8]) throws -> RGBImage,
        progress: (Int, Int) throws -> Void = { _, _ in }
    ) throws -> (features: [Float], encoded: Int) {
        let d = model.configuration.projectionDim
        var out = [Float](repeating: 0, count: count * d)
        var pending: [(index: Int, digest: String, image: RGBImage)] = []
        var firstIndex: [String: Int] = [:]       // digest → first row holding it (duplicates are copied)
        var duplicates: [(row: Int, from: Int)] = []
        var encoded = 0
        func flush() throws {
            guard !pending.isEmpty else { return }
            let raw = try model.encode(images: pending.map(\.image))
            for (j, item) in pending.enumerated() {
                let slice = raw[(j * d)..<((j + 1) * d)]
                try cache?.store(slice, imageDigest: item.digest)
                out.replaceSubrange((item.index * d)..<((item.index + 1) * d), with: slice)
            }
            encoded += pending.count
            pending.removeAll(keepingCapacity: true)
        }
        for i in 0..<count {
            let bytes = try loadBytes(i)
            let digest = SHA256.hex(bytes)
            if let first = firstIndex[digest] {
                duplicates.append((i, first))
            } else if let hit = cache?.features(imageDigest: digest) {
                firstIndex[digest] = i
                out.replaceSubrange((i * d)..<((i + 1) * d), with: hit)
            } else {
                firstIndex[digest] = i
                pending.append((i, digest, try decode(bytes)))
                if pending.count >= batchSize { try flush() }
            }
            if (i + 1) % batchSize == 0 || i + 1 == count { try progress(i + 1, count) }
        }
        try flush()
        for (row, from) in duplicates {
            out.replaceSubrange((row * d)..<((row + 1) * d), with: out[(from * d)..<((from + 1) * d)])
        }
        return (L2Normalize.rows(out, width: d), encoded)
    }
}

extension FeatureCache {
    /// The cache of `model`'s image features under `root`.
    public init(root: URL, model: CLIPModel) throws {
        try self.init(root: root, key: try model.featureKey(), dimension: model.configuration.projectionDim)
    }
}
