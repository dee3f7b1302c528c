/// Where one tensor lies in a safetensors file and how to read it.
public struct TensorInfo: Equatable, Sendable {
    /// The tensor's name as written in the header.
    public let name: String
    /// The element type stored in the file.
    public let dtype: SafeTensorsDType
    /// Dimensions, outermost first; empty for a scalar.
    public let shape: [Int]
    /// The header's `data_offsets`: bytes relative to the start of the data section.
    public let byteRange: Range<Int>

    /// Creates a description; the reader validates before building one.
    public init(name: String, dtype: SafeTensorsDType, shape: [Int], byteRange: Range<Int>) {
        self.name = name
        self.dtype = dtype
        self.shape = shape
        self.byteRange = byteRange
    }

    /// Number of elements (1 for a scalar, 0 when any dimension is 0).
    public var elementCount: Int { shape.reduce(1, *) }

    /// Number of bytes the tensor's data occupies.
    public var byteCount: Int { byteRange.count }
}
