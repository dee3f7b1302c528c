import Compute

/// Reads TagTune tensors out of a checkpoint through the layout table, checking every shape,
/// converting to Float32 once, and naming the checkpoint tensor in every error.
struct WeightLoader {
    let source: any TensorSource
    let layout: CLIPConfiguration.Layout

    /// The tensor for `from`, which must have `shape` (in TagTune's orientation).
    func load(_ from: CheckpointLayout.Source, shape: [Int]) throws -> Tensor {
        switch from {
        case .tensor(let name):
            return try read(name, expecting: shape)
        case .transposed(let name):
            guard shape.count == 2 else { throw CLIPError.checkpoint("\(name): cannot transpose to \(shape)") }
            return try read(name, expecting: [shape[1], shape[0]]).transposed()
        case .stacked(let names):
            let rowsEach = shape[0] / names.count
            let partShape = [rowsEach] + shape.dropFirst()
            let out = Tensor(zeros: shape)
            var offset = 0
            for name in names {
                let part = try read(name, expecting: partShape)
                (out.pointer + offset).update(from: part.pointer, count: part.count)
                offset += part.count
            }
            return out
        }
    }

    private func read(_ name: String, expecting shape: [Int]) throws -> Tensor {
        guard source.contains(name) else {
            throw CLIPError.checkpoint("missing tensor '\(name)' (\(layout.rawValue) layout)")
        }
        let info = try source.info(name)
        // A 0-d scalar and a [1] vector hold the same single value (logit_scale is stored both ways).
        let normalized = info.shape == [] ? [1] : info.shape
        let wanted = shape == [] ? [1] : shape
        guard normalized == wanted else {
            throw CLIPError.checkpoint("tensor '\(name)' has shape \(info.shape), expected \(shape) for this configuration")
        }
        let tensor = Tensor(zeros: shape)
        try source.floats(name, into: UnsafeMutableBufferPointer(start: tensor.pointer, count: tensor.count))
        return tensor
    }
}
