import Foundation
import Hummingbird
import Tuning

/// A dataset as the API shows it: sizes, each class's count and head/medium/tail group, warnings.
/// Lists carry the summary only (`class_count`, `warning_count`): with up to
/// `DatasetImporter.maximumClasses` classes and as many warnings, twenty full objects made a
/// 27 MB listing; the classes and warnings are on `GET /v1/datasets/{id}`.
struct DatasetObject: ResponseEncodable, Sendable {
    struct ClassEntry: Encodable, Sendable {
        let name: String
        let count: Int
        let group: String
    }
    struct Groups: Encodable, Sendable {
        let head: Int
        let medium: Int
        let tail: Int
    }
    struct Bounds: Encodable, Sendable {
        /// Fewest images of a head class; fewer than `medium_minimum` make a tail class.
        let head_minimum: Int
        let medium_minimum: Int
    }

    let id: String
    let object = "dataset"
    let name: String
    let created_at: Int64
    let images: Int
    let captioned_images: Int
    let labels: Int
    let class_count: Int
    let classes: [ClassEntry]?
    let groups: Groups
    let group_bounds: Bounds
    let warning_count: Int
    let warnings: [DatasetProblem]?

    init(_ record: DatasetRecord, details: Bool = true) throws {
        let summary = try JSONDecoder().decode(DatasetSummary.self, from: Data(record.summary.utf8))
        id = record.id
        name = record.name
        created_at = record.createdAt
        images = summary.imageCount
        captioned_images = summary.captionedImageCount
        labels = summary.labelCount
        class_count = summary.classes.count
        classes = details ? summary.classes.map { ClassEntry(name: $0.name, count: $0.count, group: $0.group.rawValue) } : nil
        groups = Groups(head: summary.groupSizes.head, medium: summary.groupSizes.medium, tail: summary.groupSizes.tail)
        group_bounds = Bounds(head_minimum: summary.bounds.headMinimum, medium_minimum: summary.bounds.mediumMinimum)
        warning_count = summary.warnings.count
        warnings = details ? summary.warnings : nil
    }
}

/// `DELETE /v1/datasets/{id}`'s answer, as OpenAI's deletions read.
struct DeletedObject: ResponseEncodable, Sendable {
    let id: String
    let object: String
    let deleted: Bool
}
