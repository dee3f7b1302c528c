/// Named tensors read by name, from one safetensors file or a sharded checkpoint alike.
public protocol TensorSource: Sendable {
    /// Every tensor name, sorted.
    var names: [String] { get }
    /// The checkpoint's string metadata (empty when it has none).
    var metadata: [String: String] { get }
    /// Whether a tensor of this name exists.
    func contains(_ name: String) -> Bool
    /// Dtype, shape and byte range of a tensor; throws if it does not exist.
    func info(_ name: String) throws -> TensorInfo
    /// The tensor's values as Float (from F32, F16, BF16 or F64).
    func floats(_ name: String) throws -> [Float]
    /// Writes the tensor's values as Float into `destination`, whose count must equal the element count.
    func floats(_ name: String, into destination: UnsafeMutableBufferPointer<Float>) throws
    /// The tensor's values as Int64 (from I64 or I32).
    func int64s(_ name: String) throws -> [Int64]
    /// Calls `body` with the tensor's bytes exactly as stored (little-endian), valid only during the call.
    func withRawBytes<R>(_ name: String, _ body: (UnsafeRawBufferPointer) throws -> R) throws -> R
}

extension TensorSource {
    /// The tensor's values as Float (from F32, F16, BF16 or F64).
    public func floats(_ name: String) throws -> [Float] {
        let count = try info(name).elementCount
        return try [Float](unsafeUninitializedCapacity: count) { buffer, initialized in
            try floats(name, into: buffer)
            initialized = count
        }
    }
}
