import Compute
import Foundation

/// Element conversions between the file's little-endian encodings and native values.
///
/// Sources are raw pointers read with unaligned loads: safetensors does not promise that
/// a tensor's bytes are aligned to its element size. The loops are plain integer and
/// float operations with no branches, so the optimiser vectorises them.
enum SafeTensorsConversion {
    /// IEEE binary16 bits (in the low 16 bits) to the binary32 bits of the same value, exactly.
    ///
    /// Subnormal halves are rebuilt as a normal float minus 2^-14 rather than scaled from a
    /// float subnormal, so the result is right even with denormals-are-zero set.
    @inline(__always)
    static func floatBits(fromHalfBits half: UInt32) -> UInt32 {
        let sign = (half & 0x8000) << 16
        let shifted = (half & 0x7FFF) << 13              // exponent and mantissa in float position
        let exponent = shifted & 0x0F80_0000
        let rebias: UInt32 = 0x3800_0000                 // (127 - 15) << 23
        // Inf/NaN: exponent field all ones in both formats; the mantissa (NaN payload) is kept.
        let infOrNaN: UInt32 = exponent == 0x0F80_0000 ? rebias : 0
        let normal = shifted &+ rebias &+ infOrNaN
        // Zero/subnormal: 2^-14 · (1 + m/1024) − 2^-14 = m · 2^-24, computed exactly.
        let subnormal = (Float(bitPattern: shifted &+ rebias &+ 0x0080_0000) - 0x1p-14).bitPattern
        return (exponent == 0 ? subnormal : normal) | sign
    }

    /// Binary32 bits to binary16 bits, rounding to nearest even; overflow gives ±inf, NaN stays NaN (quiet).
    @inline(__always)
    static func halfBits(fromFloatBits float: UInt32) -> UInt16 {
        let sign = UInt16(truncatingIfNeeded: (float >> 16) & 0x8000)
        let magnitude = float & 0x7FFF_FFFF
        let result: UInt32
        if magnitude >= 0x4780_0000 {                     // ≥ 65536 (past max half after rounding), inf or NaN
            result = magnitude > 0x7F80_0000 ? 0x7E00 | (magnitude >> 13) & 0x3FF : 0x7C00
        } else if magnitude < 0x3880_0000 {               // below 2^-14: half subnormal or zero
            // Adding 0.5 puts the value's half-subnormal mantissa in the low float mantissa bits,
            // rounded to nearest even by the FPU.
            let sum = Float(bitPattern: magnitude) + 0.5
            result = sum.bitPattern &- 0x3F00_0000
        } else {
            let mantissaOdd = (magnitude >> 13) & 1
            let rounded = magnitude &+ 0xC800_0FFF &+ mantissaOdd  // rebias −(112 << 23), round half to even
            result = rounded >> 13
        }
        return UInt16(truncatingIfNeeded: result) | sign
    }

    /// Fewest elements per core worth a thread: below this the kernels finish in about a millisecond.
    static let elementsPerTask = 1 << 20

    /// Runs `kernel` over `count` elements; large tensors are split into contiguous chunks on all cores,
    /// since the F16 kernel is compute-bound (SSE2 only at the baseline target) and first reads fault in pages.
    static func run<Element>(
        _ kernel: @escaping @Sendable (UnsafeRawPointer, UnsafeMutablePointer<Element>, Int) -> Void,
        source: UnsafeRawPointer, sourceStride: Int, destination: UnsafeMutablePointer<Element>, count: Int,
        maximumTasks: Int = ProcessInfo.processInfo.activeProcessorCount
    ) {
        let tasks = min(maximumTasks, count / elementsPerTask)
        guard tasks > 1 else {
            kernel(source, destination, count)
            return
        }
        Parallel.forTasks(tasks) { task in
            let range = chunk(task, of: tasks, count: count)
            kernel(source + range.lowerBound * sourceStride, destination + range.lowerBound, range.count)
        }
    }

