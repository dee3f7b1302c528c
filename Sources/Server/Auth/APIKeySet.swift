/// The configured API keys, matched in constant time: the time a check takes depends neither on
/// how much of a key was guessed right nor on which key matched.
struct APIKeySet: Sendable {
    private let keys: [[UInt8]]

    init(_ keys: [String]) {
        self.keys = keys.map { Array($0.utf8) }
    }

    var isEmpty: Bool { keys.isEmpty }

    func contains(_ candidate: String) -> Bool {
        let bytes = Array(candidate.utf8)
        var matched: UInt8 = 0
        for key in keys { matched |= Self.equal(key, bytes) }   // no early exit
        return matched == 1
    }

    /// 1 when equal, 0 otherwise, touching every byte of the longer input.
    static func equal(_ a: [UInt8], _ b: [UInt8]) -> UInt8 {
        var difference = UInt64(truncatingIfNeeded: a.count ^ b.count)
        let length = max(a.count, b.count)
        for i in 0..<length {
            let x = i < a.count ? a[i] : 0
            let y = i < b.count ? b[i] : 0
            difference |= UInt64(x ^ y)
        }
        return difference == 0 ? 1 : 0
    }
}
