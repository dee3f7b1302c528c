/// The default model as `/info` reports it (without loading anything).
public struct DefaultModelInfo: Encodable, Sendable {
    let id: String
    let weightsSHA256: String?
    let dtype: String?
    let imageSize: Int?
    let loaded: Bool
    let precision: String?
    let promptSet: String?

    enum CodingKeys: String, CodingKey {
        case id, dtype, loaded, precision
        case weightsSHA256 = "weights_sha256"
        case imageSize = "image_size"
        case promptSet = "prompt_set"
    }

    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(id, forKey: .id)
        try c.encode(weightsSHA256, forKey: .weightsSHA256)
        try c.encode(dtype, forKey: .dtype)
        try c.encode(imageSize, forKey: .imageSize)
        try c.encode(loaded, forKey: .loaded)
        try c.encode(precision, forKey: .precision)
        try c.encode(promptSet, forKey: .promptSet)
    }
}

extension ModelRegistry {
    /// nil while there is no default model.
    public func defaultModelInfo() async -> DefaultModelInfo? {
        guard let name = try? await defaultModelName() else { return nil }
        let view = try? await modelView(name: name)
        return DefaultModelInfo(id: name, weightsSHA256: view?.weightsSHA256, dtype: view?.dtype, imageSize: view?.imageSize,
                                loaded: view?.loaded ?? false, precision: view?.precision, promptSet: view?.defaultPromptSet)
    }
}
