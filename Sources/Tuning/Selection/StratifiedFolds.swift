import Compute

/// A stratified k-fold split of a multi-label training set (iterative stratification, Sechidis
/// et al. 2011): classes are taken rarest first, and each of a class's images not yet placed goes
/// to the fold that lacks that class most (ties: the fold with fewest images, then the lowest
/// index). A class with n images so lands in min(n, k) folds, n/k each as nearly as possible,
/// and out-of-fold scores exist for every image. The same seed and labels give the same folds.
public struct StratifiedFolds: Sendable, Equatable {
    /// The fold of each image.
    public let fold: [Int]
    public let count: Int

    /// `labels` [N, C] multi-hot; k ≥ 2 and at most N.
    public init(labels: [Float], classes: Int, folds k: Int, seed: UInt64) throws {
        let n = labels.count / max(classes, 1)
        guard k >= 2 else { throw TuningError.invalidArgument("folds: need at least 2, got \(k)") }
        guard n >= k else { throw TuningError.invalidArgument("folds: \(k) folds need at least \(k) training images, got \(n)") }
        var rng = SplitMix64(seed: seed &+ 0xF01D)
        var order = Array(0..<n)
        order.shuffle(using: &rng)
        var counts = [Int](repeating: 0, count: classes)
        for (i, y) in labels.enumerated() where y > 0.5 { counts[i % classes] += 1 }
        let rarestFirst = (0..<classes).filter { counts[$0] > 0 }.sorted { (counts[$0], $0) < (counts[$1], $1) }
        var fold = [Int](repeating: -1, count: n)
        var foldSize = [Int](repeating: 0, count: k)
        var perClass = [[Int]](repeating: [Int](repeating: 0, count: k), count: classes)
        func place(_ i: Int, in f: Int) {
            fold[i] = f
            foldSize[f] += 1
            for c in 0..<classes where labels[i * classes + c] > 0.5 { perClass[c][f] += 1 }
        }
        for c in rarestFirst {
            for i in order where fold[i] == -1 && labels[i * classes + c] > 0.5 {
                let f = (0..<k).min { (perClass[c][$0], foldSize[$0], $0) < (perClass[c][$1], foldSize[$1], $1) }!
                place(i, in: f)
            }
        }
        for i in order where fold[i] == -1 {   // images without labels
            place(i, in: (0..<k).min { (foldSize[$0], $0) < (foldSize[$1], $1) }!)
        }
        self.fold = fold
        count = k
    }

    /// Images in fold f (held out) and the rest (trained on), in ascending order.
    public func split(_ f: Int) -> (training: [Int], heldOut: [Int]) {
        (fold.indices.filter { fold[$0] != f }, fold.indices.filter { fold[$0] == f })
    }
}
