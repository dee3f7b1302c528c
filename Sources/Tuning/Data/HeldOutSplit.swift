import Compute

/// Which items of a dataset train and which validate, as indices in the dataset's item order.
public struct HeldOutSplit: Sendable, Codable, Equatable {
    /// Items kept for training, in ascending order.
    public var training: [Int]
    /// Items held out for validation, in ascending order.
    public var validation: [Int]

    /// Draws a stratified multi-label hold-out of about `fraction` of the items, the same for the same
    /// seed and items. Iterative, rarest class first:
    /// 1. each class with at least 2 images gets one validation image (the candidate with the fewest
    ///    labels, so other classes are disturbed least);
    /// 2. classes, again rarest first, take more images until they hold `fraction` of their own count;
    /// 3. images in seeded random order fill the validation part up to `fraction` of all images.
    /// No step ever takes a class's last training image, and step 1 may go past the target size
    /// on small datasets with many classes (a class missing from validation has no AP).
    public init(annotations: DatasetAnnotations, fraction: Double, seed: UInt64) throws(TuningError) {
        let items = annotations.items
        guard fraction > 0, fraction < 1 else {
            throw .invalidArgument("validation fraction must be between 0 and 1 (exclusive), not \(fraction)")
        }
        guard items.count >= 2 else {
            throw .invalidArgument("holding out validation images needs at least 2 images, not \(items.count)")
        }
        let target = min(max(Int((fraction * Double(items.count)).rounded()), 1), items.count - 1)
        let counts = annotations.classCounts

        var random = SplitMix64(seed: seed)
        var order = Array(items.indices)
        for position in stride(from: order.count - 1, to: 0, by: -1) {
            order.swapAt(position, Self.uniform(below: position + 1, using: &random))
        }
        var itemsOfClass = [[Int]](repeating: [], count: counts.count)
        for index in order {
            for label in items[index].labels { itemsOfClass[label].append(index) }
        }
        let rarestFirst = counts.indices.filter { counts[$0] > 0 }.sorted { (counts[$0], $0) < (counts[$1], $1) }

        var trainingCount = counts
        var validationCount = [Int](repeating: 0, count: counts.count)
        var isHeldOut = [Bool](repeating: false, count: items.count)
        var heldOutCount = 0
        func canHoldOut(_ index: Int) -> Bool {
            !isHeldOut[index] && items[index].labels.allSatisfy { trainingCount[$0] >= 2 }
        }
        func holdOut(_ index: Int) {
            isHeldOut[index] = true
            heldOutCount += 1
            for label in items[index].labels {
                trainingCount[label] -= 1
                validationCount[label] += 1
            }
        }

        for label in rarestFirst where counts[label] >= 2 && validationCount[label] == 0 {
            let candidates = itemsOfClass[label].filter(canHoldOut)
            if let best = candidates.min(by: { items[$0].labels.count < items[$1].labels.count }) {
                holdOut(best)
            }
        }
        for label in rarestFirst {
            let share = Int((fraction * Double(counts[label])).rounded())
            for index in itemsOfClass[label] {
                guard validationCount[label] < share, heldOutCount < target else { break }
                if canHoldOut(index) { holdOut(index) }
            }
        }
        for index in order where heldOutCount < target {
            if canHoldOut(index) { holdOut(index) }
        }
        training = items.indices.filter { !isHeldOut[$0] }
        validation = items.indices.filter { isHeldOut[$0] }
    }

    /// Uniform in 0..<bound by the high half of a full-width product (Lemire), fixed across Swift versions
    /// unlike `Int.random(in:using:)`.
    private static func uniform(below bound: Int, using random: inout SplitMix64) -> Int {
        Int(random.next().multipliedFullWidth(by: UInt64(bound)).high)
    }
}
