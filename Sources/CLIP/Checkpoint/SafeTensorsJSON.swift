/// A JSON value as read from a safetensors header or index file.
///
/// A small strict parser of its own rather than Foundation's decoders: those report only
/// "not valid JSON" for a fractional shape and silently keep one of two duplicate keys,
/// while a checkpoint reader should say what is wrong and where.
enum SafeTensorsJSON: Equatable, Sendable {
    case object([String: SafeTensorsJSON])
    case array([SafeTensorsJSON])
    case string(String)
    /// A number written without fraction or exponent that fits in Int.
    case integer(Int)
    /// Any other number.
    case number(Double)
    case bool(Bool)
    case null

    /// Parses one JSON document; only whitespace may follow it. Errors give the byte offset.
    static func parse(_ bytes: UnsafeRawBufferPointer) throws(SafeTensorsJSONError) -> SafeTensorsJSON {
        var parser = Parser(bytes: bytes)
        parser.skipWhitespace()
        let value = try parser.value(depth: 0)
        parser.skipWhitespace()
        guard parser.position == bytes.count else { throw parser.error("unexpected text after the JSON value") }
        return value
    }

    /// The value's elements if it is an array of integers.
    var integers: [Int]? {
        guard case .array(let elements) = self else { return nil }
        var result: [Int] = []
        result.reserveCapacity(elements.count)
        for element in elements {
            guard case .integer(let value) = element else { return nil }
            result.append(value)
        }
        return result
    }

    /// Scalars as text (numbers in decimal), nil for arrays and objects.
    var scalarText: String? {
        switch self {
        case .string(let text): return text
        case .integer(let value): return String(value)
        case .number(let value): return String(value)
        case .bool(let value): return String(value)
        case .null: return ""
        case .object, .array: return nil
        }
    }

    /// A single-pass recursive-descent reader over UTF-8 bytes.
    private struct Parser {
        static let maximumDepth = 64
        let bytes: UnsafeRawBufferPointer
        var position = 0

        init(bytes: UnsafeRawBufferPointer) { self.bytes = bytes }

        func error(_ message: String) -> SafeTensorsJSONError {
            let ending = position >= bytes.count ? " (the text ends early)" : ""
            return SafeTensorsJSONError(message: message + ending, offset: position)
        }

        var current: UInt8? { position < bytes.count ? bytes[position] : nil }

        mutating func skipWhitespace() {
            while let byte = current, byte == 0x20 || byte == 0x0A || byte == 0x0D || byte == 0x09 { position += 1 }
        }

        mutating func expect(_ literal: String, _ value: SafeTensorsJSON) throws(SafeTensorsJSONError) -> SafeTensorsJSON {
            for byte in literal.utf8 {
                guard current == byte else { throw error("invalid literal, expected '\(literal)'") }
                position += 1
            }
            return value
        }

        mutating func value(depth: Int) throws(SafeTensorsJSONError) -> SafeTensorsJSON {
            guard depth < Self.maximumDepth else { throw error("nested more than \(Self.maximumDepth) levels deep") }
            guard let byte = current else { throw error("unexpected end of JSON") }
            switch byte {
            case UInt8(ascii: "{"): return try object(depth: depth)
            case UInt8(ascii: "["): return try array(depth: depth)
            case UInt8(ascii: "\""): return .string(try string())
            case UInt8(ascii: "t"): return try expect("true", .bool(true))
            case UInt8(ascii: "f"): return try expect("false", .bool(false))
            case UInt8(ascii: "n"): return try expect("null", .null)
            case UInt8(ascii: "-"), UInt8(ascii: "0")...UInt8(ascii: "9"): return try number()
            default: throw error("unexpected character '\(UnicodeScalar(byte))'")
            }
        }

        mutating func object(depth: Int) throws(SafeTensorsJSONError) -> SafeTensorsJSON {
            position += 1  // {
            var members: [String: SafeTensorsJSON] = [:]
            skipWhitespace()
            if current == UInt8(ascii: "}") { position += 1; return .object(members) }
            while true {
                skipWhitespace()
                guard current == UInt8(ascii: "\"") else { throw error("expected a string key") }
                let keyStart = position
                let key = try string()
                skipWhitespace()
                guard current == UInt8(ascii: ":") else { throw error("expected ':' after key '\(key)'") }
                position += 1
                skipWhitespace()
                let member = try value(depth: depth + 1)
                guard members.updateValue(member, forKey: key) == nil else {
                    throw SafeTensorsJSONError(message: "duplicate key '\(key)'", offset: keyStart)
                }
                skipWhitespace()
                switch current {
                case UInt8(ascii: ","): position += 1
                case UInt8(ascii: "}"): position += 1; return .object(members)
                default: throw error("expected ',' or '}' in object")
                }
            }
        }

