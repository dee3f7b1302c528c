import CLIP
import Compute

/// Where the class name sits among the learned context vectors.
public enum ClassTokenPosition: String, Sendable, Codable, CaseIterable {
    /// [SOT] ctx₁…ctx_M name . [EOT] (CoOp/LMPT default)
    case end
    /// [SOT] ctx₁…ctx_{M/2} name ctx_{M/2+1}…ctx_M . [EOT]
    case middle
    /// [SOT] name ctx₁…ctx_M . [EOT]
    case front
}

/// Builds the prompt of every class from its name and the context vectors, runs them through the
/// text tower as one batch cut after the longest EOT, and sends feature gradients back to the
/// context vectors. The token layout is fixed at construction; only `context` changes in training.
public final class PromptLearner {
    public let model: CLIPModel
    public let classNames: [String]
    public let position: ClassTokenPosition
    public var context: PromptContext

    /// Token ids per class, with placeholder ids where context vectors go.
    public let prompts: [[Int32]]
    /// For each class, the sequence positions of ctx₁…ctx_M.
    public let contextPositions: [[Int]]
    /// Sequence length of the batch (longest prompt, EOT included).
    public let tokens: Int
    public let poolIndices: [Int]

    public init(model: CLIPModel, classNames: [String], context: PromptContext, position: ClassTokenPosition = .end) throws {
        guard !classNames.isEmpty else { throw TuningError.invalidArgument("no class names") }
        let width = model.configuration.text.width
        guard context.width == width else {
            throw TuningError.invalidArgument("context width \(context.width) does not match the text tower's \(width)")
        }
        let expected = PromptContext.count(kind: context.kind, classes: classNames.count, length: context.length, width: width)
        guard context.length >= 1, context.classes == classNames.count || context.kind == .generic,
              context.values.count == expected else {
            throw TuningError.invalidArgument("context holds \(context.values.count) values; \(expected) expected")
        }
        self.model = model
        self.classNames = classNames
        self.position = position
        self.context = context

        let tokenizer = model.tokenizer
        let sot = tokenizer.startTokenID, eot = tokenizer.endTokenID
        let period = tokenizer.encode(".")
        let m = context.length
        var prompts: [[Int32]] = [], positions: [[Int]] = []
        for name in classNames {
            let nameIDs = tokenizer.encode(name)
            // Placeholder ids for context slots: never looked up (their rows are replaced), any valid id.
            let slot = [Int32](repeating: 0, count: m)
            var ids: [Int32] = [sot], ctxAt: [Int] = []
            func addContext(_ count: Int) {
                for _ in 0..<count { ctxAt.append(ids.count); ids.append(slot[0]) }
            }
            switch position {
            case .end:
                addContext(m); ids += nameIDs
            case .middle:
                addContext(m / 2); ids += nameIDs; addContext(m - m / 2)
            case .front:
                ids += nameIDs; addContext(m)
            }
            ids += period + [eot]
            guard ids.count <= model.configuration.contextLength else {
                throw TuningError.invalidArgument("the prompt of class '\(name)' has \(ids.count) tokens; the text tower takes \(model.configuration.contextLength)")
            }
            prompts.append(ids)
            positions.append(ctxAt)
        }
        self.prompts = prompts
        contextPositions = positions
        tokens = prompts.map(\.count).max()!
        poolIndices = prompts.map { $0.count - 1 }   // EOT is last: argmax and first-EOS agree
    }

    /// Input embeddings [C, T, W]: token + position embeddings, context rows replaced by ctx + position.
    func embeddings() -> Tensor {
        let w = context.width
        let x = model.text.embed(tokens: prompts, length: tokens)
        let positionsTable = model.text.positionEmbeddings.pointer
        for (c, slots) in contextPositions.enumerated() {
            let rows = context.rows(ofClass: c)
            for (j, t) in slots.enumerated() {
                let row = x.pointer + (c * tokens + t) * w
                for i in 0..<w { row[i] = rows[j * w + i] + positionsTable[t * w + i] }
            }
        }
        return x
    }

    /// Prompt token embeddings without positions [C, L, W], padded with id 0 to `length`, context
    /// rows holding the context vectors: what the official code's token-level embedding loss compares.
    public func tokenEmbeddings(length: Int) -> [Float] {
        let w = context.width, table = model.text.tokenEmbeddings.pointer
        var out = [Float](repeating: 0, count: classNames.count * length * w)
        out.withUnsafeMutableBufferPointer { o in
            for (c, ids) in prompts.enumerated() {
                for t in 0..<length {
                    let row = o.baseAddress! + (c * length + t) * w
                    row.update(from: table + Int(t < ids.count ? ids[t] : 0) * w, count: w)
                }
                let rows = context.rows(ofClass: c)
                for (j, t) in contextPositions[c].enumerated() where t < length {
                    for i in 0..<w { o[(c * length + t) * w + i] = rows[j * w + i] }
                }
            }
        }
        return out
    }

