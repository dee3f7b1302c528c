import Compute

/// Where a tuning job's validation images come from.
public enum ValidationSplit: Sendable {
    /// A separate dataset with the same classes (in any order; its labels are renumbered to match).
    case given(Dataset)
    /// A stratified part of the training set, drawn with a fixed seed (see `DatasetSplitter`).
    case heldOut(fraction: Double, seed: UInt64)
    /// No separate validation images: settings and epochs are scored by stratified k-fold on the
    /// training set (`EpochSelection`), so every training image, every tail positive, trains the
    /// shipped prompts and is scored once. The default.
    case folds

    /// The default hold-out: 10% of the training images.
    public static func heldOut(seed: UInt64) -> ValidationSplit {
        .heldOut(fraction: defaultFraction, seed: seed)
    }

    /// Share of the training images held out when no validation set is given.
    public static let defaultFraction = 0.1
}

/// Turns a training dataset and a `ValidationSplit` into the datasets a tuning job trains and validates on.
public enum DatasetSplitter {
    /// Training and validation datasets. A given validation set must have the same class names as
    /// the training set (a `DatasetValidationError` names the differences); a held-out one is drawn by
    /// `HeldOutSplit` (a `TuningError` for a bad fraction or too few images).
    public static func split(_ dataset: Dataset, using split: ValidationSplit) throws
        -> (training: Dataset, validation: Dataset) {
        switch split {
        case .given(let validation):
            return (dataset, try matchingClasses(validation, to: dataset.classes))
        case .folds:
            return (dataset, dataset.subset([]))
        case .heldOut(let fraction, let seed):
            let parts = try HeldOutSplit(annotations: dataset.annotations, fraction: fraction, seed: seed)
            return (dataset.subset(parts.training), dataset.subset(parts.validation))
        }
    }

    /// `validation` with its labels numbered as in `classes`, or the list of classes that differ.
    static func matchingClasses(_ validation: Dataset, to classes: [String]) throws(DatasetValidationError)
        -> Dataset {
        if validation.classes == classes { return validation }
        let trainingSet = Set(classes)
        let validationSet = Set(validation.classes)
        var problems: [DatasetProblem] = []
        for name in classes where !validationSet.contains(name) {
            problems.append(DatasetProblem(file: ClassListParser.fileName, field: name,
                                           message: "training class is missing from the validation dataset"))
        }
        for name in validation.classes where !trainingSet.contains(name) {
            problems.append(DatasetProblem(file: ClassListParser.fileName, field: name,
                                           message: "validation class is not a class of the training dataset"))
        }
        if !problems.isEmpty { throw DatasetValidationError(problems: problems) }
        return validation.reordered(to: classes)
    }
}

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
