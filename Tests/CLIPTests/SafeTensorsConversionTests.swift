import Testing

@testable import CLIP

/// The element conversions, checked against Swift's own Float16 and Double conversions.
@Suite struct SafeTensorsConversionTests {
    /// Every F16 bit pattern, in order.
    let allHalfBits: [UInt16] = (0...UInt16.max).map { $0 }

    /// Runs the F16 → Float kernel over `bits` stored starting `misalignment` bytes into a buffer.
    func halfToFloat(_ bits: [UInt16], misalignment: Int = 0) -> [Float] {
        let bytes = [UInt8](repeating: 0, count: misalignment)
            + bits.flatMap { value in withUnsafeBytes(of: value.littleEndian) { Array($0) } }
        return bytes.withUnsafeBytes { raw in
            [Float](unsafeUninitializedCapacity: bits.count) { output, count in
                SafeTensorsConversion.halfToFloat(raw.baseAddress! + misalignment, output.baseAddress!, bits.count)
                count = bits.count
            }
        }
    }

    @Test func everyHalfConvertsExactly() {
        let converted = halfToFloat(allHalfBits)
        for (bits, value) in zip(allHalfBits, converted) {
            let reference = Float(Float16(bitPattern: bits))
            if reference.isNaN {
                // Same sign and the payload moved up 13 bits, quiet bit included as it was.
                let payload = UInt32(bits & 0x3FF) << 13
                #expect(value.isNaN && value.sign == reference.sign && value.bitPattern & 0x7F_FFFF == payload,
                        "half bits \(bits)")
            } else {
                #expect(value.bitPattern == reference.bitPattern, "half bits \(bits): \(value) vs \(reference)")
            }
        }
    }

    @Test func halfConversionIgnoresAlignment() {
        let bits = Array(allHalfBits[0x3C00..<0x3C40]) + [0x0001, 0x8000, 0x7C00]
        let aligned = halfToFloat(bits)
        for misalignment in 1...7 {
            #expect(halfToFloat(bits, misalignment: misalignment).map(\.bitPattern) == aligned.map(\.bitPattern))
        }
    }

    @Test func chunksCoverTheTensorWithoutOverlap() {
        for (count, tasks) in [(3_145_741, 3), (2_097_152, 2), (16_000_037, 16)] {
            let chunks = (0..<tasks).map { SafeTensorsConversion.chunk($0, of: tasks, count: count) }
            #expect(chunks.first?.lowerBound == 0 && chunks.last?.upperBound == count)
            #expect(zip(chunks, chunks.dropFirst()).allSatisfy { $0.upperBound == $1.lowerBound && $0.upperBound % 64 == 0 })
            #expect(chunks.allSatisfy { $0.count > count / tasks - 64 })
        }
    }

    @Test func chunkedRunMatchesOneCall() {
        // 3 tasks regardless of the machine's core count; an odd length leaves a ragged tail.
        let count = 3 * SafeTensorsConversion.elementsPerTask + 13
        let bits = (0..<count).map { UInt16(truncatingIfNeeded: $0 &* 40_503) }
        let whole = halfToFloat(bits)
        var chunked = [Float](repeating: 0, count: count)
        bits.withUnsafeBytes { raw in
            chunked.withUnsafeMutableBufferPointer {
                SafeTensorsConversion.run(
                    SafeTensorsConversion.halfToFloat, source: raw.baseAddress!, sourceStride: 2,
                    destination: $0.baseAddress!, count: count, maximumTasks: 3)
            }
        }
        #expect(chunked.map(\.bitPattern) == whole.map(\.bitPattern))
    }

    @Test func floatToHalfRoundsToNearestEven() {
        func half(_ value: Float) -> UInt16 { SafeTensorsConversion.halfBits(fromFloatBits: value.bitPattern) }
        #expect(half(2049) == Float16(2048).bitPattern)          // tie goes to the even mantissa
        #expect(half(2051) == Float16(2052).bitPattern)
        #expect(half(65504) == 0x7BFF && half(65519.99) == 0x7BFF)
        #expect(half(65520) == 0x7C00 && half(1e10) == 0x7C00 && half(-.infinity) == 0xFC00)
        #expect(half(0x1p-25) == 0x0000)                          // halfway to the smallest subnormal: even is 0
        #expect(half(0x1.000002p-25) == 0x0001)
        #expect(half(0x1.8p-24) == 0x0002)                        // 1.5 subnormal steps: tie to even 2
        #expect(half(-0.0) == 0x8000 && half(1e-30) == 0 && half(-0x1p-130) == 0x8000)
        #expect(half(0x1.ffcp-15) == 0x0400)                      // rounds up from subnormal into the normals
        #expect(half(.nan) & 0x7E00 == 0x7E00 && half(-.nan) & 0x8000 == 0x8000)
        #expect(half(Float(bitPattern: 0x7F80_0001)) & 0x7E00 == 0x7E00)  // signalling NaN stays NaN
    }

    @Test func floatToHalfMatchesSwiftOnEveryHalfAndRandomFloats() {
        // Every finite half survives the round trip half → float → half.
        for bits in allHalfBits where !Float16(bitPattern: bits).isNaN {
            let float = Float(Float16(bitPattern: bits))
            #expect(SafeTensorsConversion.halfBits(fromFloatBits: float.bitPattern) == bits)
        }
        // Random float bit patterns (all exponents) agree with Swift's rounding conversion.
        var generator = SafeTensorsTestRandom(seed: 0x5AFE_7E45)
        var mismatches = 0
        for _ in 0..<500_000 {
            let float = Float(bitPattern: UInt32(truncatingIfNeeded: generator.next()))
            guard !float.isNaN else { continue }
            if SafeTensorsConversion.halfBits(fromFloatBits: float.bitPattern) != Float16(float).bitPattern {
                mismatches += 1
            }
        }
        #expect(mismatches == 0)
    }

    @Test func floatToHalfKernelWritesLittleEndian() {
        let values: [Float] = [1, -2, 0.5, 65504]
        var bytes = [UInt8](repeating: 0, count: 8)
        values.withUnsafeBufferPointer { source in
            bytes.withUnsafeMutableBytes { SafeTensorsConversion.floatToHalf(source.baseAddress!, $0.baseAddress!, 4) }
        }
        #expect(bytes == [0x00, 0x3C, 0x00, 0xC0, 0x00, 0x38, 0xFF, 0x7B])
    }

    @Test func bfloat16AndDoubleAndInt32Kernels() {
        let bf16: [UInt8] = [0x80, 0x3F, 0xC0, 0x7F, 0x01, 0x00]  // 1.0, NaN, smallest subnormal
        var floats = [Float](repeating: 0, count: 3)
        bf16.withUnsafeBytes { raw in
            floats.withUnsafeMutableBufferPointer { SafeTensorsConversion.bfloat16ToFloat(raw.baseAddress!, $0.baseAddress!, 3) }
        }
        #expect(floats.map(\.bitPattern) == [0x3F80_0000, 0x7FC0_0000, 0x0001_0000])

        let doubles: [Double] = [0.1, -1e300, 1e-50, 16_777_217, .pi, 3.4028235677973366e38]
        // One byte in, to exercise unaligned loads.
        let shifted = [UInt8](repeating: 0, count: 1) + doubles.withUnsafeBytes { Array($0) }
        var narrowed = [Float](repeating: 0, count: doubles.count)
        shifted.withUnsafeBytes { raw in
            narrowed.withUnsafeMutableBufferPointer {
                SafeTensorsConversion.doubleToFloat(raw.baseAddress! + 1, $0.baseAddress!, doubles.count)
            }
        }
        #expect(narrowed.map(\.bitPattern) == doubles.map { Float($0).bitPattern })
        #expect(narrowed[5] == .infinity && narrowed[2] == 0)

        let int32s: [Int32] = [0, -1, .max, .min]
        var widened = [Int64](repeating: 7, count: 4)
        int32s.withUnsafeBytes { raw in
            widened.withUnsafeMutableBufferPointer { SafeTensorsConversion.int32ToInt64(raw.baseAddress!, $0.baseAddress!, 4) }
        }
        #expect(widened == [0, -1, Int64(Int32.max), Int64(Int32.min)])
    }
}
