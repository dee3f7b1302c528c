import Foundation

/// The per-op PyTorch references (`Tests/Fixtures/ops/ops.safetensors`, made by
/// scripts/fixtures/make_clip_fixtures.py). A minimal F32-only safetensors reader, so that
/// Compute's tests do not depend on the CLIP module's loader.
struct OpsFixture {
    let tensors: [String: (shape: [Int], values: [Float])]

    static let shared: OpsFixture = {
        let url = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("Fixtures/ops/ops.safetensors")
        return try! OpsFixture(url: url)
    }()

    init(url: URL) throws {
        let data = try Data(contentsOf: url)
        let headerLength = data.prefix(8).withUnsafeBytes { Int($0.loadUnaligned(as: UInt64.self).littleEndian) }
        let header = try JSONSerialization.jsonObject(with: data.subdata(in: 8..<(8 + headerLength))) as! [String: Any]
        var tensors: [String: (shape: [Int], values: [Float])] = [:]
        for (name, entry) in header where name != "__metadata__" {
            let info = entry as! [String: Any]
            precondition(info["dtype"] as! String == "F32", "\(name) is not F32")
            let offsets = info["data_offsets"] as! [Int]
            let bytes = data.subdata(in: (8 + headerLength + offsets[0])..<(8 + headerLength + offsets[1]))
            let values = bytes.withUnsafeBytes { Array($0.bindMemory(to: Float.self)) }
            tensors[name] = (info["shape"] as! [Int], values)
        }
        self.tensors = tensors
    }

    subscript(_ name: String) -> [Float] { tensors[name]!.values }
    func shape(_ name: String) -> [Int] { tensors[name]!.shape }
}

/// Largest |a − b| relative to the largest |b| (so tiny reference values do not dominate).
func relativeError(_ a: [Float], _ b: [Float]) -> Float {
    precondition(a.count == b.count, "\(a.count) vs \(b.count) values")
    let scale = max(b.map { abs($0) }.max() ?? 0, 1e-12)
    return zip(a, b).map { abs($0 - $1) }.max()! / scale
}

extension Array where Element == Float {
    /// Runs `body` with mutable pointers to the array's storage (test convenience).
    mutating func withPointer<R>(_ body: (UnsafeMutablePointer<Float>) throws -> R) rethrows -> R {
        try withUnsafeMutableBufferPointer { try body($0.baseAddress!) }
    }
}
