import Hummingbird

/// An encoder as `GET /v1/models` shows it: what it is, whether it is in memory, and which
/// prompt sets are bound to its weights.
struct ModelView: ResponseEncodable, Equatable {
    let id: String
    var object = "model"
    let layout: String?
    let dtype: String?
    let imageSize: Int?
    let projectionDim: Int?
    let weightsSHA256: String?
    let loaded: Bool
    let isDefault: Bool
    let defaultPromptSet: String?
    let promptSets: [String]
    /// The precision of its weight products: what serves when loaded, else what loading will ask for.
    let precision: String
    /// Why a bf16 model serves f32 (this CPU has no bf16 kernels), when it does.
    let precisionNote: String?
    /// What runs its weight products, when loaded: "oneDNN 2.6.3 gemm:jit (avx2)".
    let weightProducts: String?
    /// Why the folder cannot be served, when it cannot.
    let error: String?

    enum CodingKeys: String, CodingKey {
        case id, object, layout, dtype, loaded, error
        case imageSize = "image_size"
        case projectionDim = "projection_dim"
        case weightsSHA256 = "weights_sha256"
        case isDefault = "default"
        case defaultPromptSet = "default_prompt_set"
        case promptSets = "prompt_sets"
        case precision
        case precisionNote = "precision_note"
        case weightProducts = "weight_products"
    }

    /// Every field is written, absent ones as null, so clients see one shape.
    func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(id, forKey: .id)
        try c.encode(object, forKey: .object)
        try c.encode(layout, forKey: .layout)
        try c.encode(dtype, forKey: .dtype)
        try c.encode(imageSize, forKey: .imageSize)
        try c.encode(projectionDim, forKey: .projectionDim)
        try c.encode(weightsSHA256, forKey: .weightsSHA256)
        try c.encode(loaded, forKey: .loaded)
        try c.encode(isDefault, forKey: .isDefault)
        try c.encode(defaultPromptSet, forKey: .defaultPromptSet)
        try c.encode(promptSets, forKey: .promptSets)
        try c.encode(precision, forKey: .precision)
        try c.encode(precisionNote, forKey: .precisionNote)
        try c.encode(weightProducts, forKey: .weightProducts)
        try c.encode(error, forKey: .error)
    }
}
