import Testing

@testable import CLIP

/// The header JSON reader: accepts what JSON allows, refuses the rest with a byte offset.
@Suite struct SafeTensorsJSONTests {
    func result(_ bytes: [UInt8]) -> Result<SafeTensorsJSON, SafeTensorsJSONError> {
        bytes.withUnsafeBytes { raw in
            Result { () throws(SafeTensorsJSONError) in try SafeTensorsJSON.parse(raw) }
        }
    }

    func parse(_ text: String) throws -> SafeTensorsJSON {
        try result(Array(text.utf8)).get()
    }

    func failure(_ text: String) -> SafeTensorsJSONError? {
        if case .failure(let error) = result(Array(text.utf8)) { return error }
        return nil
    }

    @Test func parsesEveryKindOfValue() throws {
        let value = try parse(#" {"a": [1, -2, 3.5, 1e3, true, false, null, "s", {}, []], "b": {"c": 0}} "#)
        #expect(value == .object([
            "a": .array([.integer(1), .integer(-2), .number(3.5), .number(1000), .bool(true), .bool(false), .null,
                         .string("s"), .object([:]), .array([])]),
            "b": .object(["c": .integer(0)]),
        ]))
    }

    @Test func decodesStringEscapes() throws {
        let value = try parse(#""q\"b\\s\/n\nt\tr\rb\bf\f u\u00e9 pair\ud83d\ude00 raw é""#)
        #expect(value == .string("q\"b\\s/n\nt\tr\rb\u{8}f\u{c} ué pair😀 raw é"))
    }

    @Test func integersBeyondIntBecomeNumbers() throws {
        #expect(try parse("9223372036854775807") == .integer(Int.max))
        #expect(try parse("-9223372036854775808") == .integer(Int.min))
        #expect(try parse("9223372036854775808") == .number(9223372036854775808))
        #expect(try parse("[1,2]").integers == [1, 2])
        #expect(try parse("[1,2.0]").integers == nil)
    }

    @Test func refusesInvalidText() {
        #expect(failure("{\"a\":1,}") == SafeTensorsJSONError(message: "expected a string key", offset: 7))
        #expect(failure("[1 2]") == SafeTensorsJSONError(message: "expected ',' or ']' in array", offset: 3))
        #expect(failure("01") == SafeTensorsJSONError(message: "number with a leading zero", offset: 0))
        #expect(failure("1.") == SafeTensorsJSONError(message: "invalid number: digits expected after '.' (the text ends early)", offset: 2))
        #expect(failure("\"abc") == SafeTensorsJSONError(message: "unterminated string (the text ends early)", offset: 4))
        #expect(failure("\"\\x\"") == SafeTensorsJSONError(message: "invalid escape '\\x'", offset: 2))
        #expect(failure("\"\\ud800\"")?.message == "unpaired surrogate in \\u escape")
        #expect(failure("tru")?.message == "invalid literal, expected 'true' (the text ends early)")
        #expect(failure("{\"k\":1,\"k\":2}") == SafeTensorsJSONError(message: "duplicate key 'k'", offset: 7))
        #expect(failure("{} {}") == SafeTensorsJSONError(message: "unexpected text after the JSON value", offset: 3))
        #expect(failure("") != nil)
        #expect(failure(String(repeating: "[", count: 65) + String(repeating: "]", count: 65))?.message
            == "nested more than 64 levels deep")
        #expect(failure(String(repeating: "[", count: 64) + String(repeating: "]", count: 64)) == nil)
    }

    @Test func refusesInvalidUTF8() {
        let bytes: [UInt8] = [0x22, 0xC3, 0x28, 0x22]  // a lead byte followed by a non-continuation
        #expect(result(bytes) == .failure(SafeTensorsJSONError(message: "string is not valid UTF-8", offset: 0)))
    }
}