        mutating func array(depth: Int) throws(SafeTensorsJSONError) -> SafeTensorsJSON {
            position += 1  // [
            var elements: [SafeTensorsJSON] = []
            skipWhitespace()
            if current == UInt8(ascii: "]") { position += 1; return .array(elements) }
            while true {
                skipWhitespace()
                elements.append(try value(depth: depth + 1))
                skipWhitespace()
                switch current {
                case UInt8(ascii: ","): position += 1
                case UInt8(ascii: "]"): position += 1; return .array(elements)
                default: throw error("expected ',' or ']' in array")
                }
            }
        }

        mutating func string() throws(SafeTensorsJSONError) -> String {
            let start = position
            position += 1  // opening quote
            var utf8: [UInt8] = []
            while true {
                guard let byte = current else { throw error("unterminated string") }
                position += 1
                switch byte {
                case UInt8(ascii: "\""):
                    guard let text = String(validating: utf8, as: UTF8.self) else {
                        throw SafeTensorsJSONError(message: "string is not valid UTF-8", offset: start)
                    }
                    return text
                case UInt8(ascii: "\\"):
                    try escape(into: &utf8)
                case 0..<0x20:
                    position -= 1
                    throw error("control character in string")
                default:
                    utf8.append(byte)
                }
            }
        }

        mutating func escape(into utf8: inout [UInt8]) throws(SafeTensorsJSONError) {
            guard let byte = current else { throw error("unterminated string") }
            position += 1
            switch byte {
            case UInt8(ascii: "\""), UInt8(ascii: "\\"), UInt8(ascii: "/"): utf8.append(byte)
            case UInt8(ascii: "b"): utf8.append(0x08)
            case UInt8(ascii: "f"): utf8.append(0x0C)
            case UInt8(ascii: "n"): utf8.append(0x0A)
            case UInt8(ascii: "r"): utf8.append(0x0D)
            case UInt8(ascii: "t"): utf8.append(0x09)
            case UInt8(ascii: "u"):
                var scalar = try hex4()
                if (0xD800..<0xDC00).contains(scalar) {
                    // A high surrogate must be followed by an escaped low surrogate.
                    guard current == UInt8(ascii: "\\"), position + 1 < bytes.count, bytes[position + 1] == UInt8(ascii: "u")
                    else { throw error("unpaired surrogate in \\u escape") }
                    position += 2
                    let low = try hex4()
                    guard (0xDC00..<0xE000).contains(low) else { throw error("unpaired surrogate in \\u escape") }
                    scalar = 0x10000 + ((scalar - 0xD800) << 10) + (low - 0xDC00)
                }
                guard let unicode = Unicode.Scalar(scalar) else { throw error("unpaired surrogate in \\u escape") }
                utf8.append(contentsOf: String(Character(unicode)).utf8)
            default:
                position -= 1
                throw error("invalid escape '\\\(UnicodeScalar(byte))'")
            }
        }

        mutating func hex4() throws(SafeTensorsJSONError) -> UInt32 {
            var value: UInt32 = 0
            for _ in 0..<4 {
                guard let byte = current, let digit = Self.hexValue(byte) else { throw error("invalid \\u escape") }
                value = value << 4 | digit
                position += 1
            }
            return value
        }

        static func hexValue(_ byte: UInt8) -> UInt32? {
            switch byte {
            case UInt8(ascii: "0")...UInt8(ascii: "9"): return UInt32(byte - UInt8(ascii: "0"))
            case UInt8(ascii: "a")...UInt8(ascii: "f"): return UInt32(byte - UInt8(ascii: "a") + 10)
            case UInt8(ascii: "A")...UInt8(ascii: "F"): return UInt32(byte - UInt8(ascii: "A") + 10)
            default: return nil
            }
        }

        mutating func number() throws(SafeTensorsJSONError) -> SafeTensorsJSON {
            let start = position
            func digits(_ parser: inout Parser) -> Int {
                let from = parser.position
                while let byte = parser.current, (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(byte) { parser.position += 1 }
                return parser.position - from
            }
            if current == UInt8(ascii: "-") { position += 1 }
            let integerStart = position
            let integerDigits = digits(&self)
            guard integerDigits > 0 else { throw error("invalid number") }
            guard integerDigits == 1 || bytes[integerStart] != UInt8(ascii: "0") else {
                throw SafeTensorsJSONError(message: "number with a leading zero", offset: start)
            }
            var isInteger = true
            if current == UInt8(ascii: ".") {
                position += 1
                isInteger = false
                guard digits(&self) > 0 else { throw error("invalid number: digits expected after '.'") }
            }
            if current == UInt8(ascii: "e") || current == UInt8(ascii: "E") {
                position += 1
                isInteger = false
                if current == UInt8(ascii: "+") || current == UInt8(ascii: "-") { position += 1 }
                guard digits(&self) > 0 else { throw error("invalid number: digits expected in exponent") }
            }
            let text = String(decoding: UnsafeRawBufferPointer(rebasing: bytes[start..<position]), as: UTF8.self)
            if isInteger, let value = Int(text) { return .integer(value) }
            return .number(Double(text) ?? .nan)
        }
    }
}

/// A JSON syntax error at a byte offset of the parsed text.
struct SafeTensorsJSONError: Error, Equatable, Sendable {
    let message: String
    let offset: Int
}
