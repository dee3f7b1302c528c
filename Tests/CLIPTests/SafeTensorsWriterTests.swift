import Foundation
import Testing

@testable import CLIP

/// Files written by `SafeTensorsWriter` read back identically, in the reference layout, atomically.
@Suite struct SafeTensorsWriterTests {
    typealias Support = SafeTensorsTestSupport

    @Test func roundTripsEveryWrittenType() throws {
        let matrix: [Float] = (0..<12).map { Float($0) * 0.37 - 2 }
        let specials: [Float] = [0, -0.0, .infinity, -.infinity, .greatestFiniteMagnitude, .leastNonzeroMagnitude, Float(bitPattern: 0x0001_16C2)]
        let halves: [Float] = [1, -2.5, 0.1, 65504, 70000, 1e-6, 0x1p-24, -0.0, .infinity]
        let integers: [Int64] = [0, -1, .max, .min, 49406]
        var writer = SafeTensorsWriter(metadata: ["format": "pt", "note": "quote \" backslash \\ newline \n tab \t é \u{1}"])
        try writer.add("text.matrix", floats: matrix, shape: [3, 4])
        try writer.add("text.specials", floats: specials, shape: [7])
        try writer.add("text.halves", floats: halves, shape: [9], storedAs: .f16)
        try writer.add("position_ids", int64s: integers, shape: [1, 5])
        try writer.add("scalar", floats: [42], shape: [])
        try writer.add("empty", floats: [], shape: [0, 4])

        try Support.withTemporaryFolder { folder in
            let url = folder.appendingPathComponent("model.safetensors")
            try writer.write(to: url)
            let file = try SafeTensorsFile(url: url)
            #expect(file.names == ["empty", "position_ids", "scalar", "text.halves", "text.matrix", "text.specials"])
            #expect(file.metadata == writer.metadata)
            #expect(try file.info("text.matrix") == TensorInfo(name: "text.matrix", dtype: .f32, shape: [3, 4], byteRange: 44..<92))  // after position_ids (I64) and scalar
            #expect(try file.floats("text.matrix") == matrix)
            #expect(try file.floats("text.specials").map(\.bitPattern) == specials.map(\.bitPattern))
            #expect(try file.floats("scalar") == [42] && file.info("scalar").shape == [])
            #expect(try file.floats("empty") == [] && file.info("empty").shape == [0, 4])
            #expect(try file.int64s("position_ids") == integers)
            #expect(try file.info("text.halves").dtype == .f16)
            #expect(try file.floats("text.halves").map(\.bitPattern) == halves.map { Float(Float16($0)).bitPattern })
        }
    }

    @Test func bytesInMemoryEqualTheFileAndReadBackTheSame() throws {
        let values: [Float] = (0..<10).map { Float($0) / 3 - 1 }
        var writer = SafeTensorsWriter(metadata: ["state": "{\"epoch\":2}"])
        try writer.add("context", floats: values, shape: [2, 5])
        try writer.add("step", int64s: [7], shape: [1])
        let bytes = writer.encoded()
        try Support.withTemporaryFolder { folder in
            let url = folder.appendingPathComponent("state.safetensors")
            try writer.write(to: url)
            #expect(try Data(contentsOf: url) == bytes)
        }
        // A slice not starting at index 0, as a database driver may hand over.
        let padded = Data([0xAA, 0xBB] + bytes)
        let file = try SafeTensorsFile(bytes: padded[2...], name: "row 7")
        #expect(file.url == nil && file.metadata == writer.metadata)
        #expect(try file.floats("context") == values)
        #expect(try file.int64s("step") == [7])
        // Errors name what the bytes were called, since there is no path.
        expectSafeTensorsError(containing: ["row 7", "no tensor named 'missing'"]) { _ = try file.floats("missing") }
        expectSafeTensorsError(containing: ["row 7", "outside the data section"]) { _ = try SafeTensorsFile(bytes: bytes.prefix(bytes.count - 4), name: "row 7") }
        expectSafeTensorsError(containing: ["row 8", "shorter than the 8-byte header"]) { _ = try SafeTensorsFile(bytes: Data(), name: "row 8") }
    }

