import Foundation
import Testing

@testable import CLIP

/// Each kind of damaged file is refused when opened, with an error naming the file and the tensor.
@Suite struct SafeTensorsCorruptionTests {
    typealias Support = SafeTensorsTestSupport

    /// Writes `bytes` as `name` in a temporary folder and expects opening it to fail with `fragments`.
    func expectRejected(_ bytes: [UInt8], named name: String = "broken.safetensors", _ fragments: [String],
                        sourceLocation: SourceLocation = #_sourceLocation) throws {
        try Support.withTemporaryFolder { folder in
            let url = try Support.write(bytes, named: name, in: folder)
            expectSafeTensorsError(containing: [name] + fragments, sourceLocation: sourceLocation) {
                _ = try SafeTensorsFile(url: url)
            }
        }
    }

    let validHeader = #"{"w":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}}"#
    let validData = Support.bytes(of: [1, 2])

    @Test func validFileOpens() throws {
        // The baseline the corrupt variants below are derived from.
        try Support.withTemporaryFolder { folder in
            let url = try Support.write(Support.fileBytes(header: validHeader, data: validData), named: "ok.safetensors", in: folder)
            #expect(try SafeTensorsFile(url: url).floats("w") == [1, 2])
        }
    }

    @Test func fileShorterThanTheLengthPrefix() throws {
        try expectRejected([0x10, 0, 0, 0, 0], ["5 bytes", "shorter than the 8-byte header length"])
        try expectRejected([], ["0 bytes"])
    }

    @Test func truncatedInsideTheData() throws {
        let whole = Support.fileBytes(header: validHeader, data: validData)
        try expectRejected(Array(whole.dropLast(3)), ["tensor 'w'", "[0, 8]", "outside the data section (5 bytes)"])
    }

    @Test func headerLengthBeyondTheFile() throws {
        try expectRejected(Support.fileBytes(header: validHeader, data: validData, declaredLength: 4096),
                           ["header length 4096", "past the end of the file"])
        try expectRejected(Support.fileBytes(header: validHeader, declaredLength: UInt64.max),
                           ["header length 18446744073709551615", "exceeds"])
    }

