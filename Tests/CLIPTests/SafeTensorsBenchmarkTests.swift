import Foundation
import Testing

@testable import CLIP

/// Conversion throughput on 100M values; run with TAGTUNE_BENCH=1 in a release build
/// (`swift test -c release -Xswiftc -enable-testing --filter SafeTensorsBenchmark`).
@Suite(.serialized, .enabled(if: ProcessInfo.processInfo.environment["TAGTUNE_BENCH"] != nil))
struct SafeTensorsBenchmarkTests {
    static let count = 100_000_000

    /// Seconds taken by the fastest of `repeats` runs of `body`.
    func fastest(_ repeats: Int, _ body: () throws -> Void) rethrows -> Double {
        var best = Double.infinity
        for _ in 0..<repeats {
            let start = ContinuousClock.now
            try body()
            let elapsed = ContinuousClock.now - start
            best = min(best, Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) * 1e-18)
        }
        return best
    }

    func report(_ what: String, seconds: Double, inputBytes: Int) {
        let values = Double(Self.count)
        print(String(format: "%@: %.1f ms, %.2f Gvalues/s, %.2f GB/s read",
                     what, seconds * 1e3, values / seconds / 1e9, Double(inputBytes) / seconds / 1e9))
    }

    /// A file holding one tensor `t` of `count` elements of `dtype`, its data filled by `fill`.
    func makeFile(in folder: URL, dtype: SafeTensorsDType, fill: (UnsafeMutableRawBufferPointer) -> Void) throws -> URL {
        let byteCount = Self.count * dtype.byteSize
        var header = Array(#"{"t":{"dtype":"\#(dtype.rawValue)","shape":[\#(Self.count)],"data_offsets":[0,\#(byteCount)]}}"#.utf8)
        header += repeatElement(UInt8(ascii: " "), count: (8 - header.count % 8) % 8)
        var data = Data(count: 8 + header.count + byteCount)
        data.withUnsafeMutableBytes { raw in
            raw.storeBytes(of: UInt64(header.count).littleEndian, as: UInt64.self)
            raw.baseAddress!.advanced(by: 8).copyMemory(from: header, byteCount: header.count)
            fill(UnsafeMutableRawBufferPointer(rebasing: raw[(8 + header.count)...]))
        }
        let url = folder.appendingPathComponent("bench-\(dtype.rawValue).safetensors")
        try data.write(to: url)
        return url
    }

    @Test func halfToFloatOn100MillionValues() throws {
        try SafeTensorsTestSupport.withTemporaryFolder { folder in
            // Every half bit pattern in turn: all classes of value, subnormals and NaNs included.
            let url = try makeFile(in: folder, dtype: .f16) { raw in
                let halves = raw.bindMemory(to: UInt16.self)
                for index in halves.indices { halves[index] = UInt16(truncatingIfNeeded: index &* 40_503).littleEndian }
            }
            let file = try SafeTensorsFile(url: url)
            let output = UnsafeMutableBufferPointer<Float>.allocate(capacity: Self.count)
            defer { output.deallocate() }

            let cold = try fastest(1) { try file.floats("t", into: output) }
            report("F16→F32 via SafeTensorsFile, first read (page faults)", seconds: cold, inputBytes: Self.count * 2)
            let warm = try fastest(3) { try file.floats("t", into: output) }
            report("F16→F32 via SafeTensorsFile (all cores), warm", seconds: warm, inputBytes: Self.count * 2)

            let oneCore = try file.withRawBytes("t") { raw in
                fastest(3) { SafeTensorsConversion.halfToFloat(raw.baseAddress!, output.baseAddress!, Self.count) }
            }
            report("F16→F32 kernel on one core, warm", seconds: oneCore, inputBytes: Self.count * 2)

            // Same values as Swift's own Float16 conversion, element by element (NaNs by class).
            var mismatches = 0
            for index in stride(from: 0, to: Self.count, by: 997) {
                let reference = Float(Float16(bitPattern: UInt16(truncatingIfNeeded: index &* 40_503)))
                let value = output[index]
                if reference.isNaN ? !value.isNaN : value.bitPattern != reference.bitPattern { mismatches += 1 }
            }
            #expect(mismatches == 0)

            // For scale: the per-element library conversion on the same input.
            let scalar = try file.withRawBytes("t") { raw in
                fastest(1) {
                    let halves = raw.bindMemory(to: UInt16.self)
                    for index in 0..<Self.count { output[index] = Float(Float16(bitPattern: halves[index])) }
                }
            }
            report("F16→F32 with Swift's Float(Float16) per element", seconds: scalar, inputBytes: Self.count * 2)
        }
    }

    @Test func bfloat16AndFloat32On100MillionValues() throws {
        try SafeTensorsTestSupport.withTemporaryFolder { folder in
            let output = UnsafeMutableBufferPointer<Float>.allocate(capacity: Self.count)
            defer { output.deallocate() }
            for dtype in [SafeTensorsDType.bf16, .f32] {
                let url = try makeFile(in: folder, dtype: dtype) { raw in
                    let words = raw.bindMemory(to: UInt16.self)
                    for index in words.indices { words[index] = UInt16(truncatingIfNeeded: index &* 40_503) & 0x3FFF | 0x3000 }
                }
                let file = try SafeTensorsFile(url: url)
                _ = try fastest(1) { try file.floats("t", into: output) }
                let warm = try fastest(3) { try file.floats("t", into: output) }
                report("\(dtype.rawValue)→F32 via SafeTensorsFile, warm", seconds: warm, inputBytes: Self.count * dtype.byteSize)
                #expect(output[Self.count - 1].isFinite)
                try FileManager.default.removeItem(at: url)
            }
        }
    }
}
