import Foundation
import Tuning

/// The scikit-learn references in `Tests/Fixtures/metrics/metrics.json`, made by
/// scripts/fixtures/make_metric_fixtures.py (see its docstring for every field).
struct MetricFixtures: Decodable {
    let sklearnVersion: String
    let cases: [Case]

    struct Case: Decodable {
        let name: String
        let scores: [[Double]]
        let labels: [[Int]]
        let classNames: [String]
        let trainingCounts: [Int]
        let groups: [ClassGroup]
        let positives: [Int]
        let averagePrecision: [Double]
        let map: Double?
        let headMap: Double?
        let mediumMap: Double?
        let tailMap: Double?
        let thresholds: [Double]
        let atThresholds: AtThresholds
        let calibration: Calibration

        /// The scores and labels as the metrics take them (the stored doubles are float32 values).
        func labeledScores() throws -> LabeledScores {
            try LabeledScores(
                scoreRows: scores.map { $0.map { Float($0) } },
                labelRows: labels.map { $0.map { $0 == 1 } })
        }

        var floatThresholds: [Float] { thresholds.map { Float($0) } }
    }

    struct AtThresholds: Decodable {
        let precision: [Double]
        let recall: [Double]
        let f1: [Double]
        let truePositives: [Int]
        let falsePositives: [Int]
        let falseNegatives: [Int]
        let cp, cr, cf1, op, or, of1: Double
    }

    struct Calibration: Decodable {
        let globalThreshold: Double
        let globalF1: Double
        let perClass: [ClassCalibration]
    }

    struct ClassCalibration: Decodable {
        let threshold: Double
        let bestF1: Double?
        let fallback: Bool
    }

    static let shared: MetricFixtures = {
        let url = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("Fixtures/metrics/metrics.json")
        let decoder = JSONDecoder()
        decoder.keyDecodingStrategy = .convertFromSnakeCase
        return try! decoder.decode(MetricFixtures.self, from: Data(contentsOf: url))
    }()

    static var caseNames: [String] { shared.cases.map(\.name) }

    static func named(_ name: String) -> Case { shared.cases.first { $0.name == name }! }
}

/// Whether `a` and `b` agree within `tolerance` (absolute).
func metricsClose(_ a: Double?, _ b: Double?, _ tolerance: Double = 1e-6) -> Bool {
    switch (a, b) {
    case (nil, nil): return true
    case let (a?, b?): return abs(a - b) <= tolerance
    default: return false
    }
}

/// AP straight from its definition, independent of the step walk: the mean over positives of
/// the precision of the decision `score >= that positive's score` (ties included). O(N · P).
func averagePrecisionByDefinition(scores: [Float], labels: [Bool]) -> Double? {
    let positiveScores = zip(scores, labels).filter { $0.1 }.map { $0.0 }
    guard !positiveScores.isEmpty else { return nil }
    var sum = 0.0
    for threshold in positiveScores {
        var predicted = 0, truePositives = 0
        for (score, label) in zip(scores, labels) where score >= threshold {
            predicted += 1
            if label { truePositives += 1 }
        }
        sum += Double(truePositives) / Double(predicted)
    }
    return sum / Double(positiveScores.count)
}

/// A small deterministic generator (SplitMix64) so random tests see the same data every run.
struct EvaluationRandom: RandomNumberGenerator {
    var state: UInt64
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }

    /// N × C data with long-tailed prevalence, informative scores rounded to `grid` steps
    /// (0 for continuous scores), so ties are as frequent as wanted.
    mutating func labeledScores(images: Int, classes: Int, grid: Float) throws -> LabeledScores {
        var scores = [Float](), labels = [Bool]()
        scores.reserveCapacity(images * classes)
        labels.reserveCapacity(images * classes)
        for _ in 0..<images {
            for c in 0..<classes {
                let prevalence = 0.3 / Double(1 + c)
                let isPositive = Double.random(in: 0..<1, using: &self) < prevalence
                var score = Float.random(in: 0..<1, using: &self) + (isPositive ? 0.4 : 0)
                if grid > 0 { score = (score / grid).rounded() * grid }
                scores.append(score)
                labels.append(isPositive)
            }
        }
        return try LabeledScores(imageCount: images, classCount: classes, scores: scores, labels: labels)
    }
}

extension LabeledScores {
    /// Scores and labels of one class (column).
    func column(_ c: Int) -> (scores: [Float], labels: [Bool]) {
        ((0..<imageCount).map { score(image: $0, classIndex: c) }, (0..<imageCount).map { label(image: $0, classIndex: c) })
    }
}
