import Foundation
import GRDB

/// An event to append to a job's log.
struct NewJobEvent: Sendable {
    enum Level: String, Sendable { case info, warn, error }
    enum Kind: String, Sendable { case message, metrics }

    var level: Level
    var kind: Kind
    var message: String
    var data: JobEventData?

    static func message(_ text: String, level: Level = .info, data: JobEventData? = nil) -> NewJobEvent {
        NewJobEvent(level: level, kind: .message, message: text, data: data)
    }

    static func metrics(_ text: String, _ data: JobEventData) -> NewJobEvent {
        NewJobEvent(level: .info, kind: .metrics, message: text, data: data)
    }

    /// The row for `jobID`'s log, signed with the owner's lease when an owner writes it.
    func record(for jobID: String, by lease: JobLease? = nil) throws -> JobEventRecord {
        let json = try data.map { String(decoding: try JSONEncoder.sortedKeys.encode($0), as: UTF8.self) }
        return JobEventRecord(id: ResourceID.make("ftevent-"), jobID: jobID, createdAt: unixNow(),
                              level: level.rawValue, type: kind.rawValue, message: message, data: json,
                              attempt: lease?.attempt, replica: lease?.replica)
    }

    /// Appends the event to `jobID`'s log inside the caller's transaction.
    func insert(for jobID: String, by lease: JobLease? = nil, _ db: Database) throws {
        var row = try record(for: jobID, by: lease)
        try row.insert(db)
    }
}

/// The `data` of an event: where the job was and how it was doing.
struct JobEventData: Codable, Sendable, Equatable {
    var epoch: Int?
    var epochs: Int?
    var step: Int?
    var steps: Int?
    var loss: Double?
    var classificationLoss: Double?
    var embeddingLoss: Double?
    var learningRate: Double?
    var validationMap: Double?
    var elapsedSeconds: Double?
    /// ‖∇L_cse‖ / ‖∇L_cls‖ on the class features (a dead embedding term shows as ≈ 0).
    var gradientRatio: Double? = nil
    var priorLoss: Double? = nil
    /// A search candidate's index (0-based) and its selection score (mean of group mAPs) and group mAPs.
    var candidate: Int? = nil
    var selectionScore: Double? = nil
    var headMap: Double? = nil
    var mediumMap: Double? = nil
    var tailMap: Double? = nil

    enum CodingKeys: String, CodingKey {
        case epoch, epochs, step, steps, loss, candidate
        case gradientRatio = "gradient_ratio"
        case priorLoss = "prior_loss"
        case selectionScore = "selection_score"
        case headMap = "head_map"
        case mediumMap = "medium_map"
        case tailMap = "tail_map"
        case classificationLoss = "classification_loss"
        case embeddingLoss = "embedding_loss"
        case learningRate = "learning_rate"
        case validationMap = "validation_map"
        case elapsedSeconds = "elapsed_seconds"
    }
}

extension JSONEncoder {
    /// Stable output for what is stored: sorted keys.
    static var sortedKeys: JSONEncoder {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        return encoder
    }
}
