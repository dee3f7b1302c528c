import Testing
import Tuning

@Suite struct EvaluationAveragePrecisionTests {
    @Test("per-class AP matches sklearn's average_precision_score", arguments: MetricFixtures.caseNames)
    func matchesSklearn(caseName: String) throws {
        let fixture = MetricFixtures.named(caseName)
        let ap = AveragePrecision.perClass(try fixture.labeledScores())
        #expect(ap.count == fixture.averagePrecision.count)
        for (c, expected) in fixture.averagePrecision.enumerated() {
            if fixture.positives[c] == 0 {
                // sklearn (1.9) returns 0 with a warning; here such a class has no AP at all.
                #expect(ap[c] == nil, "class \(c) has no positive")
                #expect(expected == 0)
            } else {
                #expect(metricsClose(ap[c], expected), "class \(c): \(String(describing: ap[c])) vs sklearn \(expected)")
            }
        }
    }

    @Test("mAP is the mean over classes with a positive and lists the others", arguments: MetricFixtures.caseNames)
    func meanOverClassesWithPositives(caseName: String) throws {
        let fixture = MetricFixtures.named(caseName)
        let result = MeanAveragePrecision(try fixture.labeledScores())
        #expect(metricsClose(result.map, fixture.map))
        #expect(result.excludedClasses == fixture.positives.indices.filter { fixture.positives[$0] == 0 })
    }

    @Test("the fixtures exercise ties and classes without positives")
    func fixturesCoverEdgeCases() throws {
        let fixture = MetricFixtures.named("ties")
        let data = try fixture.labeledScores()
        #expect(Set(data.column(5).scores).count < data.imageCount / 4)
        #expect(MeanAveragePrecision(data).excludedClasses == [0, 13])
        #expect(MeanAveragePrecision(try MetricFixtures.named("coarse").labeledScores()).excludedClasses == [4])
    }

    @Test("sklearn's documented example: AP 0.8333…")
    func documentedExample() throws {
        let ap = try AveragePrecision.of(scores: [0.1, 0.4, 0.35, 0.8], labels: [false, false, true, true])
        #expect(metricsClose(ap, (1.0 + 2.0 / 3.0) / 2, 1e-12))
    }

    @Test("tied scores enter together, whatever their input order")
    func tiesAreOneStep() throws {
        // A positive tied with a negative at the top: precision 1/2 there, not 1 or 0.
        #expect(try AveragePrecision.of(scores: [0.5, 0.5], labels: [true, false]) == 0.5)
        #expect(try AveragePrecision.of(scores: [0.5, 0.5], labels: [false, true]) == 0.5)
        // +0.0 and -0.0 are one value (as in NumPy): ranking -0.0 below would give 1.
        #expect(try AveragePrecision.of(scores: [0.0, -0.0], labels: [true, false]) == 0.5)
        // Positives {0.9, 0.7, 0.7}, negatives {0.7, 0.2}: (1/1 + 2·(3/4)) / 3.
        let ap = try AveragePrecision.of(
            scores: [0.7, 0.2, 0.9, 0.7, 0.7], labels: [true, false, true, false, true])
        #expect(metricsClose(ap, (1.0 + 2 * 0.75) / 3, 1e-12))
    }

    @Test("any real scores: logits, infinities and a shift or scale give the same AP")
    func anyRealScores() throws {
        let labels = [true, false, true, false, false, true]
        let scores: [Float] = [3.5, -1, 0.25, 0.25, -.infinity, .infinity]
        let ap = try AveragePrecision.of(scores: scores, labels: labels)
        #expect(ap == averagePrecisionByDefinition(scores: scores, labels: labels))
        #expect(try AveragePrecision.of(scores: scores.map { $0 * 4 - 100 }, labels: labels) == ap)
    }

    @Test("AP agrees with its definition on random data with and without ties", arguments: [Float(0), 0.05, 0.25])
    func agreesWithDefinition(grid: Float) throws {
        var random = EvaluationRandom(state: 7)
        let data = try random.labeledScores(images: 300, classes: 6, grid: grid)
        let ap = AveragePrecision.perClass(data)
        for c in 0..<data.classCount {
            let column = data.column(c)
            #expect(metricsClose(ap[c], averagePrecisionByDefinition(scores: column.scores, labels: column.labels), 1e-12))
        }
    }

    @Test("a ranking without positives has no AP; all positives give 1")
    func degenerateRankings() throws {
        #expect(try AveragePrecision.of(scores: [0.3, 0.9], labels: [false, false]) == nil)
        #expect(try AveragePrecision.of(scores: [0.3, 0.9, 0.3], labels: [true, true, true]) == 1)
        #expect(try AveragePrecision.of(scores: [], labels: []) == nil)
        #expect(MeanAveragePrecision(perClass: [nil, nil]).map == nil)
    }

    @Test("bad inputs are rejected with invalidArgument")
    func badInputs() throws {
        #expect(throws: TuningError.invalidArgument("score 1 is NaN")) {
            try AveragePrecision.of(scores: [0.1, .nan], labels: [true, false])
        }
        #expect(throws: TuningError.invalidArgument("2 scores but 1 labels")) {
            try AveragePrecision.of(scores: [0.1, 0.2], labels: [true])
        }
        #expect(throws: TuningError.invalidArgument("score of image 1, class 0 is NaN")) {
            try LabeledScores(imageCount: 2, classCount: 2, scores: [0, 1, .nan, 1], labels: [true, false, true, false])
        }
        #expect(throws: TuningError.self) {
            try LabeledScores(imageCount: 2, classCount: 2, scores: [0, 1, 1], labels: [true, false, true, false])
        }
        #expect(throws: TuningError.self) {
            try LabeledScores(scoreRows: [[0, 1], [1]], labelRows: [[true, false], [true]])
        }
        #expect(throws: TuningError.self) { try LabeledScores(scoreRows: [], labelRows: []) }
    }
}