    @Test func headerFollowsTheReferenceLayout() throws {
        var writer = SafeTensorsWriter(metadata: ["format": "pt"])
        try writer.add("b", floats: [1, 2, 3], shape: [3], storedAs: .f16)
        try writer.add("a", int64s: [7, 8], shape: [2])
        try writer.add("c", floats: [], shape: [0])
        try writer.add("s", floats: [1.5], shape: [])
        // Same text as Python's safetensors writes for these tensors: widest dtype first, then by name.
        let expected = #"{"__metadata__":{"format":"pt"},"a":{"dtype":"I64","shape":[2],"data_offsets":[0,16]},"#
            + #""c":{"dtype":"F32","shape":[0],"data_offsets":[16,16]},"s":{"dtype":"F32","shape":[],"data_offsets":[16,20]},"#
            + #""b":{"dtype":"F16","shape":[3],"data_offsets":[20,26]}}"#
        let header = writer.headerJSON()
        #expect(header.count % 8 == 0)
        #expect(String(decoding: header, as: UTF8.self) == expected + String(repeating: " ", count: header.count - expected.utf8.count))
        #expect(header.count - expected.utf8.count < 8)

        try Support.withTemporaryFolder { folder in
            let url = folder.appendingPathComponent("layout.safetensors")
            try writer.write(to: url)
            let bytes = [UInt8](try Data(contentsOf: url))
            let length = bytes[0..<8].reversed().reduce(0) { $0 << 8 | Int($1) }
            #expect(length == header.count)
            #expect(Array(bytes[8..<(8 + length)]) == header)
            #expect(bytes.count == 8 + length + 26)
            // I64 data first: 7 then 8, little-endian.
            #expect(Array(bytes[(8 + length)..<(8 + length + 16)]) == [7, 0, 0, 0, 0, 0, 0, 0, 8, 0, 0, 0, 0, 0, 0, 0])
        }
    }

    @Test func writingReplacesAtomicallyAndLeavesNoTemporaryFile() throws {
        try Support.withTemporaryFolder { folder in
            let url = folder.appendingPathComponent("prompts.safetensors")
            var first = SafeTensorsWriter()
            try first.add("ctx", floats: [1, 2], shape: [2])
            try first.write(to: url)
            var second = SafeTensorsWriter()
            try second.add("ctx", floats: [3, 4, 5], shape: [3])
            try second.write(to: url)
            #expect(try SafeTensorsFile(url: url).floats("ctx") == [3, 4, 5])
            #expect(try FileManager.default.contentsOfDirectory(atPath: folder.path) == ["prompts.safetensors"])
        }
    }

    @Test func writingIntoAMissingFolderFails() throws {
        try Support.withTemporaryFolder { folder in
            var writer = SafeTensorsWriter()
            try writer.add("w", floats: [1], shape: [1])
            let url = folder.appendingPathComponent("absent/out.safetensors")
            expectSafeTensorsError(containing: ["absent/out.safetensors", "cannot create temporary file"]) {
                try writer.write(to: url)
            }
            #expect(try FileManager.default.contentsOfDirectory(atPath: folder.path).isEmpty)
        }
    }

    @Test func addRefusesInconsistentTensors() throws {
        var writer = SafeTensorsWriter()
        try writer.add("w", floats: [1, 2, 3, 4], shape: [2, 2])
        expectSafeTensorsError(containing: ["'w'", "already added"]) { try writer.add("w", floats: [1], shape: [1]) }
        expectSafeTensorsError(containing: ["'v'", "3 values", "shape [2, 2] holds 4"]) {
            try writer.add("v", floats: [1, 2, 3], shape: [2, 2])
        }
        expectSafeTensorsError(containing: ["'n'", "negative"]) { try writer.add("n", int64s: [], shape: [-1, 0]) }
        expectSafeTensorsError(containing: ["'__metadata__'", "reserved"]) { try writer.add("__metadata__", int64s: [1], shape: [1]) }
        expectSafeTensorsError(containing: ["'b'", "F32 or F16", "BF16"]) {
            try writer.add("b", floats: [1], shape: [1], storedAs: .bf16)
        }
        #expect(writer.names == ["w"])
    }
}
