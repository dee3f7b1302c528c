import CLIP

/// Text features of zero-shot class lists ("a photo of a {class}."), computed once per
/// encoder weights and class list and kept in a small least-recently-used cache. Concurrent
/// requests for the same uncached list wait for one computation.
actor ZeroShotFeatureCache {
    static let template = ZeroShotClassifier.defaultTemplate

    let capacity: Int
    private var entries: [String: Task<[Float], any Error>] = [:]
    /// Keys from least to most recently used.
    private var order: [String] = []
    /// How many lists were computed (not served from the cache).
    private(set) var computations = 0

    init(capacity: Int = 64) {
        self.capacity = max(1, capacity)
    }

    static func key(weightsDigest: String, classes: [String]) -> String {
        weightsDigest + "\u{1}" + template + "\u{1}" + classes.joined(separator: "\u{1F}")
    }

    static func prompts(for classes: [String]) -> [String] {
        ZeroShotClassifier.prompts(for: classes, template: template)
    }

    /// The cached features for `key`, or `compute`'s result, which is then kept.
    func features(for key: String, compute: @escaping @Sendable () async throws -> [Float]) async throws -> [Float] {
        if let task = entries[key] {
            touch(key)
            return try await task.value
        }
        computations += 1
        let task = Task { try await compute() }
        entries[key] = task
        touch(key)
        while order.count > capacity { entries[order.removeFirst()] = nil }
        do {
            return try await task.value
        } catch {
            // A failure is not kept: the next request tries again.
            if entries[key].map({ $0 == task }) == true {
                entries[key] = nil
                order.removeAll { $0 == key }
            }
            throw error
        }
    }

    var count: Int { entries.count }

    private func touch(_ key: String) {
        order.removeAll { $0 == key }
        order.append(key)
    }
}
