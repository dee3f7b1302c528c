import Foundation
import Testing
@testable import CLIP

/// The clean-up steps against ftfy and open_clip on a mojibake corpus and the token cases.
@Suite struct TokenizerCleaningTests {
    @Test func fixTextMatchesFtfy() throws {
        let cases = try TokenizerFixtures.lines("cleaning.jsonl", as: TokenizerFixtures.CleaningCase.self)
        #expect(cases.count >= 1000)
        var mismatches: [String] = []
        for testCase in cases {
            let fixed = TextFixer.fixText(Array(testCase.text.unicodeScalars))
            if !fixed.elementsEqual(testCase.fixed.unicodeScalars) {
                mismatches.append("\(TokenizerFixtures.describe(testCase.text)) -> \(TokenizerFixtures.describe(Self.string(fixed))), ftfy \(TokenizerFixtures.describe(testCase.fixed))")
            }
        }
        #expect(mismatches.isEmpty, "\(mismatches.count) of \(cases.count) differ:\n\(mismatches.prefix(20).joined(separator: "\n"))")
    }

    @Test func cleanUpMatchesOpenCLIP() throws {
        let cases = try TokenizerFixtures.lines("cleaning.jsonl", as: TokenizerFixtures.CleaningCase.self)
        var mismatches: [String] = []
        for testCase in cases {
            let cleaned = TextCleaner.clean(testCase.text)
            if !cleaned.elementsEqual(testCase.cleaned.unicodeScalars) {
                mismatches.append("\(TokenizerFixtures.describe(testCase.text)) -> \(TokenizerFixtures.describe(Self.string(cleaned))), open_clip \(TokenizerFixtures.describe(testCase.cleaned))")
            }
        }
        #expect(mismatches.isEmpty, "\(mismatches.count) of \(cases.count) differ:\n\(mismatches.prefix(20).joined(separator: "\n"))")
    }

    @Test func badnessMatchesFtfy() throws {
        let cases = try TokenizerFixtures.lines("badness.jsonl", as: TokenizerFixtures.BadnessCase.self)
        #expect(cases.contains { $0.bad } && cases.contains { !$0.bad })
        for testCase in cases {
            #expect(MojibakeBadness.isBad(Array(testCase.text.unicodeScalars)) == testCase.bad,
                    "\(TokenizerFixtures.describe(testCase.text))")
        }
    }

    @Test(arguments: [
        ("cafÃ©", "café"), ("doesnâ€™t", "doesn't"), ("ＦＵＬＬ", "FULL"), ("ｶﾀｶﾅ", "カタカナ"), ("，！", ",!"),
        ("ﬁ", "fi"), ("“x”", "\"x\""), ("a\r\nb\rc", "a\nb\nc"), ("\u{1B}[31mred\u{1B}[0m", "red"),
        ("e\u{301}", "é"), ("&amp; &eacute;", "& é"), ("<b>&amp;</b>", "<b>&amp;</b>"), ("x\u{0}\u{7F}y", "xy"),
    ])
    func fixTextExamples(input: String, expected: String) {
        #expect(Self.string(TextFixer.fixText(Array(input.unicodeScalars))) == expected)
    }

    @Test func pythonLowerUsesFinalSigma() {
        let lowered = PythonUnicode.shared.lowercased(Array("ΟΔΟΣ ΣΑ Σ İ".unicodeScalars))
        #expect(lowered.elementsEqual("οδος σα σ i\u{307}".unicodeScalars))
    }

    @Test func htmlUnescapeFollowsPython() {
        let html = HTMLUnescaper.shared
        func unescape(_ text: String) -> String { Self.string(html.unescape(Array(text.unicodeScalars))) }
        #expect(unescape("&amp;amp; &lt &notit; &#x41;&#66; &#128; &#0; &#xD800; &#1;x &ampx") == "&amp; < ¬it; AB € \u{FFFD} \u{FFFD} x &x")
        #expect(unescape("&\u{212A}cy; &#; &#x;") == "&\u{212A}cy; &#; &#x;")
    }

    static func string(_ scalars: [Unicode.Scalar]) -> String {
        var view = String.UnicodeScalarView()
        view.append(contentsOf: scalars)
        return String(view)
    }
}
