/// A Float32 tensor: a shape and a contiguous, 64-byte aligned, row-major buffer it owns.
/// Kernels take its `pointer` and explicit dimensions, as in llm.c; the class only owns memory.
/// Weights are written once at load and then only read, which is why it may cross threads.
public final class Tensor: @unchecked Sendable, CustomStringConvertible {
    public let shape: [Int]
    public let count: Int
    public let pointer: UnsafeMutablePointer<Float>

    /// A zero-filled tensor of the given shape.
    public convenience init(zeros shape: [Int]) {
        self.init(uninitialized: shape)
        pointer.initialize(repeating: 0, count: max(count, 1))
    }

    /// A tensor whose elements are left as the allocator gives them: for outputs a kernel writes in
    /// full (a ResNet's activations, megabytes each, whose zero-fill cost 3% of the tower).
    public init(uninitialized shape: [Int]) {
        precondition(shape.allSatisfy { $0 >= 0 }, "negative dimension in \(shape)")
        self.shape = shape
        self.count = shape.reduce(1, *)
        let raw = UnsafeMutableRawPointer.allocate(byteCount: max(count, 1) * MemoryLayout<Float>.stride, alignment: 64)
        pointer = raw.bindMemory(to: Float.self, capacity: max(count, 1))
    }

    /// A tensor holding a copy of `values`, which must have `shape`'s element count.
    public convenience init(_ values: [Float], shape: [Int]) {
        self.init(zeros: shape)
        precondition(values.count == count, "\(values.count) values for shape \(shape)")
        values.withUnsafeBufferPointer { pointer.update(from: $0.baseAddress!, count: count) }
    }

    deinit { UnsafeMutableRawPointer(pointer).deallocate() }

    /// The elements as an array (a copy).
    public var array: [Float] { Array(UnsafeBufferPointer(start: pointer, count: count)) }

    /// Read-only view of the elements.
    public var buffer: UnsafeBufferPointer<Float> { UnsafeBufferPointer(start: pointer, count: count) }

    public var description: String { "Tensor\(shape)" }

    /// The same elements under another shape with the same element count (a copy).
    public func reshaped(_ newShape: [Int]) -> Tensor {
        let out = Tensor(zeros: newShape)
        precondition(out.count == count, "cannot reshape \(shape) to \(newShape)")
        out.pointer.update(from: pointer, count: count)
        return out
    }

    /// The transpose of a 2-D tensor (a copy): [r, c] → [c, r].
    public func transposed() -> Tensor {
        precondition(shape.count == 2, "transpose needs a 2-D tensor, got \(shape)")
        let (r, c) = (shape[0], shape[1])
        let out = Tensor(zeros: [c, r])
        for i in 0..<r {
            for j in 0..<c { out.pointer[j * r + i] = pointer[i * c + j] }
        }
        return out
    }
}
