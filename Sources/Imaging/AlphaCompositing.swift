/// Flattens RGBA onto an opaque background with PIL's `Image.alpha_composite` arithmetic:
/// over an opaque colour it reduces to `(s·a + b·(255 − a) + 128)` divided by 255 with PIL's
/// shift-based rounding `((t >> 8) + t) >> 8`, which matches PIL for every (s, a, b).
enum AlphaCompositing {
    /// Composites `pixelCount` RGBA pixels over `background` into packed RGB.
    static func composite(_ source: UnsafePointer<UInt8>, over background: RGBColor,
                          into destination: UnsafeMutablePointer<UInt8>, pixelCount: Int) {
        let br = Int32(background.red), bg = Int32(background.green), bb = Int32(background.blue)
        var src = source
        var dst = destination
        for _ in 0..<pixelCount {
            let a = Int32(src[3])
            let na = 255 - a
            dst[0] = blend(Int32(src[0]), a, br, na)
            dst[1] = blend(Int32(src[1]), a, bg, na)
            dst[2] = blend(Int32(src[2]), a, bb, na)
            src += 4
            dst += 3
        }
    }

    /// Drops the alpha channel, as PIL's `convert("RGB")` does.
    static func discardAlpha(_ source: UnsafePointer<UInt8>, into destination: UnsafeMutablePointer<UInt8>,
                             pixelCount: Int) {
        var src = source
        var dst = destination
        for _ in 0..<pixelCount {
            dst[0] = src[0]
            dst[1] = src[1]
            dst[2] = src[2]
            src += 4
            dst += 3
        }
    }

    @inline(__always)
    private static func blend(_ s: Int32, _ a: Int32, _ b: Int32, _ na: Int32) -> UInt8 {
        let t = s &* a &+ b &* na &+ 128
        return UInt8(truncatingIfNeeded: ((t >> 8) &+ t) >> 8)
    }
}
