/// Where a class falls in a long-tailed distribution, by its number of training images.
public enum ClassGroup: String, Sendable, Codable, CaseIterable, Hashable {
    case head
    case medium
    case tail

    /// The group of a class with `count` training images under `bounds`.
    public init(trainingCount count: Int, bounds: ClassGroupBounds = .default) {
        if count >= bounds.headMinimum {
            self = .head
        } else if count >= bounds.mediumMinimum {
            self = .medium
        } else {
            self = .tail
        }
    }
}
