import Foundation

/// The evaluation of a multi-label tagger on a test split, as the LMPT paper reports it and
/// more: mAP overall and per head / medium / tail group, and precision / recall / F1 at the
/// chosen thresholds per class and averaged (CP, CR, CF1, OP, OR, OF1; see `ThresholdMetrics`).
///
/// Every metric is in percent (0–100), as papers print them; thresholds stay in the scores'
/// own scale. Classes without a positive in the test split have no AP and are left out of
/// mAP, group mAPs, CP and CR (`included_in_map` false, listed in `excluded_classes`).
public struct EvaluationReport: Codable, Sendable, Equatable {
    /// Mean AP over the classes with a positive, in percent.
    public let map: Double
    /// Mean AP of the head classes, in percent; `nil` when the group has no class with a positive.
    public let headMap: Double?
    /// Mean AP of the medium classes, in percent; `nil` when the group has no class with a positive.
    public let mediumMap: Double?
    /// Mean AP of the tail classes, in percent; `nil` when the group has no class with a positive.
    public let tailMap: Double?
    /// One row per class, in class order.
    public let perClass: [ClassEvaluation]
    /// Per-class precision averaged over the classes with a positive, in percent.
    public let cp: Double
    /// Per-class recall averaged over the classes with a positive, in percent.
    public let cr: Double
    /// 2·CP·CR / (CP + CR), in percent.
    public let cf1: Double
    /// Precision over all image–class decisions, in percent.
    public let op: Double
    /// Recall over all image–class decisions, in percent.
    public let or: Double
    /// 2·OP·OR / (OP + OR), in percent.
    public let of1: Double
    /// Images evaluated.
    public let imageCount: Int
    /// Names of the classes left out of the means for want of a positive.
    public let excludedClasses: [String]
    /// The training-count bounds the groups were formed with.
    public let groupBounds: ClassGroupBounds
    /// mAP with each image's logits turned into a softmax over classes first, as the official
    /// LMPT code scores (`softmax(dim=1)`): per-image normalisation changes how images rank
    /// within a class, so this differs from `map`. Present when the logits were given.
    public var softmax: SoftmaxMAP? = nil

    /// mAP on softmax-over-classes scores, total and per group, percent.
    public struct SoftmaxMAP: Codable, Sendable, Equatable {
        public let map: Double
        public let headMap: Double?
        public let mediumMap: Double?
        public let tailMap: Double?

        enum CodingKeys: String, CodingKey {
            case map
            case headMap = "head_map"
            case mediumMap = "medium_map"
            case tailMap = "tail_map"
        }

        /// Softmax over the C logits of each image [N, C] at the logits' own scale, then mAP.
        init(logits: [Float], labels: [Bool], classes: Int, groups: [ClassGroup]) throws {
            var probabilities = logits
            for r in 0..<(logits.count / classes) {
                let row = r * classes
                var top = -Float.infinity
                for k in 0..<classes { top = max(top, logits[row + k]) }
                var sum: Float = 0
                for k in 0..<classes { probabilities[row + k] = exp(logits[row + k] - top); sum += probabilities[row + k] }
                for k in 0..<classes { probabilities[row + k] /= sum }
            }
            let ap = MeanAveragePrecision(try LabeledScores(imageCount: logits.count / classes, classCount: classes,
                                                             scores: probabilities, labels: labels))
            map = (ap.map ?? 0) * 100
            headMap = try ap.mean(of: .head, groups: groups).map { $0 * 100 }
            mediumMap = try ap.mean(of: .medium, groups: groups).map { $0 * 100 }
            tailMap = try ap.mean(of: .tail, groups: groups).map { $0 * 100 }
        }
    }

    /// Evaluates `test` with one name, training count and threshold per class; throws on
    /// mismatched lengths, NaN thresholds, or a test split without any positive label.
    public init(
        test: LabeledScores, classNames: [String], trainingCounts: [Int], thresholds: [Float],
        groupBounds: ClassGroupBounds = .default, softmaxLogits: [Float]? = nil
    ) throws {
        let classes = test.classCount
        guard classNames.count == classes, trainingCounts.count == classes else {
            throw TuningError.invalidArgument(
                "\(classes) classes but \(classNames.count) names and \(trainingCounts.count) training counts")
        }
        if let bad = trainingCounts.firstIndex(where: { $0 < 0 }) {
            throw TuningError.invalidArgument("class \(bad) has a negative training count \(trainingCounts[bad])")
        }
        let groups = groupBounds.groups(of: trainingCounts)
        let decisions = try ThresholdMetrics(test, thresholds: thresholds)
        let averagePrecision = MeanAveragePrecision(test)
        let percent = { (fraction: Double) in fraction * 100 }

        map = percent(averagePrecision.map!)  // defined: ThresholdMetrics found a positive
        headMap = try averagePrecision.mean(of: .head, groups: groups).map(percent)
        mediumMap = try averagePrecision.mean(of: .medium, groups: groups).map(percent)
        tailMap = try averagePrecision.mean(of: .tail, groups: groups).map(percent)
        perClass = (0..<classes).map { c in
            let decision = decisions.perClass[c]
            return ClassEvaluation(
                className: classNames[c], ap: averagePrecision.perClass[c].map(percent),
                trainingCount: trainingCounts[c], group: groups[c], threshold: thresholds[c],
                precision: percent(decision.precision), recall: decision.recall.map(percent),
                f1: decision.f1.map(percent), positives: decision.positives,
                includedInMap: averagePrecision.perClass[c] != nil)
        }
        (cp, cr, cf1) = (percent(decisions.cp), percent(decisions.cr), percent(decisions.cf1))
        (op, or, of1) = (percent(decisions.op), percent(decisions.or), percent(decisions.of1))
        imageCount = test.imageCount
        excludedClasses = averagePrecision.excludedClasses.map { classNames[$0] }
        self.groupBounds = groupBounds
        if let softmaxLogits {
            softmax = try SoftmaxMAP(logits: softmaxLogits, labels: test.labels, classes: classes, groups: groups)
        }
    }

    enum CodingKeys: String, CodingKey {
        case map
        case headMap = "head_map"
        case mediumMap = "medium_map"
        case tailMap = "tail_map"
        case perClass = "per_class"
        case cp, cr, cf1, op, or, of1
        case imageCount = "image_count"
        case excludedClasses = "excluded_classes"
        case groupBounds = "group_bounds"
        case softmax
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(map, forKey: .map)
        try container.encode(headMap, forKey: .headMap)  // optionals as null, not absent
        try container.encode(mediumMap, forKey: .mediumMap)
        try container.encode(tailMap, forKey: .tailMap)
        try container.encode(perClass, forKey: .perClass)
        try container.encode(cp, forKey: .cp)
        try container.encode(cr, forKey: .cr)
        try container.encode(cf1, forKey: .cf1)
        try container.encode(op, forKey: .op)
        try container.encode(or, forKey: .or)
        try container.encode(of1, forKey: .of1)
        try container.encode(imageCount, forKey: .imageCount)
        try container.encode(excludedClasses, forKey: .excludedClasses)
        try container.encode(groupBounds, forKey: .groupBounds)
        try container.encodeIfPresent(softmax, forKey: .softmax)
    }
}
