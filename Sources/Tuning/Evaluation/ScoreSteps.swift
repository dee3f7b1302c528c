/// The precision–recall steps of one ranking: its distinct scores from highest to lowest and,
/// for the decision `score >= step`, how many items and how many positives are predicted.
///
/// Tied scores form one step, as in sklearn's `precision_recall_curve` (one threshold per
/// distinct value), and -0.0 ties with +0.0 as it does in NumPy.
struct ScoreSteps {
    /// Distinct scores, descending.
    var scores: [Float] = []
    /// Items with `score >= scores[k]`.
    var predicted: [Int] = []
    /// Positive items with `score >= scores[k]`.
    var truePositives: [Int] = []
    /// All positive items.
    var positives: Int { truePositives.last ?? 0 }

    /// Steps of `count` items whose scores and labels `score(i)` and `label(i)` give (no NaN).
    init(count: Int, score: (Int) -> Float, label: (Int) -> Bool) {
        // One UInt64 per item, order-preserving bits of the score above the label bit, so the
        // standard library's integer sort ranks them (much faster than sorting with a closure).
        var keys = [UInt64](unsafeUninitializedCapacity: count) { buffer, initialized in
            for i in 0..<count {
                buffer[i] = UInt64(Self.orderedBits(score(i))) << 32 | (label(i) ? 1 : 0)
            }
            initialized = count
        }
        keys.sort()
        scores.reserveCapacity(count)
        predicted.reserveCapacity(count)
        truePositives.reserveCapacity(count)
        var seen = 0, positivesSeen = 0
        var index = count - 1
        while index >= 0 {
            let bits = UInt32(truncatingIfNeeded: keys[index] >> 32)
            while index >= 0, UInt32(truncatingIfNeeded: keys[index] >> 32) == bits {
                seen += 1
                positivesSeen += Int(keys[index] & 1)
                index -= 1
            }
            scores.append(Self.score(fromOrderedBits: bits))
            predicted.append(seen)
            truePositives.append(positivesSeen)
        }
    }

    /// Bits whose unsigned order is the order of the (non-NaN) floats; -0.0 maps with +0.0.
    @inline(__always)
    static func orderedBits(_ value: Float) -> UInt32 {
        let bits = (value == 0 ? Float(0) : value).bitPattern
        return bits & 0x8000_0000 != 0 ? ~bits : bits | 0x8000_0000
    }

    @inline(__always)
    static func score(fromOrderedBits ordered: UInt32) -> Float {
        Float(bitPattern: ordered & 0x8000_0000 != 0 ? ordered & 0x7FFF_FFFF : ~ordered)
    }
}