    /// ∂L/∂ctx from a gradient over `tokenEmbeddings(length:)` [C, L, W]: the context rows' part.
    public func contextGradient(fromTokenGradient grad: [Float], length: Int) -> [Float] {
        let w = context.width
        var out = [Float](repeating: 0, count: context.values.count)
        grad.withUnsafeBufferPointer { g in out.withUnsafeMutableBufferPointer { o in
            for (c, slots) in contextPositions.enumerated() {
                for (j, t) in slots.enumerated() where t < length {
                    context.accumulate(rowGradient: g.baseAddress! + (c * length + t) * w, ofClass: c, row: j, into: o.baseAddress!)
                }
            }
        } }
        return out
    }

    /// Class text features [C, D] (projected, not normalised), for serving or evaluation.
    public func classFeatures() -> [Float] {
        model.text.encode(embeddings: embeddings(), batch: classNames.count, tokens: tokens, poolAt: poolIndices)
    }

    /// Whether training runs the rows every prompt shares once (exact; off only to compare).
    public var sharesPrefix = true

    /// How many first rows are the same in every class's prompt: SOT and, with one context for all
    /// classes, the context vectors before the name (`SharedPrefixAttention`). Each prompt keeps at
    /// least its EOT row after the prefix. 0 when nothing worth sharing (one class, per-class context).
    public var sharedPrefix: Int {
        guard sharesPrefix, context.kind == .generic, classNames.count > 1 else { return 0 }
        let shortest = prompts.map(\.count).min()!
        var p = 0
        while p < shortest - 1 {
            let id = prompts[0][p], slot = contextPositions[0].firstIndex(of: p)
            guard prompts.indices.allSatisfy({ prompts[$0][p] == id && contextPositions[$0].firstIndex(of: p) == slot }) else { break }
            p += 1
        }
        return p > 1 ? p : 0
    }

    /// Row of token t of class c in the training forward's layout.
    private func row(class c: Int, token t: Int, prefix p: Int) -> Int {
        p == 0 ? c * tokens + t : (t < p ? t : p + c * (tokens - p) + t - p)
    }

    /// Training forward: class features [C, D] and the trace for `backward`. With a shared prefix
    /// the input holds its rows once, then each class's remaining rows.
    public func forward() -> (features: [Float], trace: TextTrace) {
        let p = sharedPrefix
        guard p > 0 else {
            return model.text.forwardTraining(embeddings: embeddings(), batch: classNames.count, tokens: tokens, poolAt: poolIndices)
        }
        let w = context.width, suffix = tokens - p, full = embeddings()
        let x = Tensor(zeros: [p + classNames.count * suffix, w])
        x.pointer.update(from: full.pointer, count: p * w)
        for c in classNames.indices {
            (x.pointer + (p + c * suffix) * w).update(from: full.pointer + (c * tokens + p) * w, count: suffix * w)
        }
        return model.text.forwardTraining(embeddings: x, prefix: p, sequences: classNames.count, suffix: suffix,
                                          poolAt: poolIndices.map { $0 - p })
    }

    /// ∂L/∂ctx (same layout as `context.values`) from ∂L/∂features [C, D]. Shared rows (generic,
    /// hybrid) receive the sum over classes of their rows' gradients; a shared prefix row already
    /// holds that sum, so it is counted once.
    public func backward(featureGradient: [Float], trace: TextTrace) -> [Float] {
        let w = context.width
        let p: Int
        if case let .sharedPrefix(prefix, _, _) = trace.layout { p = prefix } else { p = 0 }
        let dx = model.text.backward(featureGradient: featureGradient, trace: trace)
        var grad = [Float](repeating: 0, count: context.values.count)
        grad.withUnsafeMutableBufferPointer { g in
            for (c, slots) in contextPositions.enumerated() {
                for (j, t) in slots.enumerated() where t >= p || c == 0 {
                    context.accumulate(rowGradient: dx.pointer + row(class: c, token: t, prefix: p) * w, ofClass: c, row: j,
                                       into: g.baseAddress!)
                }
            }
        }
        return grad
    }
}
