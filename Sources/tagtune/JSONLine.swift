import CLIP
import Foundation

/// Writes one JSON object per line with floats in their shortest round-trip form
/// (Foundation would print Float through Double: 0.1 as 0.10000000149011612).
struct JSONLine {
    private var parts: [String] = []

    mutating func add(_ key: String, _ value: String) { parts.append("\(quote(key)):\(quote(value))") }
    mutating func add(_ key: String, _ value: Int) { parts.append("\(quote(key)):\(value)") }
    mutating func add(_ key: String, _ value: Float) { parts.append("\(quote(key)):\(number(value))") }
    mutating func add(_ key: String, floats: some Sequence<Float>) {
        parts.append("\(quote(key)):[\(floats.map(number).joined(separator: ","))]")
    }
    mutating func add(_ key: String, ints: some Sequence<Int32>) {
        parts.append("\(quote(key)):[\(ints.map { String($0) }.joined(separator: ","))]")
    }
    mutating func add(_ key: String, raw json: String) { parts.append("\(quote(key)):\(json)") }

    var text: String { "{" + parts.joined(separator: ",") + "}" }

    private func number(_ value: Float) -> String { value.isFinite ? "\(value)" : "null" }
}

/// A JSON string literal.
func quote(_ string: String) -> String { JSONText.quoted(string) }