    /// Elements of chunk `task` out of `tasks`: contiguous, disjoint, together covering `0..<count`.
    /// Inner edges fall on multiples of 64 elements so every chunk's vector stores are aligned alike.
    static func chunk(_ task: Int, of tasks: Int, count: Int) -> Range<Int> {
        func edge(_ index: Int) -> Int {
            index == 0 ? 0 : index == tasks ? count : (count / tasks * index) & ~63
        }
        return edge(task)..<edge(task + 1)
    }

    /// Converts `count` little-endian F16 values at `source` to Float.
    static func halfToFloat(_ source: UnsafeRawPointer, _ destination: UnsafeMutablePointer<Float>, _ count: Int) {
        for index in 0..<count {
            let half = UInt16(littleEndian: source.loadUnaligned(fromByteOffset: index &* 2, as: UInt16.self))
            destination[index] = Float(bitPattern: floatBits(fromHalfBits: UInt32(half)))
        }
    }

    /// Converts `count` little-endian BF16 values at `source` to Float (exact: BF16 is the top half of F32).
    static func bfloat16ToFloat(_ source: UnsafeRawPointer, _ destination: UnsafeMutablePointer<Float>, _ count: Int) {
        for index in 0..<count {
            let bits = UInt16(littleEndian: source.loadUnaligned(fromByteOffset: index &* 2, as: UInt16.self))
            destination[index] = Float(bitPattern: UInt32(bits) << 16)
        }
    }

    /// Converts `count` little-endian F64 values at `source` to Float, rounding to nearest.
    static func doubleToFloat(_ source: UnsafeRawPointer, _ destination: UnsafeMutablePointer<Float>, _ count: Int) {
        for index in 0..<count {
            let bits = UInt64(littleEndian: source.loadUnaligned(fromByteOffset: index &* 8, as: UInt64.self))
            destination[index] = Float(Double(bitPattern: bits))
        }
    }

    /// Copies `count` little-endian F32 values at `source`.
    static func copyFloats(_ source: UnsafeRawPointer, _ destination: UnsafeMutablePointer<Float>, _ count: Int) {
        #if _endian(little)
        UnsafeMutableRawPointer(destination).copyMemory(from: source, byteCount: count &* 4)
        #else
        for index in 0..<count {
            let bits = UInt32(littleEndian: source.loadUnaligned(fromByteOffset: index &* 4, as: UInt32.self))
            destination[index] = Float(bitPattern: bits)
        }
        #endif
    }

    /// Widens `count` little-endian I32 values at `source` to Int64.
    static func int32ToInt64(_ source: UnsafeRawPointer, _ destination: UnsafeMutablePointer<Int64>, _ count: Int) {
        for index in 0..<count {
            let value = Int32(littleEndian: source.loadUnaligned(fromByteOffset: index &* 4, as: Int32.self))
            destination[index] = Int64(value)
        }
    }

    /// Copies `count` little-endian I64 values at `source`.
    static func copyInt64s(_ source: UnsafeRawPointer, _ destination: UnsafeMutablePointer<Int64>, _ count: Int) {
        #if _endian(little)
        UnsafeMutableRawPointer(destination).copyMemory(from: source, byteCount: count &* 8)
        #else
        for index in 0..<count {
            destination[index] = Int64(littleEndian: source.loadUnaligned(fromByteOffset: index &* 8, as: Int64.self))
        }
        #endif
    }

    /// Converts `count` Floats to little-endian F16 at `destination`.
    static func floatToHalf(_ source: UnsafePointer<Float>, _ destination: UnsafeMutableRawPointer, _ count: Int) {
        for index in 0..<count {
            let half = halfBits(fromFloatBits: source[index].bitPattern)
            destination.storeBytes(of: half.littleEndian, toByteOffset: index &* 2, as: UInt16.self)
        }
    }

    /// Copies `count` Floats to little-endian F32 at `destination`.
    static func copyFloatsToLittleEndian(_ source: UnsafePointer<Float>, _ destination: UnsafeMutableRawPointer, _ count: Int) {
        #if _endian(little)
        destination.copyMemory(from: source, byteCount: count &* 4)
        #else
        for index in 0..<count {
            destination.storeBytes(of: source[index].bitPattern.littleEndian, toByteOffset: index &* 4, as: UInt32.self)
        }
        #endif
    }
}
