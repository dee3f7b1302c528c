import Foundation
import Testing
import Tuning

@Suite struct EvaluationCalibrationTests {
    @Test("per-class thresholds match a brute-force search with sklearn's f1_score", arguments: MetricFixtures.caseNames)
    func matchesBruteForce(caseName: String) throws {
        let fixture = MetricFixtures.named(caseName)
        let calibration = try ThresholdCalibration(validation: try fixture.labeledScores())
        for (c, expected) in fixture.calibration.perClass.enumerated() {
            let chosen = calibration.perClass[c]
            // Same float32 rounding of the same float64 midpoint: exact.
            #expect(chosen.threshold == Float(expected.threshold), "class \(c)")
            #expect(chosen.isFallback == expected.fallback, "class \(c)")
            #expect(metricsClose(chosen.validationF1, expected.bestF1), "class \(c)")
            #expect(chosen.validationPositives == fixture.positives[c], "class \(c)")
        }
        let anyFallback = fixture.calibration.perClass.contains { $0.fallback }
        #expect(calibration.fallbackThreshold == (anyFallback ? Float(fixture.calibration.globalThreshold) : nil))
    }

    @Test("calibrated thresholds reproduce their validation F1 when applied", arguments: MetricFixtures.caseNames)
    func thresholdsReproduceF1(caseName: String) throws {
        let data = try MetricFixtures.named(caseName).labeledScores()
        let calibration = try ThresholdCalibration(validation: data)
        let applied = try ThresholdMetrics(data, thresholds: calibration.thresholds)
        for (c, chosen) in calibration.perClass.enumerated() where !chosen.isFallback {
            #expect(metricsClose(applied.perClass[c].f1, chosen.validationF1, 1e-12), "class \(c)")
        }
    }

    @Test("the threshold sits midway to the next lower score; the lowest score is its own threshold")
    func midpoints() throws {
        // F1 is best predicting {0.9, 0.8}: threshold midway between 0.8 and 0.4.
        let data = try LabeledScores(
            scoreRows: [[0.9], [0.8], [0.4], [0.1]], labelRows: [[true], [true], [false], [false]])
        #expect(try ThresholdCalibration(validation: data).thresholds == [Float((Double(Float(0.8)) + Double(Float(0.4))) / 2)])
        // Every image positive: predict all, at the lowest score.
        let all = try LabeledScores(scoreRows: [[0.9], [0.2]], labelRows: [[true], [true]])
        #expect(try ThresholdCalibration(validation: all).thresholds == [0.2])
    }

    @Test("equal best F1s keep the higher threshold")
    func tieBreaking() throws {
        // Predicting {0.9}: F1 = 2·1/(1+2) = 2/3. Predicting {0.9, 0.8, 0.7, 0.6}: 2·2/(4+2) = 2/3.
        let data = try LabeledScores(
            scoreRows: [[0.9], [0.8], [0.7], [0.6]], labelRows: [[true], [false], [false], [true]])
        let calibration = try ThresholdCalibration(validation: data)
        #expect(calibration.thresholds == [Float((Double(Float(0.9)) + Double(Float(0.8))) / 2)])
        #expect(metricsClose(calibration.perClass[0].validationF1, 2.0 / 3, 1e-12))
    }

    @Test("adjacent floats and infinities still give a threshold that separates them")
    func extremeScores() throws {
        let low: Float = 0.5
        let adjacent = try LabeledScores(scoreRows: [[low.nextUp], [low]], labelRows: [[true], [false]])
        #expect(try ThresholdCalibration(validation: adjacent).thresholds == [low.nextUp])
        let infinite = try LabeledScores(scoreRows: [[.infinity], [-.infinity]], labelRows: [[true], [false]])
        #expect(try ThresholdCalibration(validation: infinite).thresholds == [.infinity])
        let logits = try LabeledScores(scoreRows: [[-2], [-6], [-7]], labelRows: [[true], [true], [false]])
        #expect(try ThresholdCalibration(validation: logits).thresholds == [-6.5])
    }

    @Test("classes without validation positives take the configured fallback")
    func fallbacks() throws {
        let data = try LabeledScores(
            scoreRows: [[0.9, 0.8], [0.3, 0.7], [0.2, 0.1]], labelRows: [[true, false], [false, false], [false, false]])
        let global = try ThresholdCalibration(validation: data)
        // Pooled: best is predicting the single 0.9, midway to 0.8.
        #expect(global.fallbackThreshold == Float((Double(Float(0.9)) + Double(Float(0.8))) / 2))
        #expect(global.perClass[1] == CalibratedThreshold(
            threshold: global.fallbackThreshold!, isFallback: true, validationPositives: 0, validationF1: nil))
        let fixed = try ThresholdCalibration(validation: data, fallback: .fixed(0.75))
        #expect(fixed.thresholds[1] == 0.75 && fixed.fallbackThreshold == 0.75)
        #expect(fixed.thresholds[0] == global.thresholds[0])
    }

    @Test("no fallback is reported when every class has a positive; no positive at all cannot calibrate")
    func fallbackEdges() throws {
        let data = try LabeledScores(scoreRows: [[0.9], [0.2]], labelRows: [[true], [false]])
        #expect(try ThresholdCalibration(validation: data).fallbackThreshold == nil)
        let empty = try LabeledScores(scoreRows: [[0.9], [0.2]], labelRows: [[false], [false]])
        #expect(throws: TuningError.self) { try ThresholdCalibration(validation: empty) }
        #expect(try ThresholdCalibration(validation: empty, fallback: .fixed(0.5)).thresholds == [0.5])
        #expect(throws: TuningError.self) { try ThresholdCalibration(validation: empty, fallback: .fixed(.nan)) }
    }

    @Test("fallback settings round-trip through JSON")
    func fallbackCoding() throws {
        for fallback in [ThresholdFallback.globalBestF1, .fixed(0.25)] {
            let data = try JSONEncoder().encode(fallback)
            #expect(try JSONDecoder().decode(ThresholdFallback.self, from: data) == fallback)
        }
        let json = #"{"kind":"fixed","threshold":0.5}"#
        #expect(try JSONDecoder().decode(ThresholdFallback.self, from: Data(json.utf8)) == .fixed(0.5))
    }
}
