import Foundation
import Hummingbird
import Tuning

/// A prompt set as `GET /v1/prompt-sets` shows it: its encoder binding, classes with their
/// thresholds, and how it was made and scored.
struct PromptSetView: ResponseEncodable {
    struct Encoder: Encodable, Sendable {
        let name: String
        let weightsSHA256: String
        enum CodingKeys: String, CodingKey {
            case name
            case weightsSHA256 = "weights_sha256"
        }
    }

    struct ClassEntry: Encodable, Sendable {
        let name: String
        let threshold: Float
        let trainingCount: Int?
        let group: String?
        /// Whether its score offset was calibrated on its own validation positives.
        let calibrated: Bool?
        enum CodingKeys: String, CodingKey {
            case name, threshold, group, calibrated
            case trainingCount = "training_count"
        }
    }

    struct Metrics: Encodable, Sendable {
        /// One class of the validation report: the web page's per-class AP chart.
        struct ClassRow: Encodable, Sendable {
            let className: String
            let ap: Double?
            let group: String
            let count: Int
            let positives: Int
            enum CodingKeys: String, CodingKey {
                case ap, group, count, positives
                case className = "class"
            }
        }
        let map: Double
        let headMap: Double?
        let mediumMap: Double?
        let tailMap: Double?
        let cf1: Double
        let of1: Double
        let perClass: [ClassRow]
        /// The frozen model's zero-shot report on the same validation images (same shape, no nesting).
        let zeroShot: ZeroShot?
        enum CodingKeys: String, CodingKey {
            case map, cf1, of1
            case headMap = "head_map"
            case mediumMap = "medium_map"
            case tailMap = "tail_map"
            case perClass = "per_class"
            case zeroShot = "zero_shot"
        }

        struct ZeroShot: Encodable, Sendable {
            let map: Double
            let headMap: Double?
            let mediumMap: Double?
            let tailMap: Double?
            let perClass: [ClassRow]
            enum CodingKeys: String, CodingKey {
                case map
                case headMap = "head_map"
                case mediumMap = "medium_map"
                case tailMap = "tail_map"
                case perClass = "per_class"
            }
        }

        static func rows(_ report: EvaluationReport) -> [ClassRow] {
            report.perClass.map {
                ClassRow(className: $0.className, ap: $0.ap, group: $0.group.rawValue, count: $0.trainingCount, positives: $0.positives)
            }
        }
    }

    let id: String
    var object = "prompt_set"
    /// The model (encoder folder) it is bound to; nil when none has its weights.
    let model: String?
    let encoder: Encoder?
    let method: String?
    let classes: [ClassEntry]
    let contextLength: Int?
    let classSpecific: Bool?
    let createdAt: Int?
    let metrics: Metrics?
    let isDefault: Bool
    /// Why it cannot be used, when it cannot.
    let error: String?

    enum CodingKeys: String, CodingKey {
        case id, object, model, encoder, method, classes, metrics, error
        case contextLength = "n_ctx"
        case classSpecific = "class_specific"
        case createdAt = "created_at"
        case isDefault = "default"
    }

    init(folder: PromptSetFolder, manifest: PromptSetManifest?, model: String?, isDefault: Bool, error: String?) {
        id = folder.id
        self.model = model
        self.isDefault = isDefault
        self.error = error ?? folder.problem
        guard let manifest else {
            encoder = nil; method = nil; classes = []; contextLength = nil; classSpecific = nil; createdAt = nil; metrics = nil
            return
        }
        encoder = Encoder(name: manifest.encoder.name, weightsSHA256: manifest.encoder.weightsSHA256)
        method = manifest.method
        classes = manifest.classes.indices.map { i in
            ClassEntry(name: manifest.classes[i], threshold: manifest.thresholds[i],
                       trainingCount: manifest.classCounts.indices.contains(i) ? manifest.classCounts[i] : nil,
                       group: manifest.groups.indices.contains(i) ? manifest.groups[i] : nil,
                       calibrated: manifest.scoring.calibrated.indices.contains(i) ? manifest.scoring.calibrated[i] : nil)
        }
        contextLength = manifest.contextLength
        classSpecific = manifest.classSpecific
        createdAt = Int(manifest.createdAt.timeIntervalSince1970)
        metrics = manifest.metrics.map {
            Metrics(map: $0.map, headMap: $0.headMap, mediumMap: $0.mediumMap, tailMap: $0.tailMap, cf1: $0.cf1, of1: $0.of1,
                    perClass: Metrics.rows($0),
                    zeroShot: manifest.zeroShotMetrics.map {
                        Metrics.ZeroShot(map: $0.map, headMap: $0.headMap, mediumMap: $0.mediumMap, tailMap: $0.tailMap,
                                         perClass: Metrics.rows($0))
                    })
        }
    }

    /// Every field is written, absent ones as null, so clients see one shape.
    func encode(to encoder: any Swift.Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(id, forKey: .id)
        try c.encode(object, forKey: .object)
        try c.encode(model, forKey: .model)
        try c.encode(self.encoder, forKey: .encoder)
        try c.encode(method, forKey: .method)
        try c.encode(classes, forKey: .classes)
        try c.encode(contextLength, forKey: .contextLength)
        try c.encode(classSpecific, forKey: .classSpecific)
        try c.encode(createdAt, forKey: .createdAt)
        try c.encode(metrics, forKey: .metrics)
        try c.encode(isDefault, forKey: .isDefault)
        try c.encode(error, forKey: .error)
    }
}
