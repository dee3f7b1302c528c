import Foundation

/// A sharded checkpoint: `model.safetensors.index.json` plus the shard files it names,
/// presented as one set of tensors.
public final class SafeTensorsIndex: TensorSource {
    /// Conventional name of the index file.
    public static let defaultFileName = "model.safetensors.index.json"

    /// Where the index was opened from.
    public let url: URL
    /// Every tensor name in the `weight_map`, sorted.
    public let names: [String]
    /// The index's `metadata` object with values as text (e.g. `total_size`).
    public let metadata: [String: String]
    /// The opened shards by their file name as written in the index.
    public let shards: [String: SafeTensorsFile]

    private let shardOfTensor: [String: SafeTensorsFile]

    /// Reads the index, opens every shard it names and checks each shard holds the tensors mapped to it.
    public init(url: URL) throws {
        let path = url.path
        let data: Data
        do {
            data = try Data(contentsOf: url)
        } catch {
            throw CLIPError.checkpoint("\(path): cannot read the index: \(error.localizedDescription)")
        }
        let (weightMap, metadata) = try Self.parse(data, path: path)

        let folder = url.deletingLastPathComponent()
        var shards: [String: SafeTensorsFile] = [:]
        var shardOfTensor: [String: SafeTensorsFile] = [:]
        shardOfTensor.reserveCapacity(weightMap.count)
        for name in weightMap.keys.sorted() {
            let shardName = weightMap[name]!
            if shards[shardName] == nil {
                shards[shardName] = try Self.openShard(shardName, in: folder, neededFor: name, indexPath: path)
            }
            let shard = shards[shardName]!
            guard shard.contains(name) else {
                throw CLIPError.checkpoint(
                    "\(path): tensor '\(name)' is mapped to shard '\(shardName)', which has no such tensor")
            }
            shardOfTensor[name] = shard
        }

        self.url = url
        self.names = weightMap.keys.sorted()
        self.metadata = metadata
        self.shards = shards
        self.shardOfTensor = shardOfTensor
    }

    /// The shard holding a tensor; throws if the index does not map the name.
    public func shard(of name: String) throws -> SafeTensorsFile {
        guard let shard = shardOfTensor[name] else {
            throw CLIPError.checkpoint("\(url.path): no tensor named '\(name)' in the weight_map")
        }
        return shard
    }

    public func contains(_ name: String) -> Bool {
        shardOfTensor[name] != nil
    }

    public func info(_ name: String) throws -> TensorInfo {
        try shard(of: name).info(name)
    }

    public func floats(_ name: String, into destination: UnsafeMutableBufferPointer<Float>) throws {
        try shard(of: name).floats(name, into: destination)
    }

    public func int64s(_ name: String) throws -> [Int64] {
        try shard(of: name).int64s(name)
    }

    public func withRawBytes<R>(_ name: String, _ body: (UnsafeRawBufferPointer) throws -> R) throws -> R {
        try shard(of: name).withRawBytes(name, body)
    }

    /// The `weight_map` (tensor → shard file) and the optional `metadata` object, values as text.
    private static func parse(_ data: Data, path: String) throws -> (weightMap: [String: String], metadata: [String: String]) {
        let json: SafeTensorsJSON
        do {
            json = try data.withUnsafeBytes { bytes in try SafeTensorsJSON.parse(bytes) }
        } catch let error as SafeTensorsJSONError {
            throw CLIPError.checkpoint("\(path): index is not valid JSON at byte \(error.offset): \(error.message)")
        } catch {
            throw CLIPError.checkpoint("\(path): index is not valid JSON: \(error)")
        }
        guard case .object(let members) = json else {
            throw CLIPError.checkpoint("\(path): index is not a JSON object")
        }
        guard case .object(let entries)? = members["weight_map"] else {
            throw CLIPError.checkpoint("\(path): index has no weight_map object")
        }
        var weightMap: [String: String] = [:]
        for (name, entry) in entries {
            guard case .string(let shard) = entry else {
                throw CLIPError.checkpoint("\(path): weight_map entry for tensor '\(name)' is not a file name")
            }
            weightMap[name] = shard
        }
        var metadata: [String: String] = [:]
        if case .object(let values)? = members["metadata"] {
            // Writers put numbers there (total_size); nested values carry nothing we use.
            for (key, value) in values {
                if let text = value.scalarText { metadata[key] = text }
            }
        }
        return (weightMap, metadata)
    }

    private static func openShard(
        _ shardName: String, in folder: URL, neededFor tensor: String, indexPath: String
    ) throws -> SafeTensorsFile {
        // Shards sit beside the index; a path that climbs out of the folder is not a shard name.
        let components = shardName.split(separator: "/", omittingEmptySubsequences: false)
        guard !shardName.isEmpty, !shardName.hasPrefix("/"), !components.contains("..") else {
            throw CLIPError.checkpoint(
                "\(indexPath): tensor '\(tensor)' is mapped to '\(shardName)', which is not a file name beside the index")
        }
        let shardURL = folder.appendingPathComponent(shardName)
        guard FileManager.default.fileExists(atPath: shardURL.path) else {
            throw CLIPError.checkpoint(
                "\(indexPath): shard '\(shardName)' (holding tensor '\(tensor)') is missing: no file at \(shardURL.path)")
        }
        return try SafeTensorsFile(url: shardURL)
    }
}