    @Test func invalidJSON() throws {
        try expectRejected(Support.fileBytes(header: #"{"w":{"dtype":"F32","#), ["not valid JSON at byte 28", "ends early"])
        try expectRejected(Support.fileBytes(header: "[1,2]   "), ["not valid JSON", "'{'"])
        try expectRejected(Support.fileBytes(header: #"{"w":{"dtype":F32}}"#), ["not valid JSON at byte 22", "'F'"])
        try expectRejected(Support.fileBytes(header: #"{"w":{}} trailing"#), ["not valid JSON at byte 17", "after the JSON value"])
        let duplicate = #"{"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]},"a":{"dtype":"F32","shape":[1],"data_offsets":[4,8]}}"#
        try expectRejected(Support.fileBytes(header: duplicate, data: validData), ["duplicate key 'a'"])
        try expectRejected(Support.fileBytes(header: #"{"__metadata__":{"k":"\#u{1}"}}"#), ["control character"])
    }

    @Test func wrongFieldTypes() throws {
        try expectRejected(Support.fileBytes(header: #"{"w":{"dtype":"F32","shape":["2"],"data_offsets":[0,8]}}"#, data: validData),
                           ["tensor 'w'", "shape", "not an array of integers"])
        try expectRejected(Support.fileBytes(header: #"{"w":{"dtype":"F32","shape":[2.5],"data_offsets":[0,8]}}"#, data: validData),
                           ["tensor 'w'", "shape", "not an array of integers"])
        try expectRejected(Support.fileBytes(header: #"{"w":{"dtype":"F32","shape":[2]}}"#, data: validData),
                           ["tensor 'w'", "no data_offsets"])
        try expectRejected(Support.fileBytes(header: #"{"w":{"dtype":4,"shape":[2],"data_offsets":[0,8]}}"#, data: validData),
                           ["tensor 'w'", "no dtype string"])
        try expectRejected(Support.fileBytes(header: #"{"w":[1]}"#), ["tensor 'w'", "not an object"])
        try expectRejected(Support.fileBytes(header: #"{"__metadata__":{"a":1}}"#), ["__metadata__", "'a' is not a string"])
    }

    @Test func offsetsOutsideTheData() throws {
        let header = #"{"w":{"dtype":"F32","shape":[2],"data_offsets":[4,12]}}"#
        try expectRejected(Support.fileBytes(header: header, data: validData), ["tensor 'w'", "[4, 12]", "outside"])
        let reversed = #"{"w":{"dtype":"F32","shape":[0],"data_offsets":[8,0]}}"#
        try expectRejected(Support.fileBytes(header: reversed, data: validData), ["tensor 'w'", "[8, 0]"])
        let negative = #"{"w":{"dtype":"F32","shape":[0],"data_offsets":[-4,-4]}}"#
        try expectRejected(Support.fileBytes(header: negative, data: validData), ["tensor 'w'", "[-4, -4]"])
        let threeOffsets = #"{"w":{"dtype":"F32","shape":[2],"data_offsets":[0,4,8]}}"#
        try expectRejected(Support.fileBytes(header: threeOffsets, data: validData), ["tensor 'w'", "[begin, end]"])
    }

    @Test func sizeMismatch() throws {
        let header = #"{"w":{"dtype":"F32","shape":[3],"data_offsets":[0,8]}}"#
        try expectRejected(Support.fileBytes(header: header, data: validData),
                           ["tensor 'w'", "has 8 bytes", "shape [3] of F32 needs 12"])
        let huge = #"{"w":{"dtype":"F64","shape":[4294967296,4294967296],"data_offsets":[0,8]}}"#
        try expectRejected(Support.fileBytes(header: huge, data: validData), ["tensor 'w'", "too large"])
    }

    @Test func overlappingTensors() throws {
        let header = #"""
            {"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},"b":{"dtype":"F32","shape":[1],"data_offsets":[4,8]}}
            """#
        try expectRejected(Support.fileBytes(header: header, data: validData), ["'a'", "'b'", "overlap"])
        // Touching ranges and empty tensors at a shared offset are fine.
        let adjacent = #"""
            {"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]},"b":{"dtype":"F32","shape":[1],"data_offsets":[4,8]},\#
            "e":{"dtype":"F32","shape":[0],"data_offsets":[4,4]}}
            """#
        try Support.withTemporaryFolder { folder in
            let url = try Support.write(Support.fileBytes(header: adjacent, data: validData), named: "ok.safetensors", in: folder)
            let file = try SafeTensorsFile(url: url)
            #expect(try file.floats("a") == [1] && file.floats("b") == [2] && file.floats("e") == [])
        }
    }

    @Test func unknownDtypeAndNegativeShape() throws {
        let unknown = #"{"w":{"dtype":"F8_E4M3","shape":[8],"data_offsets":[0,8]}}"#
        try expectRejected(Support.fileBytes(header: unknown, data: validData), ["tensor 'w'", "unknown dtype 'F8_E4M3'"])
        let negative = #"{"w":{"dtype":"F32","shape":[-2],"data_offsets":[0,8]}}"#
        try expectRejected(Support.fileBytes(header: negative, data: validData), ["tensor 'w'", "negative dimension -2"])
    }

    @Test func missingFileAndFolder() throws {
        try Support.withTemporaryFolder { folder in
            expectSafeTensorsError(containing: ["absent.safetensors", "cannot open"]) {
                _ = try SafeTensorsFile(url: folder.appendingPathComponent("absent.safetensors"))
            }
            expectSafeTensorsError(containing: ["not a regular file"]) { _ = try SafeTensorsFile(url: folder) }
        }
    }

    /// Copies the two Python-written shards into `folder` and writes `index` beside them.
    func shardedCopy(in folder: URL, index: String) throws -> URL {
        let source = Support.fixtures.appendingPathComponent("sharded")
        for shard in ["model-00001-of-00002.safetensors", "model-00002-of-00002.safetensors"] {
            try FileManager.default.copyItem(at: source.appendingPathComponent(shard), to: folder.appendingPathComponent(shard))
        }
        return try Support.write(Array(index.utf8), named: "model.safetensors.index.json", in: folder)
    }

    @Test func missingShard() throws {
        try Support.withTemporaryFolder { folder in
            let url = try shardedCopy(in: folder, index: #"""
                {"weight_map":{"text.embedding":"model-00001-of-00002.safetensors","extra.weight":"model-00003-of-00003.safetensors"}}
                """#)
            expectSafeTensorsError(containing: ["model.safetensors.index.json", "model-00003-of-00003.safetensors", "'extra.weight'", "missing"]) {
                _ = try SafeTensorsIndex(url: url)
            }
        }
    }

    @Test func nameMappedToShardThatLacksIt() throws {
        try Support.withTemporaryFolder { folder in
            let url = try shardedCopy(in: folder, index: #"""
                {"weight_map":{"text.embedding":"model-00002-of-00002.safetensors"}}
                """#)
            expectSafeTensorsError(containing: ["'text.embedding'", "model-00002-of-00002.safetensors", "no such tensor"]) {
                _ = try SafeTensorsIndex(url: url)
            }
        }
    }

    @Test func malformedIndex() throws {
        try Support.withTemporaryFolder { folder in
            let noMap = try shardedCopy(in: folder, index: #"{"metadata":{"total_size":1}}"#)
            expectSafeTensorsError(containing: ["model.safetensors.index.json", "weight_map"]) { _ = try SafeTensorsIndex(url: noMap) }
            let escaping = try Support.write(Array(#"{"weight_map":{"w":"../elsewhere.safetensors"}}"#.utf8),
                                             named: "model.safetensors.index.json", in: folder)
            expectSafeTensorsError(containing: ["'w'", "../elsewhere.safetensors", "not a file name"]) {
                _ = try SafeTensorsIndex(url: escaping)
            }
        }
    }

    @Test func corruptShardIsReportedByItsName() throws {
        try Support.withTemporaryFolder { folder in
            let url = try shardedCopy(in: folder, index: #"{"weight_map":{"vision.proj":"model-00002-of-00002.safetensors"}}"#)
            let shard = folder.appendingPathComponent("model-00002-of-00002.safetensors")
            let bytes = try Data(contentsOf: shard)
            try bytes.prefix(bytes.count - 4).write(to: shard)
            expectSafeTensorsError(containing: ["model-00002-of-00002.safetensors", "outside the data section"]) {
                _ = try SafeTensorsIndex(url: url)
            }
        }
    }
}
