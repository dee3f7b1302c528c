/// Pillow-exact bicubic resize of 8-bit RGB (`Image.resize(size, Image.BICUBIC)` of Pillow 13):
/// separable passes through an 8-bit intermediate, each skipped when its dimension keeps its
/// size, 22-bit fixed-point weights, sums started at one half, shifted and clamped.
///
/// Pass order follows Pillow 13: horizontal first, except when the height shrinks by more than
/// twice as many pixels as the width does (`Δh > 0 && Δh > 2·Δw`), then vertical first.
/// Pillow 12 and earlier always went horizontal first; the order changes some pixels by a level.
public enum BicubicResampler {
    /// Resizes `image` to `width` x `height`.
    public static func resize(_ image: RGBImage, width: Int, height: Int) throws(ImagingError) -> RGBImage {
        guard width > 0, height > 0 else {
            throw .invalidArgument("resize target \(width) x \(height) must be positive")
        }
        if width == image.width && height == image.height { return image }
        let window = PixelRect(x: 0, y: 0, width: width, height: height)
        return RGBImage(width: width, height: height) { out in
            resample(image, width: width, height: height, window: window, into: out.baseAddress!)
        }
    }

    /// Whether Pillow 13 runs the vertical pass first for this resize.
    static func runsVerticalFirst(from image: (width: Int, height: Int), to size: (width: Int, height: Int)) -> Bool {
        let shrinkY = image.height - size.height, shrinkX = image.width - size.width
        return shrinkY > 0 && shrinkY > shrinkX * 2
    }

    /// Computes only `window` of the `width` x `height` resize into `destination` (packed rows
    /// of `window.width` pixels). Each output pixel depends only on its own weights and on the
    /// intermediate pixels they cover, so the window equals the same region cut from the full
    /// resize, bit for bit, while the passes touch only the rows and columns it needs.
    static func resample(_ image: RGBImage, width: Int, height: Int, window: PixelRect,
                         into destination: UnsafeMutablePointer<UInt8>) {
        precondition(window.x >= 0 && window.y >= 0 && window.width > 0 && window.height > 0
                     && window.x + window.width <= width && window.y + window.height <= height)
        let columns = window.x..<(window.x + window.width), rows = window.y..<(window.y + window.height)
        let horizontal = width != image.width
            ? ResampleCoefficients(inSize: image.width, outSize: width, outputs: columns) : nil
        let vertical = height != image.height
            ? ResampleCoefficients(inSize: image.height, outSize: height, outputs: rows) : nil
        let outRowBytes = window.width * 3
        let sourceStride = image.width * 3

        image.pixels.withUnsafeBufferPointer { pixels in
            let source = pixels.baseAddress!
            switch (horizontal, vertical) {
            case (nil, nil):
                for y in 0..<window.height {
                    (destination + y * outRowBytes).update(from: source + (window.y + y) * sourceStride + window.x * 3,
                                                           count: outRowBytes)
                }
            case (let horizontal?, nil):
                horizontalPass(source + window.y * sourceStride, sourceStride: sourceStride, firstColumn: 0,
                               rows: window.height, horizontal, into: destination)
            case (nil, let vertical?):
                verticalPass(source + window.x * 3, stride: sourceStride, firstRow: 0, vertical,
                             rowBytes: outRowBytes, into: destination)
            case (let horizontal?, let vertical?):
                if runsVerticalFirst(from: (image.width, image.height), to: (width, height)) {
                    // Vertical pass over just the input columns the window's outputs read.
                    let lastX = window.width - 1
                    let firstColumn = Int(horizontal.starts[0])
                    let endColumn = Int(horizontal.starts[lastX] + horizontal.counts[lastX])
                    let columnBytes = (endColumn - firstColumn) * 3
                    let intermediate = UnsafeMutablePointer<UInt8>.allocate(capacity: window.height * columnBytes)
                    defer { intermediate.deallocate() }
                    verticalPass(source + firstColumn * 3, stride: sourceStride, firstRow: 0, vertical,
                                 rowBytes: columnBytes, into: intermediate)
                    horizontalPass(intermediate, sourceStride: columnBytes, firstColumn: firstColumn,
                                   rows: window.height, horizontal, into: destination)
                } else {
                    // Horizontal pass over just the input rows the window's outputs read
                    // (Pillow's ybox_first...ybox_last, narrowed to the window).
                    let lastY = window.height - 1
                    let firstRow = Int(vertical.starts[0])
                    let endRow = Int(vertical.starts[lastY] + vertical.counts[lastY])
                    let intermediate = UnsafeMutablePointer<UInt8>.allocate(capacity: (endRow - firstRow) * outRowBytes)
                    defer { intermediate.deallocate() }
                    horizontalPass(source + firstRow * sourceStride, sourceStride: sourceStride, firstColumn: 0,
                                   rows: endRow - firstRow, horizontal, into: intermediate)
                    verticalPass(intermediate, stride: outRowBytes, firstRow: firstRow, vertical,
                                 rowBytes: outRowBytes, into: destination)
                }
            }
        }
    }

