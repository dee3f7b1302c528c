import Foundation
import Testing
@testable import Tuning

/// The optimisers and the plateau schedule against torch.optim (Tests/Fixtures/optim/optim.json).
@Suite("Optimisers")
struct OptimizerTests {
    struct Fixture: Decodable {
        struct Path: Decodable { let lr: Float; let path: [[Float]] }
        struct Plateau: Decodable { let patience: Int; let metrics: [Float]; let lrs: [Float] }
        let start: [Float]
        let grads: [[Float]]
        let sgd: Path
        let adamw: Path
        let plateau: Plateau
    }

    static let fixture: Fixture = {
        let url = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("Fixtures/optim/optim.json")
        return try! JSONDecoder().decode(Fixture.self, from: Data(contentsOf: url))
    }()

    @Test(arguments: [OptimizerKind.sgd, .adamw])
    func fiveStepsMatchTorchOptim(kind: OptimizerKind) {
        let f = Self.fixture
        var optimizer = kind == .sgd ? Optimizer.sgd(momentum: 0.9, weightDecay: 1e-4) : Optimizer.adamW(weightDecay: 1e-2)
        let reference = kind == .sgd ? f.sgd : f.adamw
        var parameters = f.start
        for (step, gradient) in f.grads.enumerated() {
            optimizer.update(&parameters, gradient: gradient, lr: reference.lr)
            let error = zip(parameters, reference.path[step]).map { abs($0 - $1) }.max()!
            #expect(error < 1e-6, "\(kind) step \(step + 1): \(error)")
        }
    }

    /// A checkpoint keeps the moments apart as raw floats: put back, the path goes on unchanged.
    @Test(arguments: [OptimizerKind.sgd, .adamw])
    func momentsPutBackContinueThePath(kind: OptimizerKind) throws {
        let f = Self.fixture
        let reference = kind == .sgd ? f.sgd : f.adamw
        var optimizer = kind == .sgd ? Optimizer.sgd(momentum: 0.9, weightDecay: 1e-4) : Optimizer.adamW(weightDecay: 1e-2)
        var parameters = f.start
        for gradient in f.grads.prefix(2) { optimizer.update(&parameters, gradient: gradient, lr: reference.lr) }
        var restored = optimizer
        try restored.replaceMoments(first: [], second: [])
        try restored.replaceMoments(first: optimizer.firstMoment, second: optimizer.secondMoment)
        var path = parameters
        for gradient in f.grads.dropFirst(2) {
            optimizer.update(&parameters, gradient: gradient, lr: reference.lr)
            restored.update(&path, gradient: gradient, lr: reference.lr)
        }
        #expect(path == parameters)
        #expect(throws: TuningError.self) {
            try restored.replaceMoments(first: [1, 2], second: kind == .sgd ? [1] : [1, 2, 3])
        }
    }

    @Test func plateauScheduleMatchesReduceLROnPlateau() {
        let f = Self.fixture.plateau
        var schedule = LearningRateSchedule(kind: .plateau, base: 1, epochs: f.metrics.count)
        schedule.patience = f.patience
        for (metric, expected) in zip(f.metrics, f.lrs) {
            schedule.record(metric: metric)
            #expect(abs(schedule.rate(epoch: 0) - expected) < 1e-7, "after \(metric)")
        }
    }

    @Test func cosineGoesFromBaseToMinimum() {
        var schedule = LearningRateSchedule(kind: .cosine, base: 0.002, epochs: 10)
        schedule.minimum = 1e-5
        #expect(schedule.rate(epoch: 0) == 0.002)
        #expect(abs(schedule.rate(epoch: 5) - (1e-5 + (0.002 - 1e-5) / 2)) < 1e-9)
        #expect(abs(schedule.rate(epoch: 10) - 1e-5) < 1e-9)
    }
}
