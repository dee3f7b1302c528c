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
