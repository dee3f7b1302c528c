import Foundation

/// `prompt_set.json`: everything about a tuned prompt set except its tensors — what encoder it
/// belongs to, the classes, how prompts are laid out, how scores and thresholds work, how it was
/// trained and how well it did.
public struct PromptSetManifest: Sendable, Codable, Equatable {
    public static let currentFormat = "tagtune.prompt_set.v1"

    public struct Encoder: Sendable, Codable, Equatable {
        public var name: String
        public var weightsSHA256: String
        public var layout: String
        public var projectionDim: Int
        public var textWidth: Int

        enum CodingKeys: String, CodingKey {
            case name, layout
            case weightsSHA256 = "weights_sha256"
            case projectionDim = "projection_dim"
            case textWidth = "text_width"
        }
    }

    /// How a logit z_c = s·cos(image, class) becomes the score users see:
    /// score_c = sigmoid(z_c − offset_c). The offsets are the per-class logit thresholds that
    /// maximised F1 on validation data, so a score of 0.5 is the calibrated decision point.
    public struct Scoring: Sendable, Codable, Equatable {
        public var kind: String = "sigmoid_offset"
        public var logitOffsets: [Float]
        /// Whether each class's offset came from its own validation positives (false: the fallback).
        public var calibrated: [Bool]
        /// A per-image shift of the logits before the offsets, chosen on held-out scores
        /// (nil: none; older prompt sets have none).
        public var normalization: ScoreNormalization? = nil
        /// α of the served class features' blend with the hand-written prompt's (`ZeroShotBlend`),
        /// chosen on held-out scores (nil: 0, the tuned prompt alone; older prompt sets have none).
        /// The class features are stored blended; the context alone gives the α = 0 features.
        public var zeroShotWeight: Float? = nil

        enum CodingKeys: String, CodingKey {
            case kind
            case logitOffsets = "logit_offsets"
            case calibrated
            case normalization
            case zeroShotWeight = "zero_shot_weight"
        }
    }

    public var format: String = PromptSetManifest.currentFormat
    public var id: String
    public var method: String
    public var encoder: Encoder
    public var classes: [String]
    public var contextLength: Int
    public var classSpecific: Bool
    public var classPosition: String
    /// Per-class decision thresholds on the score (0.5 after calibration; users may move them).
    public var thresholds: [Float]
    public var scoring: Scoring
    public var classCounts: [Int]
    public var groups: [String]
    public var hyperparameters: TuningHyperparameters
    public var seed: UInt64
    /// Validation metrics of the shipped contexts (mAP etc., percent), when there was validation data.
    public var metrics: EvaluationReport?
    /// The frozen model's zero-shot report ("a photo of a {class}.") on the same validation images,
    /// so what tuning gained per class can be shown beside it. Absent in older prompt sets.
    public var zeroShotMetrics: EvaluationReport? = nil
    /// How the shipped setting and epoch were chosen (absent in older prompt sets).
    public var selection: SelectionRecord? = nil
    /// SHA-256 of each tensor file by file name, recorded when the folder is written and checked at
    /// load. Absent in prompt sets written before it was recorded: their tensors load unchecked.
    public var filesSHA256: [String: String]? = nil
    public var createdAt: Date

    enum CodingKeys: String, CodingKey {
        case format, id, method, encoder, classes, thresholds, scoring, groups, hyperparameters, seed, metrics
        case contextLength = "n_ctx"
        case classSpecific = "class_specific"
        case classPosition = "class_position"
        case classCounts = "class_counts"
        case createdAt = "created_at"
        case zeroShotMetrics = "zero_shot_metrics"
        case selection
        case filesSHA256 = "files_sha256"
    }
}
