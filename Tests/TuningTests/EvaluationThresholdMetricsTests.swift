import Testing
import Tuning

@Suite struct EvaluationThresholdMetricsTests {
    @Test("per-class precision, recall, F1 and counts match sklearn at the thresholds", arguments: MetricFixtures.caseNames)
    func perClassMatchesSklearn(caseName: String) throws {
        let fixture = MetricFixtures.named(caseName)
        let expected = fixture.atThresholds
        let metrics = try ThresholdMetrics(try fixture.labeledScores(), thresholds: fixture.floatThresholds)
        for (c, row) in metrics.perClass.enumerated() {
            #expect(row.truePositives == expected.truePositives[c], "class \(c)")
            #expect(row.falsePositives == expected.falsePositives[c], "class \(c)")
            #expect(row.falseNegatives == expected.falseNegatives[c], "class \(c)")
            #expect(row.positives == fixture.positives[c], "class \(c)")
            #expect(metricsClose(row.precision, expected.precision[c]), "class \(c)")
            if fixture.positives[c] == 0 {
                // sklearn's zero_division=0 says 0; undefined here.
                #expect(row.recall == nil && row.f1 == nil, "class \(c)")
            } else {
                #expect(metricsClose(row.recall, expected.recall[c]), "class \(c)")
                #expect(metricsClose(row.f1, expected.f1[c]), "class \(c)")
            }
        }
    }

    @Test("the fixtures include thresholds on tied scores and classes with nothing predicted")
    func fixturesCoverEdgeCases() throws {
        let fixture = MetricFixtures.named("ties")
        let data = try fixture.labeledScores()
        let metrics = try ThresholdMetrics(data, thresholds: fixture.floatThresholds)
        #expect(metrics.perClass.contains { $0.predicted == 0 && $0.positives > 0 })
        let tiedAtThreshold = (0..<data.classCount).contains { c in
            data.column(c).scores.filter { $0 == fixture.floatThresholds[c] }.count > 1
        }
        #expect(tiedAtThreshold)
    }

    @Test("CP, CR, CF1, OP, OR, OF1 match sklearn's per-class and micro averages", arguments: MetricFixtures.caseNames)
    func averagesMatchSklearn(caseName: String) throws {
        let fixture = MetricFixtures.named(caseName)
        let expected = fixture.atThresholds
        let metrics = try ThresholdMetrics(try fixture.labeledScores(), thresholds: fixture.floatThresholds)
        #expect(metricsClose(metrics.cp, expected.cp))
        #expect(metricsClose(metrics.cr, expected.cr))
        #expect(metricsClose(metrics.cf1, expected.cf1))
        #expect(metricsClose(metrics.op, expected.op))
        #expect(metricsClose(metrics.or, expected.or))
        #expect(metricsClose(metrics.of1, expected.of1))
    }

    @Test("a worked example: CF1 is the F1 of CP and CR, OP/OR pool all decisions")
    func workedExample() throws {
        // Class 0: scores ≥ 0.5 predicted → TP 2, FP 1, FN 0. Class 1: TP 1, FP 0, FN 2.
        // Class 2: no positive, one false positive (counts in OP only).
        let data = try LabeledScores(
            scoreRows: [[0.9, 0.8, 0.7], [0.6, 0.1, 0.2], [0.5, 0.2, 0.3], [0.1, 0.3, 0.1]],
            labelRows: [[true, true, false], [true, true, false], [false, true, false], [false, false, false]])
        let metrics = try ThresholdMetrics(data, thresholds: [0.5, 0.5, 0.5])
        let (cp, cr) = ((2.0 / 3 + 1) / 2, (1 + 1.0 / 3) / 2)
        #expect(metricsClose(metrics.cp, cp, 1e-12))
        #expect(metricsClose(metrics.cr, cr, 1e-12))
        #expect(metricsClose(metrics.cf1, 2 * cp * cr / (cp + cr), 1e-12))
        let meanF1 = (metrics.perClass[0].f1! + metrics.perClass[1].f1!) / 2
        #expect(abs(metrics.cf1 - meanF1) > 0.01, "CF1 is not the mean per-class F1")
        #expect(metricsClose(metrics.op, 3.0 / 5, 1e-12))
        #expect(metricsClose(metrics.or, 3.0 / 5, 1e-12))
        #expect(metricsClose(metrics.of1, 3.0 / 5, 1e-12))
        #expect(metrics.perClass[2].precision == 0 && metrics.perClass[2].recall == nil)
    }

    @Test("nothing predicted anywhere gives precision 0, not NaN")
    func nothingPredicted() throws {
        let data = try LabeledScores(scoreRows: [[0.2, 0.1], [0.3, 0.4]], labelRows: [[true, false], [false, true]])
        let metrics = try ThresholdMetrics(data, thresholds: [1, 1])
        #expect(metrics.op == 0 && metrics.or == 0 && metrics.of1 == 0)
        #expect(metrics.cp == 0 && metrics.cr == 0 && metrics.cf1 == 0)
        #expect(metrics.perClass.allSatisfy { $0.f1 == 0 })
    }

    @Test("mismatched or NaN thresholds, and a set without positives, are rejected")
    func badInputs() throws {
        let data = try LabeledScores(scoreRows: [[0.2, 0.1]], labelRows: [[true, false]])
        #expect(throws: TuningError.invalidArgument("1 thresholds for 2 classes")) {
            try ThresholdMetrics(data, thresholds: [0.5])
        }
        #expect(throws: TuningError.invalidArgument("threshold of class 1 is NaN")) {
            try ThresholdMetrics(data, thresholds: [0.5, .nan])
        }
        let empty = try LabeledScores(scoreRows: [[0.2, 0.1]], labelRows: [[false, false]])
        #expect(throws: TuningError.self) { try ThresholdMetrics(empty, thresholds: [0.5, 0.5]) }
    }
}
