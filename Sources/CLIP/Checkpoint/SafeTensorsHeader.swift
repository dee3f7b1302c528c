/// The validated header of a safetensors file: its tensors and optional string metadata.
///
/// Layout: 8-byte little-endian header length N, N bytes of UTF-8 JSON (space padded),
/// then the data section that every `data_offsets` pair is relative to.
struct SafeTensorsHeader: Sendable {
    /// Same cap as the reference implementation: larger headers are treated as corrupt.
    static let maximumLength = 100_000_000
    static let metadataKey = "__metadata__"

    let tensors: [String: TensorInfo]
    let metadata: [String: String]
    /// Byte offset of the data section from the start of the file.
    let dataStart: Int

    /// Parses and validates the header of `file` (the whole file's bytes); `fileName` goes into errors.
    init(file: UnsafeRawBufferPointer, fileName: String) throws {
        func fail(_ message: String) -> CLIPError { .checkpoint("\(fileName): \(message)") }

        guard file.count >= 8 else {
            throw fail("file is \(file.count) bytes, shorter than the 8-byte header length (truncated file?)")
        }
        let declared = UInt64(littleEndian: file.loadUnaligned(fromByteOffset: 0, as: UInt64.self))
        guard declared <= UInt64(Self.maximumLength) else {
            throw fail("header length \(declared) exceeds the \(Self.maximumLength)-byte limit (corrupt file?)")
        }
        let length = Int(declared)
        guard length <= file.count - 8 else {
            throw fail("header length \(length) runs past the end of the file (\(file.count) bytes; truncated file?)")
        }
        guard length >= 2, file[8] == UInt8(ascii: "{") else {
            throw fail("header is not valid JSON: it must be an object starting with '{'")
        }
        let dataStart = 8 + length
        let dataSize = file.count - dataStart

        let json: SafeTensorsJSON
        do {
            json = try SafeTensorsJSON.parse(UnsafeRawBufferPointer(rebasing: file[8..<dataStart]))
        } catch {
            // Offsets count from the start of the file so they can be checked with a hex dump.
            throw fail("header is not valid JSON at byte \(8 + error.offset): \(error.message)")
        }
        guard case .object(let members) = json else {
            throw fail("header is not a JSON object")
        }

        var metadata: [String: String] = [:]
        var tensors: [String: TensorInfo] = [:]
        tensors.reserveCapacity(members.count)
        for name in members.keys.sorted() {
            let member = members[name]!
            if name == Self.metadataKey {
                metadata = try Self.metadata(from: member, fail: fail)
            } else {
                tensors[name] = try Self.validate(member, name: name, dataSize: dataSize, fail: fail)
            }
        }
        try Self.rejectOverlaps(tensors.values, fail: fail)

        self.tensors = tensors
        self.metadata = metadata
        self.dataStart = dataStart
    }

    private static func metadata(from value: SafeTensorsJSON, fail: (String) -> CLIPError) throws -> [String: String] {
        switch value {
        case .null:
            return [:]
        case .object(let members):
            var metadata: [String: String] = [:]
            for (key, member) in members {
                guard case .string(let text) = member else {
                    throw fail("__metadata__ must map strings to strings, but '\(key)' is not a string")
                }
                metadata[key] = text
            }
            return metadata
        default:
            throw fail("__metadata__ must be an object of strings")
        }
    }

    private static func validate(
        _ entry: SafeTensorsJSON, name: String, dataSize: Int, fail: (String) -> CLIPError
    ) throws -> TensorInfo {
        guard case .object(let fields) = entry else {
            throw fail("tensor '\(name)' is not an object with dtype, shape and data_offsets")
        }
        guard case .string(let dtypeName)? = fields["dtype"] else {
            throw fail("tensor '\(name)' has no dtype string")
        }
        guard let dtype = SafeTensorsDType(rawValue: dtypeName) else {
            let known = SafeTensorsDType.allCases.map(\.rawValue).joined(separator: ", ")
            throw fail("tensor '\(name)' has unknown dtype '\(dtypeName)' (known: \(known))")
        }
        guard let shape = fields["shape"]?.integers else {
            throw fail("tensor '\(name)' has no shape, or one that is not an array of integers")
        }
        if let negative = shape.first(where: { $0 < 0 }) {
            throw fail("tensor '\(name)' has negative dimension \(negative) in shape \(shape)")
        }
        guard let offsets = fields["data_offsets"]?.integers else {
            throw fail("tensor '\(name)' has no data_offsets, or ones that are not integers")
        }
        guard offsets.count == 2 else {
            throw fail("tensor '\(name)' has data_offsets \(offsets), expected [begin, end]")
        }
        let begin = offsets[0], end = offsets[1]
        guard begin >= 0, begin <= end, end <= dataSize else {
            throw fail("tensor '\(name)' has data_offsets [\(begin), \(end)] outside the data section (\(dataSize) bytes)")
        }
        // Overflow-checked: a hostile shape must not wrap around to a plausible size.
        var needed = dtype.byteSize
        for dimension in shape {
            let (product, overflow) = needed.multipliedReportingOverflow(by: dimension)
            guard !overflow else {
                throw fail("tensor '\(name)' has shape \(shape) too large to address")
            }
            needed = product
        }
        guard end - begin == needed else {
            throw fail(
                "tensor '\(name)' has \(end - begin) bytes (data_offsets [\(begin), \(end)]) "
                    + "but shape \(shape) of \(dtype.rawValue) needs \(needed)")
        }
        return TensorInfo(name: name, dtype: dtype, shape: shape, byteRange: begin..<end)
    }

    private static func rejectOverlaps(
        _ tensors: Dictionary<String, TensorInfo>.Values, fail: (String) -> CLIPError
    ) throws {
        // Empty tensors occupy no bytes and may share an offset with anything.
        let placed = tensors.filter { !$0.byteRange.isEmpty }
            .sorted { ($0.byteRange.lowerBound, $0.name) < ($1.byteRange.lowerBound, $1.name) }
        for (previous, next) in zip(placed, placed.dropFirst())
        where next.byteRange.lowerBound < previous.byteRange.upperBound {
            throw fail(
                "tensors '\(previous.name)' (bytes \(previous.byteRange)) and '\(next.name)' "
                    + "(bytes \(next.byteRange)) overlap")
        }
    }
}
