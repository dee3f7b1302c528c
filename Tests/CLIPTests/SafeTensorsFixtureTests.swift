import Foundation
import Testing

@testable import CLIP

/// Files written by Python's safetensors read back exactly as the fixture script recorded.
@Suite struct SafeTensorsFixtureTests {
    let fixtures = SafeTensorsTestSupport.fixtures

    /// Checks every tensor of `source` against the expectations: dtype, shape, values, raw bytes.
    func check(_ source: any TensorSource, against expected: SafeTensorsExpectedValues) throws {
        #expect(source.names == expected.tensors.keys.sorted())
        #expect(source.metadata == expected.metadata)
        for (name, want) in expected.tensors {
            let info = try source.info(name)
            #expect(info.dtype.rawValue == want.dtype, "\(name)")
            #expect(info.shape == want.shape, "\(name)")
            #expect(info.byteCount == want.bytes.count, "\(name)")
            let raw = try source.withRawBytes(name) { Array($0) }
            #expect(raw == want.bytes, "\(name)")

            if let bits = want.float32Bits {
                let values = try source.floats(name)
                #expect(values.count == bits.count, "\(name)")
                for (index, (value, expectation)) in zip(values, bits).enumerated() {
                    #expect(expectation.matches(value), "\(name)[\(index)]: got bits \(value.bitPattern), want \(expectation)")
                }
            }
            if let integers = want.int64 {
                #expect(try source.int64s(name) == integers.map { Int64($0)! }, "\(name)")
            }
        }
    }

    @Test func readsEveryDtypeWrittenByPython() throws {
        let file = try SafeTensorsFile(url: fixtures.appendingPathComponent("dtypes.safetensors"))
        let expected = try SafeTensorsExpectedValues.load(fixtures.appendingPathComponent("dtypes.expected.json"))
        try check(file, against: expected)
        // Sanity on the expectations themselves: the special-value tensors are all there.
        #expect(Set(expected.tensors.map(\.value.dtype)) == Set(SafeTensorsDType.allCases.map(\.rawValue)))
    }

    @Test func readsMetadataWithEscapesAndUnicode() throws {
        let file = try SafeTensorsFile(url: fixtures.appendingPathComponent("dtypes.safetensors"))
        #expect(file.metadata == ["description": "TagTune fixture: \"quoted\", tab\there, ünïcödé ✓"])
    }

    @Test func f16SpecialValuesConvertExactly() throws {
        let file = try SafeTensorsFile(url: fixtures.appendingPathComponent("dtypes.safetensors"))
        let values = try file.floats("f16.special")
        // Spot checks written as Swift literals, independent of the expectations file.
        #expect(values[0].bitPattern == 0 && values[1].bitPattern == 0x8000_0000)  // +0, −0
        #expect(values[2] == 0x1p-24 && values[3] == -0x1p-24)                    // smallest subnormal
        #expect(values[5] == 1023 * 0x1p-24)                                      // largest subnormal
        #expect(values[6] == 0x1p-14 && values[7] == 1 && values[11] == 65504)
        #expect(values[13] == .infinity && values[14] == -.infinity)
        #expect(values[15].isNaN && values[16].isNaN && values[16].sign == .minus)
        // The signalling NaN keeps its payload bit for bit.
        #expect(values[17].bitPattern == 0x7FA0_2000)
    }

    @Test func shapesOfEmptyAndScalarTensors() throws {
        let file = try SafeTensorsFile(url: fixtures.appendingPathComponent("dtypes.safetensors"))
        #expect(try file.info("empty").shape == [3, 0])
        #expect(try file.floats("empty").isEmpty)
        #expect(try file.info("scalar").shape == [])
        #expect(try file.floats("scalar") == [2.5])
    }

    @Test func floatsIntoCallerBuffer() throws {
        let file = try SafeTensorsFile(url: fixtures.appendingPathComponent("dtypes.safetensors"))
        var buffer = [Float](repeating: .nan, count: 15)
        try buffer.withUnsafeMutableBufferPointer { try file.floats("f16.random", into: $0) }
        #expect(buffer == (try file.floats("f16.random")))
        #expect(!buffer.contains { $0.isNaN })

        var wrongSize = [Float](repeating: 0, count: 14)
        expectSafeTensorsError(containing: ["f16.random", "15 elements", "holds 14"]) {
            try wrongSize.withUnsafeMutableBufferPointer { try file.floats("f16.random", into: $0) }
        }
    }

    @Test func readsShardedCheckpointAsOneSource() throws {
        let index = try SafeTensorsIndex(url: fixtures.appendingPathComponent("sharded/model.safetensors.index.json"))
        let expected = try SafeTensorsExpectedValues.load(fixtures.appendingPathComponent("sharded.expected.json"))
        try check(index, against: expected)
        #expect(index.shards.keys.sorted() == ["model-00001-of-00002.safetensors", "model-00002-of-00002.safetensors"])
        #expect(try index.shard(of: "vision.proj").url?.lastPathComponent == "model-00002-of-00002.safetensors")
        #expect(index.shards["model-00001-of-00002.safetensors"]?.metadata == ["format": "pt"])
    }

    @Test func opensEachFormThroughOneEntryPoint() throws {
        let single = try SafeTensors.open(fixtures.appendingPathComponent("dtypes.safetensors"))
        #expect(single is SafeTensorsFile)
        let byIndex = try SafeTensors.open(fixtures.appendingPathComponent("sharded/model.safetensors.index.json"))
        #expect(byIndex is SafeTensorsIndex)
        // A folder is not a weights file: which files of a model folder hold its weights is CheckpointFolder's rule.
        #expect(throws: (any Error).self) { _ = try SafeTensors.open(fixtures.appendingPathComponent("sharded")) }
        expectSafeTensorsError(containing: ["no-such-model", "no such file"]) {
            _ = try SafeTensors.open(fixtures.appendingPathComponent("no-such-model"))
        }
    }

    @Test func accessorErrorsNameFileAndTensor() throws {
        let file = try SafeTensorsFile(url: fixtures.appendingPathComponent("dtypes.safetensors"))
        expectSafeTensorsError(containing: ["dtypes.safetensors", "no tensor named 'missing.weight'"]) {
            _ = try file.floats("missing.weight")
        }
        expectSafeTensorsError(containing: ["dtypes.safetensors", "'i64.values'", "dtype I64", "floats needs"]) {
            _ = try file.floats("i64.values")
        }
        expectSafeTensorsError(containing: ["dtypes.safetensors", "'f32.matrix'", "dtype F32", "int64s needs"]) {
            _ = try file.int64s("f32.matrix")
        }
        expectSafeTensorsError(containing: ["'u8.values'", "dtype U8"]) { _ = try file.int64s("u8.values") }
        expectSafeTensorsError(containing: ["'missing'"]) { _ = try file.withRawBytes("missing") { $0.count } }

        let index = try SafeTensorsIndex(url: fixtures.appendingPathComponent("sharded/model.safetensors.index.json"))
        expectSafeTensorsError(containing: ["model.safetensors.index.json", "'text.missing'"]) {
            _ = try index.info("text.missing")
        }
        expectSafeTensorsError(containing: ["model-00001-of-00002.safetensors", "'text.position_ids'", "dtype I64"]) {
            _ = try index.floats("text.position_ids")
        }
    }
}
