/// The body of `PATCH /v1/prompt-sets/{id}`: new thresholds for some classes
/// (`{"thresholds": {"cat": 0.4}}`, each in [0, 1]) and/or `{"default": true}` to make it
/// its model's default. Checked whole before anything is written.
struct PromptSetPatch: Decodable, Sendable {
    var thresholds: [String: Double]?
    var makeDefault: Bool?

    enum CodingKeys: String, CodingKey {
        case thresholds
        case makeDefault = "default"
    }

    init(from decoder: any Decoder) throws {
        try decoder.rejectUnknownFields(allowed: ["thresholds", "default"])
        let container = try decoder.container(keyedBy: CodingKeys.self)
        thresholds = try container.decodeIfPresent([String: Double].self, forKey: .thresholds)
        makeDefault = try container.decodeIfPresent(Bool.self, forKey: .makeDefault)
    }

    /// Threshold changes by class index, after checking every class name and value.
    func thresholdChanges(classes: [String]) throws -> [Int: Float] {
        if thresholds == nil && makeDefault == nil {
            throw RegistryError.invalidPatch(param: "body", message: "nothing to change: give thresholds and/or default")
        }
        if makeDefault == false {
            throw RegistryError.invalidPatch(
                param: "default", message: "default accepts only true; make another prompt set the default instead")
        }
        guard let thresholds else { return [:] }
        if thresholds.isEmpty {
            throw RegistryError.invalidPatch(param: "thresholds", message: "thresholds is empty: give at least one class")
        }
        let index = Dictionary(classes.enumerated().map { ($1, $0) }, uniquingKeysWith: { first, _ in first })
        var changes: [Int: Float] = [:]
        for (name, value) in thresholds.sorted(by: { $0.key < $1.key }) {
            guard let c = index[name] else {
                throw RegistryError.invalidPatch(param: "thresholds.\(name)", message: "no class '\(name)' in this prompt set")
            }
            guard value.isFinite, (0...1).contains(value) else {
                throw RegistryError.invalidPatch(param: "thresholds.\(name)", message: "thresholds.\(name) must be in [0, 1], got \(value)")
            }
            changes[c] = Float(value)
        }
        return changes
    }
}
