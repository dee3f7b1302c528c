import Foundation

/// Byte-level BPE over CLIP's vocabulary: a word's UTF-8 bytes become symbols (the last one
/// carrying "</w>"), then the lowest-ranked adjacent pair is merged everywhere, left to right,
/// until no ranked pair remains (open_clip's `SimpleTokenizer.bpe`). Words are cached.
final class BytePairEncoder: Sendable {
    /// Symbols are numbered internally; `outputIDs` maps them to vocabulary ids (-1: not in the
    /// vocabulary, emitted as `unknownID`).
    private let initialSymbols: [Int32]
    private let finalSymbols: [Int32]
    /// (left << 32 | right) -> (rank << 32 | merged symbol).
    private let merges: [UInt64: UInt64]
    private let outputIDs: [Int32]
    private let unknownID: Int32
    private let cache = WordCache()
    /// Words with more symbols than this merge through a heap (O(n log n)) instead of scans.
    static let heapThreshold = 48

    /// `vocabulary` maps token bytes to ids; `merges` are the merge lines' parts in rank order
    /// (only two-part lines merge; a repeated pair keeps its last rank, as in a Python dict).
    init(vocabulary: [[UInt8]: Int32], merges mergeLines: [[[UInt8]]], unknownID: Int32) {
        var symbolIDs: [[UInt8]: Int32] = [:]
        var outputIDs: [Int32] = []
        func symbol(_ bytes: [UInt8]) -> Int32 {
            if let id = symbolIDs[bytes] { return id }
            let id = Int32(outputIDs.count)
            symbolIDs[bytes] = id
            outputIDs.append(vocabulary[bytes] ?? -1)
            return id
        }
        initialSymbols = (0...255).map { symbol(ByteLevelAlphabet.symbol(for: UInt8($0), endOfWord: false)) }
        finalSymbols = (0...255).map { symbol(ByteLevelAlphabet.symbol(for: UInt8($0), endOfWord: true)) }
        var table: [UInt64: UInt64] = [:]
        table.reserveCapacity(mergeLines.count)
        for (rank, parts) in mergeLines.enumerated() where parts.count == 2 {
            let left = symbol(parts[0]), right = symbol(parts[1]), merged = symbol(parts[0] + parts[1])
            table[Self.pairKey(left, right)] = UInt64(rank) << 32 | UInt64(UInt32(merged))
        }
        self.merges = table
        self.outputIDs = outputIDs
        self.unknownID = unknownID
    }

    /// The rank half of a merge entry.
    private static let rankMask: UInt64 = 0xFFFF_FFFF_0000_0000

    @inline(__always)
    private static func pairKey(_ left: Int32, _ right: Int32) -> UInt64 {
        UInt64(UInt32(left)) << 32 | UInt64(UInt32(right))
    }

    /// Appends the ids of one word (its UTF-8 bytes, not empty) to `ids`.
    func encode(word: [UInt8], into ids: inout [Int32]) {
        let key = WordKey(word)
        if let cached = cache.ids(for: key) {
            ids.append(contentsOf: cached)
            return
        }
        let symbols = merge(word: word)
        let encoded = symbols.map { outputIDs[Int($0)] >= 0 ? outputIDs[Int($0)] : unknownID }
        cache.insert(encoded, for: key)
        ids.append(contentsOf: encoded)
    }

    /// The merged symbols of a word.
    func merge(word: [UInt8]) -> [Int32] {
        let symbols = symbols(of: word)
        return symbols.count > Self.heapThreshold ? mergeWithHeap(symbols) : mergeByScanning(symbols)
    }

    /// A word's symbols before merging: one per byte, the last one with "</w>".
    func symbols(of word: [UInt8]) -> [Int32] {
        var symbols = word.map { initialSymbols[Int($0)] }
        symbols[symbols.count - 1] = finalSymbols[Int(word[word.count - 1])]
        return symbols
    }

    /// The reference algorithm: find the best pair, rebuild the word merging all its occurrences.
    func mergeByScanning(_ initial: [Int32]) -> [Int32] {
        var word = initial
        var next = [Int32]()
        next.reserveCapacity(word.count)
        while word.count > 1 {
            var bestRank = UInt64.max, bestIndex = -1, bestMerged: Int32 = 0
            for index in 0..<word.count - 1 {
                if let entry = merges[Self.pairKey(word[index], word[index + 1])], entry >> 32 < bestRank {
                    bestRank = entry >> 32
                    bestIndex = index
                    bestMerged = Int32(truncatingIfNeeded: entry)
                }
            }
            if bestIndex < 0 { break }
            let first = word[bestIndex], second = word[bestIndex + 1]
            next.removeAll(keepingCapacity: true)
            next.append(contentsOf: word[..<bestIndex])
            var index = bestIndex
            while index < word.count {
                if index + 1 < word.count && word[index] == first && word[index + 1] == second {
                    next.append(bestMerged)
                    index += 2
                } else {
                    next.append(word[index])
                    index += 1
                }
            }
            swap(&word, &next)
        }
        return word
    }

