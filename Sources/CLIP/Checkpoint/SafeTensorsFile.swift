import Foundation

/// One safetensors file, memory-mapped read-only (or copied from bytes in memory) and validated when opened.
public final class SafeTensorsFile: TensorSource {
    /// Where the file was opened from; nil for bytes from memory.
    public let url: URL?
    /// What errors call it: the file's path, or the name given with the bytes.
    public let source: String
    /// Every tensor name, sorted.
    public let names: [String]
    /// The header's `__metadata__` map (empty when absent).
    public let metadata: [String: String]

    private let tensors: [String: TensorInfo]
    private let mapping: SafeTensorsMapping
    private let dataStart: Int

    /// Maps the file and validates its header; throws `CLIPError.checkpoint` naming the file and tensor on any defect.
    public init(url: URL) throws {
        let mapping = try SafeTensorsMapping(path: url.path)
        let header = try SafeTensorsHeader(file: mapping.bytes, fileName: url.path)
        self.url = url
        self.source = url.path
        self.mapping = mapping
        self.tensors = header.tensors
        self.metadata = header.metadata
        self.dataStart = header.dataStart
        self.names = header.tensors.keys.sorted()
    }

    /// Reads safetensors bytes held in memory (a database column, say); `name` goes into errors.
    public init(bytes: some DataProtocol, name: String) throws {
        let mapping = SafeTensorsMapping(copying: bytes)
        let header = try SafeTensorsHeader(file: mapping.bytes, fileName: name)
        self.url = nil
        self.source = name
        self.mapping = mapping
        self.tensors = header.tensors
        self.metadata = header.metadata
        self.dataStart = header.dataStart
        self.names = header.tensors.keys.sorted()
    }

    /// Descriptions of every tensor, in name order.
    public var infos: [TensorInfo] { names.map { tensors[$0]! } }

    /// Size of the file in bytes.
    public var fileSize: Int { mapping.bytes.count }

    /// SHA-256 of the mapped bytes: the digest of exactly what the tensors are read from.
    public func contentSHA256() -> String {
        let hasher = SHA256()
        hasher.update(mapping.bytes)
        return hasher.finish()
    }

    public func contains(_ name: String) -> Bool {
        tensors[name] != nil
    }

    public func info(_ name: String) throws -> TensorInfo {
        guard let info = tensors[name] else {
            throw CLIPError.checkpoint("\(source): no tensor named '\(name)'")
        }
        return info
    }

    public func floats(_ name: String, into destination: UnsafeMutableBufferPointer<Float>) throws {
        let info = try info(name)
        let convert: @Sendable (UnsafeRawPointer, UnsafeMutablePointer<Float>, Int) -> Void
        switch info.dtype {
        case .f32: convert = SafeTensorsConversion.copyFloats
        case .f16: convert = SafeTensorsConversion.halfToFloat
        case .bf16: convert = SafeTensorsConversion.bfloat16ToFloat
        case .f64: convert = SafeTensorsConversion.doubleToFloat
        default:
            throw CLIPError.checkpoint(
                "\(source): tensor '\(name)' has dtype \(info.dtype.rawValue); floats needs F32, F16, BF16 or F64")
        }
        guard destination.count == info.elementCount else {
            throw CLIPError.checkpoint(
                "\(source): tensor '\(name)' has \(info.elementCount) elements (shape \(info.shape)) "
                    + "but the destination holds \(destination.count)")
        }
        guard let output = destination.baseAddress, info.elementCount > 0 else { return }
        SafeTensorsConversion.run(
            convert, source: bytes(of: info).baseAddress!, sourceStride: info.dtype.byteSize,
            destination: output, count: info.elementCount)
    }

    public func int64s(_ name: String) throws -> [Int64] {
        let info = try info(name)
        guard info.dtype == .i64 || info.dtype == .i32 else {
            throw CLIPError.checkpoint(
                "\(source): tensor '\(name)' has dtype \(info.dtype.rawValue); int64s needs I64 or I32")
        }
        let count = info.elementCount
        guard count > 0 else { return [] }
        let source = bytes(of: info).baseAddress!
        return [Int64](unsafeUninitializedCapacity: count) { buffer, initialized in
            SafeTensorsConversion.run(
                info.dtype == .i64 ? SafeTensorsConversion.copyInt64s : SafeTensorsConversion.int32ToInt64,
                source: source, sourceStride: info.dtype.byteSize, destination: buffer.baseAddress!, count: count)
            initialized = count
        }
    }

    public func withRawBytes<R>(_ name: String, _ body: (UnsafeRawBufferPointer) throws -> R) throws -> R {
        let info = try info(name)
        // The mapping lives as long as `self`, which the call keeps alive.
        return try withExtendedLifetime(self) { try body(bytes(of: info)) }
    }

    private func bytes(of info: TensorInfo) -> UnsafeRawBufferPointer {
        let range = (dataStart + info.byteRange.lowerBound)..<(dataStart + info.byteRange.upperBound)
        return UnsafeRawBufferPointer(rebasing: mapping.bytes[range])
    }
}
