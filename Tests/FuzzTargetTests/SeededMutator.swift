import Compute

/// libFuzzer-like byte mutations drawn from a seeded generator, so a run is the same every time
/// and a failing input can be rebuilt from its seed: bit flips, interesting bytes, inserted,
/// erased and repeated ranges, and splices with another input of the corpus.
struct SeededMutator {
    private var random: SplitMix64
    private let corpus: [[UInt8]]
    let maximumLength: Int

    init(seed: UInt64, corpus: [[UInt8]], maximumLength: Int) {
        random = SplitMix64(seed: seed)
        self.corpus = corpus
        self.maximumLength = maximumLength
    }

    private mutating func below(_ n: Int) -> Int { n <= 1 ? 0 : Int(random.next() % UInt64(n)) }

    /// One to four mutations of a corpus input chosen at random.
    mutating func next() -> [UInt8] {
        var bytes = corpus[below(corpus.count)]
        for _ in 0...below(4) { mutate(&bytes) }
        if bytes.count > maximumLength { bytes.removeLast(bytes.count - maximumLength) }
        return bytes
    }

    private static let interesting: [UInt8] = [0, 1, 0x7F, 0x80, 0xFF, 0x0A, 0x22, 0x3A, 0x2D, 0x7B]

    private mutating func mutate(_ bytes: inout [UInt8]) {
        let position = below(bytes.count + 1)
        switch below(7) {
        case 0 where !bytes.isEmpty:                                     // flip a bit
            bytes[min(position, bytes.count - 1)] ^= UInt8(1) << UInt8(below(8))
        case 1 where !bytes.isEmpty:                                     // an interesting byte
            bytes[min(position, bytes.count - 1)] = Self.interesting[below(Self.interesting.count)]
        case 2:                                                          // insert random bytes
            bytes.insert(contentsOf: (0..<(1 + below(16))).map { _ in UInt8(truncatingIfNeeded: random.next()) }, at: position)
        case 3 where !bytes.isEmpty:                                     // erase a range
            let start = min(position, bytes.count - 1)
            bytes.removeSubrange(start..<min(bytes.count, start + 1 + below(64)))
        case 4 where !bytes.isEmpty:                                     // repeat a range
            let start = min(position, bytes.count - 1), end = min(bytes.count, start + 1 + below(32))
            bytes.insert(contentsOf: bytes[start..<end], at: below(bytes.count + 1))
        case 5:                                                          // splice another input in
            let other = corpus[below(corpus.count)]
            guard !other.isEmpty else { return }
            let start = below(other.count), end = min(other.count, start + 1 + below(256))
            bytes.insert(contentsOf: other[start..<end], at: position)
        default:                                                         // truncate
            bytes.removeSubrange(min(position, bytes.count)...)
        }
    }
}
