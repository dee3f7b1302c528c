import Tuning

/// A finished job's validation metrics (percent): mAP over all classes and per head/medium/tail group,
/// and the class-wise and overall F1 at the calibrated thresholds.
struct JobMetricsSummary: Codable, Sendable, Equatable {
    var validationMap: Double
    var validationHeadMap: Double?
    var validationMediumMap: Double?
    var validationTailMap: Double?
    var validationCF1: Double
    var validationOF1: Double
    var validationImages: Int

    init(_ report: EvaluationReport) {
        validationMap = report.map
        validationHeadMap = report.headMap
        validationMediumMap = report.mediumMap
        validationTailMap = report.tailMap
        validationCF1 = report.cf1
        validationOF1 = report.of1
        validationImages = report.imageCount
    }

    enum CodingKeys: String, CodingKey {
        case validationMap = "validation_map"
        case validationHeadMap = "validation_head_map"
        case validationMediumMap = "validation_medium_map"
        case validationTailMap = "validation_tail_map"
        case validationCF1 = "validation_cf1"
        case validationOF1 = "validation_of1"
        case validationImages = "validation_images"
    }

    func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(validationMap, forKey: .validationMap)
        try container.encode(validationHeadMap, forKey: .validationHeadMap)     // null when the group is empty
        try container.encode(validationMediumMap, forKey: .validationMediumMap)
        try container.encode(validationTailMap, forKey: .validationTailMap)
        try container.encode(validationCF1, forKey: .validationCF1)
        try container.encode(validationOF1, forKey: .validationOF1)
        try container.encode(validationImages, forKey: .validationImages)
    }
}
