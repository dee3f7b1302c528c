import Foundation

/// Collects F32, F16 and I64 tensors with string metadata and writes them as one safetensors file.
public struct SafeTensorsWriter: Sendable {
    /// Written as the header's `__metadata__` (omitted when empty).
    public var metadata: [String: String]

    private var tensors: [String: EncodedTensor] = [:]

    /// A tensor already encoded to the bytes the file will hold.
    private struct EncodedTensor: Sendable {
        let dtype: SafeTensorsDType
        let shape: [Int]
        let bytes: [UInt8]
    }

    /// Starts an empty file with the given metadata.
    public init(metadata: [String: String] = [:]) {
        self.metadata = metadata
    }

    /// Names added so far, sorted.
    public var names: [String] { tensors.keys.sorted() }

    /// Adds a float tensor stored as F32 (default) or F16 (rounded to nearest even).
    public mutating func add(_ name: String, floats: [Float], shape: [Int], storedAs dtype: SafeTensorsDType = .f32) throws {
        try floats.withUnsafeBufferPointer { try add(name, floats: $0, shape: shape, storedAs: dtype) }
    }

    /// Adds a float tensor from a buffer, stored as F32 (default) or F16 (rounded to nearest even).
    public mutating func add(
        _ name: String, floats: UnsafeBufferPointer<Float>, shape: [Int], storedAs dtype: SafeTensorsDType = .f32
    ) throws {
        guard dtype == .f32 || dtype == .f16 else {
            throw CLIPError.checkpoint("tensor '\(name)': the writer stores floats as F32 or F16, not \(dtype.rawValue)")
        }
        try checkNew(name, shape: shape, count: floats.count)
        let count = floats.count
        let bytes = [UInt8](unsafeUninitializedCapacity: count * dtype.byteSize) { output, initialized in
            if count > 0 {
                if dtype == .f32 {
                    SafeTensorsConversion.copyFloatsToLittleEndian(floats.baseAddress!, UnsafeMutableRawPointer(output.baseAddress!), count)
                } else {
                    SafeTensorsConversion.floatToHalf(floats.baseAddress!, UnsafeMutableRawPointer(output.baseAddress!), count)
                }
            }
            initialized = count * dtype.byteSize
        }
        tensors[name] = EncodedTensor(dtype: dtype, shape: shape, bytes: bytes)
    }

    /// Adds an integer tensor stored as I64.
    public mutating func add(_ name: String, int64s: [Int64], shape: [Int]) throws {
        try checkNew(name, shape: shape, count: int64s.count)
        let bytes = int64s.map(\.littleEndian).withUnsafeBytes { [UInt8]($0) }
        tensors[name] = EncodedTensor(dtype: .i64, shape: shape, bytes: bytes)
    }

    /// Writes the file atomically: a temporary file beside `url`, fsync, rename, fsync of the folder.
    public func write(to url: URL) throws {
        let order = orderedNames()
        let prefix = headerPrefix(order: order)
        do {
            try AtomicFile.replace(url) { emit in
                try prefix.withUnsafeBytes(emit)
                for name in order {
                    try tensors[name]!.bytes.withUnsafeBytes(emit)
                }
            }
        } catch let error as AtomicFileError {
            throw CLIPError.checkpoint(error.description)
        }
    }

    /// The file's bytes, for a store that keeps them elsewhere than in a file (a database column).
    public func encoded() -> Data {
        let order = orderedNames()
        var data = Data(headerPrefix(order: order))
        data.reserveCapacity(data.count + order.reduce(0) { $0 + tensors[$1]!.bytes.count })
        for name in order {
            data.append(contentsOf: tensors[name]!.bytes)
        }
        return data
    }

    /// The 8-byte little-endian header length, then the header.
    private func headerPrefix(order: [String]) -> [UInt8] {
        let header = headerJSON(order: order)
        var prefix = [UInt8](repeating: 0, count: 8)
        withUnsafeBytes(of: UInt64(header.count).littleEndian) { prefix.replaceSubrange(0..<8, with: $0) }
        return prefix + header
    }

    /// The header JSON as it will be written, padded with spaces to a multiple of 8 bytes.
    public func headerJSON() -> [UInt8] {
        headerJSON(order: orderedNames())
    }

    private func checkNew(_ name: String, shape: [Int], count: Int) throws {
        guard name != SafeTensorsHeader.metadataKey else {
            throw CLIPError.checkpoint("tensor name '\(name)' is reserved for metadata")
        }
        guard tensors[name] == nil else {
            throw CLIPError.checkpoint("tensor '\(name)' was already added")
        }
        guard shape.allSatisfy({ $0 >= 0 }) else {
            throw CLIPError.checkpoint("tensor '\(name)' has a negative dimension in shape \(shape)")
        }
        var product = 1
        for dimension in shape {
            let (next, overflow) = product.multipliedReportingOverflow(by: dimension)
            guard !overflow else { throw CLIPError.checkpoint("tensor '\(name)' has shape \(shape) too large") }
            product = next
        }
        guard product == count else {
            throw CLIPError.checkpoint("tensor '\(name)' has \(count) values but shape \(shape) holds \(product)")
        }
    }

    /// Widest elements first, then by name, as the reference writer orders them: every tensor
    /// then starts at a multiple of its element size.
    private func orderedNames() -> [String] {
        tensors.keys.sorted { a, b in
            let sizeA = tensors[a]!.dtype.byteSize, sizeB = tensors[b]!.dtype.byteSize
            return sizeA != sizeB ? sizeA > sizeB : a < b
        }
    }

    private func headerJSON(order: [String]) -> [UInt8] {
        var json = "{"
        var fields: [String] = []
        if !metadata.isEmpty {
            let pairs = metadata.keys.sorted().map { "\(JSONText.quoted($0)):\(JSONText.quoted(metadata[$0]!))" }
            fields.append("\(JSONText.quoted(SafeTensorsHeader.metadataKey)):{\(pairs.joined(separator: ","))}")
        }
        var offset = 0
        for name in order {
            let tensor = tensors[name]!
            let end = offset + tensor.bytes.count
            let shape = tensor.shape.map(String.init).joined(separator: ",")
            fields.append(
                "\(JSONText.quoted(name)):{\"dtype\":\"\(tensor.dtype.rawValue)\",\"shape\":[\(shape)],\"data_offsets\":[\(offset),\(end)]}")
            offset = end
        }
        json += fields.joined(separator: ",") + "}"
        var bytes = Array(json.utf8)
        // Padding keeps the data section 8-byte aligned in the file.
        bytes += repeatElement(UInt8(ascii: " "), count: (8 - bytes.count % 8) % 8)
        return bytes
    }
}
