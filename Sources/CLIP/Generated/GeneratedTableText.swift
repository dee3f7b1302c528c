/// Parsers for the text form of the generated tables (hex numbers, space-separated entries).
enum GeneratedTableText {
    /// Space-separated entries of a generated table; line breaks count as spaces.
    static func entries(_ text: String) -> [Substring] {
        text.split(whereSeparator: { $0 == " " || $0 == "\n" })
    }

    /// "A-B C" -> [A...B, C...C].
    static func ranges(_ text: String) -> [ClosedRange<UInt32>] {
        entries(text).map { entry in
            if let dash = entry.firstIndex(of: "-") {
                return hex(entry[..<dash])...hex(entry[entry.index(after: dash)...])
            }
            let value = hex(entry)
            return value...value
        }
    }

    /// "K<separator>V1,V2" -> (K, [V1, V2]) with scalar values.
    static func mappings(_ text: String, separator: Character) -> [(key: Substring, scalars: [Unicode.Scalar])] {
        entries(text).map { entry in
            let split = entry.firstIndex(of: separator)!
            let values = entry[entry.index(after: split)...].split(separator: ",")
            return (entry[..<split], values.map { Unicode.Scalar(hex($0))! })
        }
    }

    /// "K=V" with both sides hex numbers.
    static func numberPairs<V: FixedWidthInteger>(_ text: String, as: V.Type) -> [(UInt32, V)] {
        entries(text).map { entry in
            let split = entry.firstIndex(of: "=")!
            return (hex(entry[..<split]), V(entry[entry.index(after: split)...], radix: 16)!)
        }
    }

    static func hex(_ text: Substring) -> UInt32 {
        UInt32(text, radix: 16)!
    }
}
