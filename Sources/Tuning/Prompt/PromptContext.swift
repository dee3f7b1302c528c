import CLIP
import Compute

/// How the learned context vectors are shared between classes.
public enum ContextKind: String, Sendable, Codable, CaseIterable {
    /// One context [M, W] for every class (CoOp).
    case generic
    /// One context per class [C, M, W] (LMPT's and CoOp's "csc").
    case classSpecific = "class_specific"
    /// A shared context plus a per-class residual that starts at zero: training starts exactly at
    /// the shared prompt, and weight decay on the residual pulls each class back towards it.
    case hybrid
}

/// The learned context vectors of a prompt set and how they are laid out:
/// generic [M, W]; class-specific [C, M, W]; hybrid [M, W] (shared) followed by [C, M, W] (residuals).
/// Class c's context row j is shared_j (+ residual_{c,j}), or its own row when class-specific.
public struct PromptContext: Sendable {
    public var kind: ContextKind
    public var classes: Int
    public var length: Int            // M
    public var width: Int             // W, the text tower's width
    public var values: [Float]

    public init(kind: ContextKind, classes: Int, length: Int, width: Int, values: [Float]) {
        self.kind = kind
        self.classes = classes
        self.length = length
        self.width = width
        self.values = values
    }

    /// A generic or class-specific context (the two kinds a prompt-set file stores).
    public init(classSpecific: Bool, length: Int, width: Int, values: [Float]) {
        let rows = length * width
        self.init(kind: classSpecific ? .classSpecific : .generic,
                  classes: classSpecific && rows > 0 ? values.count / rows : 1, length: length, width: width, values: values)
    }

    /// Whether classes have contexts of their own (class-specific or hybrid).
    public var classSpecific: Bool { kind != .generic }

    /// Values a context of this kind holds.
    public static func count(kind: ContextKind, classes: Int, length: Int, width: Int) -> Int {
        let rows = length * width
        switch kind {
        case .generic: return rows
        case .classSpecific: return classes * rows
        case .hybrid: return rows + classes * rows
        }
    }

    /// Where the shared rows start (nil: none) and where class c's own rows start (nil: none).
    func sharedOffset() -> Int? { kind == .classSpecific ? nil : 0 }
    func ownOffset(ofClass c: Int) -> Int? {
        switch kind {
        case .generic: return nil
        case .classSpecific: return c * length * width
        case .hybrid: return (1 + c) * length * width
        }
    }

    /// Class c's context vectors [M, W] as the text tower sees them.
    public func rows(ofClass c: Int) -> [Float] {
        let n = length * width
        var out = [Float](repeating: 0, count: n)
        if let s = sharedOffset() { for i in 0..<n { out[i] += values[s + i] } }
        if let o = ownOffset(ofClass: c) { for i in 0..<n { out[i] += values[o + i] } }
        return out
    }

    /// The same prompts as a stored prompt set holds them: a hybrid context becomes the
    /// class-specific context shared + residual; the other kinds are returned unchanged.
    public func storable() -> PromptContext {
        guard kind == .hybrid else { return self }
        return PromptContext(kind: .classSpecific, classes: classes, length: length, width: width,
                             values: Array((0..<classes).map(rows(ofClass:)).joined()))
    }

    /// Adds the gradient of class c's context rows [M, W] (`source`) into `gradient` (this
    /// context's layout): shared rows receive every class's gradient, own rows their class's.
    func accumulate(rowGradient source: UnsafePointer<Float>, ofClass c: Int, row j: Int, into gradient: UnsafeMutablePointer<Float>) {
        let w = width
        if let s = sharedOffset() { for i in 0..<w { gradient[s + j * w + i] += source[i] } }
        if let o = ownOffset(ofClass: c) { for i in 0..<w { gradient[o + j * w + i] += source[i] } }
    }
}

extension PromptContext {
    /// Context vectors drawn from N(0, std²) (CoOp's init, std 0.02), deterministic for a seed.
    /// A hybrid context draws its shared part and starts its residuals at zero.
    public static func random(classes: Int, length: Int, width: Int, kind: ContextKind, std: Float = 0.02, seed: UInt64) -> PromptContext {
        var rng = SplitMix64(seed: seed)
        let drawn = (kind == .classSpecific ? classes : 1) * length * width
        var values = (0..<drawn).map { _ in rng.nextGaussian() * std }
        if kind == .hybrid { values += [Float](repeating: 0, count: classes * length * width) }
        return PromptContext(kind: kind, classes: classes, length: length, width: width, values: values)
    }

    /// The generic or class-specific form of `random(…kind:…)`.
    public static func random(classes: Int, length: Int, width: Int, classSpecific: Bool, std: Float = 0.02, seed: UInt64) -> PromptContext {
        random(classes: classes, length: length, width: width, kind: classSpecific ? .classSpecific : .generic, std: std, seed: seed)
    }

    /// Context vectors initialised from the token embeddings of words ("a photo of a"):
    /// M = the number of tokens. As in the official LMPT and CoOp code, words give one context
    /// that every class starts from: class-specific contexts start as copies of it, and a hybrid
    /// context holds it as the shared part with zero residuals.
    public static func fromWords(_ words: String, model: CLIPModel, classes: Int, kind: ContextKind) throws -> PromptContext {
        let ids = model.tokenizer.encode(words)
        guard !ids.isEmpty else { throw TuningError.invalidArgument("context initialisation '\(words)' has no tokens") }
        let w = model.configuration.text.width
        let table = model.text.tokenEmbeddings.pointer
        var row: [Float] = []
        for id in ids { row += Array(UnsafeBufferPointer(start: table + Int(id) * w, count: w)) }
        let values: [Float]
        switch kind {
        case .generic: values = row
        case .classSpecific: values = Array((0..<classes).map { _ in row }.joined())
        case .hybrid: values = row + [Float](repeating: 0, count: classes * row.count)
        }
        return PromptContext(kind: kind, classes: classes, length: ids.count, width: w, values: values)
    }

    /// The generic or class-specific form of `fromWords(…kind:)`.
    public static func fromWords(_ words: String, model: CLIPModel, classes: Int, classSpecific: Bool) throws -> PromptContext {
        try fromWords(words, model: model, classes: classes, kind: classSpecific ? .classSpecific : .generic)
    }
}