    /// The same merges for long words: a linked list of symbols and a min-heap of
    /// (rank, position). All pairs of the lowest rank are merged left to right before the pairs
    /// they create are queued, which is exactly the scanning algorithm's order.
    func mergeWithHeap(_ initial: [Int32]) -> [Int32] {
        var symbols = initial
        let count = symbols.count
        var nextIndex = (0..<count).map { Int32($0 + 1) }
        var previousIndex = (0..<count).map { Int32($0 - 1) }
        var alive = [Bool](repeating: true, count: count)
        nextIndex[count - 1] = -1
        var heap = MinHeap()
        func rankedPair(at position: Int32) -> UInt64? {
            guard position >= 0, nextIndex[Int(position)] >= 0 else { return nil }
            return merges[Self.pairKey(symbols[Int(position)], symbols[Int(nextIndex[Int(position)])])]
        }
        for position in 0..<count - 1 {
            if let entry = rankedPair(at: Int32(position)) { heap.push(entry & Self.rankMask | UInt64(position)) }
        }
        var batch: [Int32] = []
        var merged: [Int32] = []
        while let top = heap.pop() {
            let rank = top >> 32
            batch.removeAll(keepingCapacity: true)
            batch.append(Int32(truncatingIfNeeded: top))
            while let following = heap.peek(), following >> 32 == rank {
                batch.append(Int32(truncatingIfNeeded: heap.pop()!))
            }
            merged.removeAll(keepingCapacity: true)
            for position in batch {
                guard alive[Int(position)], let entry = rankedPair(at: position), entry >> 32 == rank else { continue }
                let right = Int(nextIndex[Int(position)])
                symbols[Int(position)] = Int32(truncatingIfNeeded: entry)
                alive[right] = false
                nextIndex[Int(position)] = nextIndex[right]
                if nextIndex[right] >= 0 { previousIndex[Int(nextIndex[right])] = position }
                merged.append(position)
            }
            for position in merged {
                let previous = previousIndex[Int(position)]
                if let entry = rankedPair(at: previous) { heap.push(entry & Self.rankMask | UInt64(UInt32(previous))) }
                if let entry = rankedPair(at: position) { heap.push(entry & Self.rankMask | UInt64(UInt32(position))) }
            }
        }
        var out: [Int32] = []
        var position: Int32 = 0
        while position >= 0 {
            out.append(symbols[Int(position)])
            position = nextIndex[Int(position)]
        }
        return out
    }

    /// A binary min-heap of UInt64 keys.
    private struct MinHeap {
        private var items: [UInt64] = []

        func peek() -> UInt64? { items.first }

        mutating func push(_ item: UInt64) {
            items.append(item)
            var child = items.count - 1
            while child > 0 {
                let parent = (child - 1) / 2
                if items[parent] <= items[child] { break }
                items.swapAt(parent, child)
                child = parent
            }
        }

        mutating func pop() -> UInt64? {
            guard let first = items.first else { return nil }
            let last = items.removeLast()
            if !items.isEmpty {
                items[0] = last
                var parent = 0
                while true {
                    let left = 2 * parent + 1, right = left + 1
                    var smallest = parent
                    if left < items.count && items[left] < items[smallest] { smallest = left }
                    if right < items.count && items[right] < items[smallest] { smallest = right }
                    if smallest == parent { break }
                    items.swapAt(parent, smallest)
                    parent = smallest
                }
            }
            return first
        }
    }

    /// Word -> ids, shared by concurrent callers. Guarded by an NSLock (a pthread mutex) rather
    /// than `Synchronization.Mutex`, whose futex lock ThreadSanitizer cannot see on Linux (it
    /// reports races on every access).
    private final class WordCache: @unchecked Sendable {
        /// Cached words before the cache is emptied (a bound for servers fed arbitrary text).
        static let limit = 100_000

        private let lock = NSLock()
        private var entries: [WordKey: [Int32]] = [:]

        func ids(for key: WordKey) -> [Int32]? {
            lock.lock()
            defer { lock.unlock() }
            return entries[key]
        }

        func insert(_ ids: [Int32], for key: WordKey) {
            lock.lock()
            defer { lock.unlock() }
            if entries.count >= Self.limit { entries.removeAll(keepingCapacity: true) }
            entries[key] = ids
        }
    }

    /// A word's bytes with a hash computed once (FNV-1a), cheaper to look up than hashing the bytes
    /// through `Hasher` on every probe.
    private struct WordKey: Hashable, Sendable {
        let bytes: [UInt8]
        private let hash: UInt64

        init(_ bytes: [UInt8]) {
            var hash: UInt64 = 0xCBF2_9CE4_8422_2325
            for byte in bytes { hash = (hash ^ UInt64(byte)) &* 0x100_0000_01B3 }
            self.bytes = bytes
            self.hash = hash
        }

        static func == (left: WordKey, right: WordKey) -> Bool {
            left.hash == right.hash && left.bytes == right.bytes
        }

        func hash(into hasher: inout Hasher) {
            hasher.combine(hash)
        }
    }
}
