import Foundation
import Testing
import Tuning

/// AP and calibration speed on a COCO-sized test split (5,000 images × 80 classes); run with
/// TAGTUNE_BENCH=1 in a release build (`swift test -c release --filter EvaluationBenchmark`).
/// Prints timings; asserts only the results.
@Suite(.serialized, .enabled(if: ProcessInfo.processInfo.environment["TAGTUNE_BENCH"] != nil))
struct EvaluationBenchmarkTests {
    /// Milliseconds taken by the fastest of `repeats` runs of `body`.
    func fastestMilliseconds(_ repeats: Int, _ body: () throws -> Void) rethrows -> Double {
        var best = Double.infinity
        for _ in 0..<repeats {
            let start = ContinuousClock.now
            try body()
            let elapsed = ContinuousClock.now - start
            best = min(best, Double(elapsed.components.seconds) * 1e3 + Double(elapsed.components.attoseconds) * 1e-15)
        }
        return best
    }

    @Test("AP, the full report and calibration over 5,000 × 80", arguments: [Float(0), 0.01])
    func cocoSized(grid: Float) throws {
        var random = EvaluationRandom(state: 42)
        let data = try random.labeledScores(images: 5000, classes: 80, grid: grid)
        var ap: [Double?] = []
        let apTime = fastestMilliseconds(5) { ap = AveragePrecision.perClass(data) }
        var calibration: ThresholdCalibration?
        let calibrationTime = try fastestMilliseconds(3) {
            calibration = try ThresholdCalibration(validation: data)
        }
        let names = (0..<80).map { "class\($0)" }
        let counts = (0..<80).map { 400 / ($0 + 1) }
        let reportTime = try fastestMilliseconds(3) {
            _ = try EvaluationReport(
                test: data, classNames: names, trainingCounts: counts, thresholds: calibration!.thresholds)
        }
        print(String(format: "5000×80 (grid %.2f): AP %.2f ms, calibration %.2f ms, report %.2f ms",
                     grid, apTime, calibrationTime, reportTime))
        for c in [0, 13, 79] {
            let column = data.column(c)
            #expect(metricsClose(ap[c], averagePrecisionByDefinition(scores: column.scores, labels: column.labels), 1e-12))
        }
    }
}