    /// Resamples each of `rows` rows along x into the outputs `c` covers, packed;
    /// `source` rows begin at input column `firstColumn`.
    private static func horizontalPass(_ source: UnsafePointer<UInt8>, sourceStride: Int, firstColumn: Int, rows: Int,
                                       _ c: ResampleCoefficients, into destination: UnsafeMutablePointer<UInt8>) {
        let stride = c.stride
        c.starts.withUnsafeBufferPointer { starts in
        c.counts.withUnsafeBufferPointer { counts in
        c.weights.withUnsafeBufferPointer { weights in
            var out = destination
            for y in 0..<rows {
                let row = source + y * sourceStride
                for xx in 0..<c.outputs.count {
                    let p = row + (Int(starts[xx]) - firstColumn) * 3
                    let k = weights.baseAddress! + xx * stride
                    let taps = Int(counts[xx])
                    let sums = weightedSum(p, k, taps)
                    out[0] = ResampleCoefficients.clip8(sums.x)
                    out[1] = ResampleCoefficients.clip8(sums.y)
                    out[2] = ResampleCoefficients.clip8(sums.z)
                    out += 3
                }
            }
        }}}
    }

    /// Σ pixel · weight over `taps` consecutive RGB pixels, per channel, from one half.
    /// (Plain scalar sums: four-byte vector loads measured twice as slow here.)
    @inline(__always)
    private static func weightedSum(_ pixels: UnsafePointer<UInt8>, _ weights: UnsafePointer<Int32>,
                                          _ taps: Int) -> SIMD4<Int32> {
        var s0 = ResampleCoefficients.rounding
        var s1 = s0, s2 = s0
        var p = pixels
        for t in 0..<taps {
            let w = weights[t]
            s0 &+= Int32(p[0]) &* w
            s1 &+= Int32(p[1]) &* w
            s2 &+= Int32(p[2]) &* w
            p += 3
        }
        return SIMD4(s0, s1, s2, 0)
    }

    /// Resamples along y: each output row is a weighted sum of whole intermediate rows, which
    /// adds the same integer terms as Pillow's per-pixel loop, only in a vectorisable order.
    /// `source` begins at input row `firstRow`; output rows are the ones `c` covers, packed.
    private static func verticalPass(_ source: UnsafePointer<UInt8>, stride sourceStride: Int, firstRow: Int,
                                     _ c: ResampleCoefficients, rowBytes: Int,
                                     into destination: UnsafeMutablePointer<UInt8>) {
        let sums = UnsafeMutablePointer<Int32>.allocate(capacity: rowBytes)
        defer { sums.deallocate() }
        c.starts.withUnsafeBufferPointer { starts in
        c.counts.withUnsafeBufferPointer { counts in
        c.weights.withUnsafeBufferPointer { weights in
            for yy in 0..<c.outputs.count {
                sums.initialize(repeating: ResampleCoefficients.rounding, count: rowBytes)
                let k = weights.baseAddress! + yy * c.stride
                let top = Int(starts[yy]) - firstRow
                for t in 0..<Int(counts[yy]) {
                    let w = k[t]
                    let row = source + (top + t) * sourceStride
                    for i in 0..<rowBytes {
                        sums[i] &+= Int32(row[i]) &* w
                    }
                }
                let out = destination + yy * rowBytes
                for i in 0..<rowBytes {
                    out[i] = ResampleCoefficients.clip8(sums[i])
                }
            }
        }}}
    }
}
