import Foundation

/// Public identifiers: a prefix naming the kind (`ds-`, `ftjob-`, `ftevent-`) and 24 random
/// letters and digits, safe as folder names and unguessable enough that ids are not a cursor leak.
enum ResourceID {
    private static let alphabet = Array("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789")

    static func make(_ prefix: String) -> String {
        var generator = SystemRandomNumberGenerator()
        return prefix + String((0..<24).map { _ in alphabet.randomElement(using: &generator)! })
    }

    /// Whether `text` could be an id of ours: path segments are checked before they reach a query or a path.
    static func isWellFormed(_ text: String, prefix: String) -> Bool {
        text.hasPrefix(prefix) && text.count <= prefix.count + 64
            && text.dropFirst(prefix.count).allSatisfy { $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "-" || $0 == "_") }
    }
}

/// Unix time in whole seconds, as the API reports `created_at` and friends.
func unixNow() -> Int64 {
    Int64(Date().timeIntervalSince1970)
}
