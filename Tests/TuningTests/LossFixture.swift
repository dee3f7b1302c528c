import Foundation
@testable import Tuning

/// The loss references (`Tests/Fixtures/losses/losses.safetensors`, made by
/// scripts/fixtures/make_loss_fixtures.py): inputs in F32, PyTorch float64 values and autograd
/// gradients in F64. A minimal safetensors reader, so the tests need only the Tuning module.
struct LossFixture: Sendable {
    let tensors: [String: [Double]]

    static let shared: LossFixture = {
        let url = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("Fixtures/losses/losses.safetensors")
        return try! LossFixture(url: url)
    }()

    init(url: URL) throws {
        let data = try Data(contentsOf: url)
        let headerLength = data.prefix(8).withUnsafeBytes { Int($0.loadUnaligned(as: UInt64.self).littleEndian) }
        let header = try JSONSerialization.jsonObject(with: data.subdata(in: 8..<(8 + headerLength))) as! [String: Any]
        var tensors: [String: [Double]] = [:]
        for (name, entry) in header where name != "__metadata__" {
            let info = entry as! [String: Any]
            let offsets = info["data_offsets"] as! [Int]
            let bytes = data.subdata(in: (8 + headerLength + offsets[0])..<(8 + headerLength + offsets[1]))
            switch info["dtype"] as! String {
            case "F32": tensors[name] = bytes.withUnsafeBytes { $0.bindMemory(to: Float.self).map(Double.init) }
            case "F64": tensors[name] = bytes.withUnsafeBytes { Array($0.bindMemory(to: Double.self)) }
            case let other: preconditionFailure("\(name) is \(other), not F32 or F64")
            }
        }
        self.tensors = tensors
    }

    /// A reference tensor, float64.
    func doubles(_ name: String) -> [Double] {
        guard let values = tensors[name] else { preconditionFailure("no tensor \(name) in the loss fixture") }
        return values
    }

    /// An input tensor (stored F32, so the conversion is exact).
    func floats(_ name: String) -> [Float] { doubles(name).map(Float.init) }

    /// A reference loss value.
    func value(_ name: String) -> Double { doubles("\(name)/value")[0] }

    /// y [N, C].
    var labels: [Float] { floats("labels") }
    /// n_c [C].
    var classCounts: [Int] { doubles("counts").map { Int($0) } }
    /// N_train.
    var trainingImageCount: Int { Int(doubles("train_count")[0]) }

    /// The logit cases of the fixture.
    static let logitCases = ["clip", "cosine", "small", "extreme"]

    /// The classification losses of the fixture, under their fixture names.
    func logitLoss(_ name: String) throws -> any MultiLabelLogitLoss {
        switch name {
        case "bce": return BinaryCrossEntropyLoss()
        case "focal": return try FocalLoss()
        case "focal_alpha": return try FocalLoss(alpha: 0.25)
        case "asl_sum": return try AsymmetricLoss()
        case "asl_mean": return try AsymmetricLoss(reduction: .mean)
        case "asl_weight_grad": return try AsymmetricLoss(positiveFocusing: 1, weightGradient: true)
        case "dbl_voc": return try DistributionBalancedLoss.voc(classCounts: classCounts, trainingImageCount: trainingImageCount)
        case "dbl_coco": return try DistributionBalancedLoss.coco(classCounts: classCounts, trainingImageCount: trainingImageCount)
        case "dbl_voc_lmpt":
            return try DistributionBalancedLoss.voc(
                classCounts: classCounts, trainingImageCount: trainingImageCount, form: .officialLMPT)
        case "dbl_coco_lmpt":
            return try DistributionBalancedLoss.coco(
                classCounts: classCounts, trainingImageCount: trainingImageCount, form: .officialLMPT)
        default: preconditionFailure("no loss \(name)")
        }
    }

    static let logitLossNames = [
        "bce", "focal", "focal_alpha", "asl_sum", "asl_mean", "asl_weight_grad",
        "dbl_voc", "dbl_coco", "dbl_voc_lmpt", "dbl_coco_lmpt",
    ]

    /// Largest |a − b| relative to the largest |b| (tiny reference elements do not dominate).
    static func relativeError(_ a: [Float], _ b: [Double]) -> Double {
        precondition(a.count == b.count, "\(a.count) vs \(b.count) values")
        let scale = max(b.map { abs($0) }.max() ?? 0, 1e-300)
        return zip(a, b).map { abs(Double($0) - $1) }.max()! / scale
    }

    /// |a − b| / |b|.
    static func relativeError(_ a: Float, _ b: Double) -> Double {
        abs(Double(a) - b) / max(abs(b), 1e-300)
    }

    /// Central differences of `loss` (Double) at `x`, one element at a time: the step is taken
    /// in Float and the difference divides by the steps actually represented.
    static func centralDifferences(at x: [Float], step: Float = 1e-4, loss: ([Float]) throws -> Double) rethrows -> [Double] {
        var gradient = [Double](repeating: 0, count: x.count)
        var probe = x
        for i in x.indices {
            let up = x[i] + step, down = x[i] - step
            probe[i] = up
            let lossUp = try loss(probe)
            probe[i] = down
            let lossDown = try loss(probe)
            probe[i] = x[i]
            gradient[i] = (lossUp - lossDown) / (Double(up) - Double(down))
        }
        return gradient
    }
}
