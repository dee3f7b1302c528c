/// How a set of held-out scores ranks a tuning setting: the mean of the head, medium and tail
/// mAPs (groups by training count), so that the tail weighs as much as the head whatever the
/// class mix. Groups without a class with a positive are left out; mAP over all classes is kept
/// beside it for reports. Percent.
public struct SelectionScore: Sendable, Codable, Equatable, Comparable {
    /// Mean of the group mAPs present.
    public let value: Double
    public let map: Double
    public let headMap: Double?
    public let mediumMap: Double?
    public let tailMap: Double?

    /// Scores [N, C] (any monotone per-class score) against labels [N, C]; `groups` from training counts.
    public init(scores: [Float], labels: [Float], classes: Int, groups: [ClassGroup]) throws {
        let n = labels.count / classes
        let data = try LabeledScores(imageCount: n, classCount: classes, scores: scores, labels: labels.map { $0 > 0.5 })
        let ap = MeanAveragePrecision(data)
        let percent = { (x: Double) in x * 100 }
        map = (ap.map ?? 0) * 100
        headMap = try ap.mean(of: .head, groups: groups).map(percent)
        mediumMap = try ap.mean(of: .medium, groups: groups).map(percent)
        tailMap = try ap.mean(of: .tail, groups: groups).map(percent)
        let present = [headMap, mediumMap, tailMap].compactMap { $0 }
        value = present.isEmpty ? 0 : present.reduce(0, +) / Double(present.count)
    }

    public static func < (a: SelectionScore, b: SelectionScore) -> Bool { a.value < b.value }

    enum CodingKeys: String, CodingKey {
        case value = "group_mean_map"
        case map
        case headMap = "head_map"
        case mediumMap = "medium_map"
        case tailMap = "tail_map"
    }
}
