/// The clean-up open_clip's `SimpleTokenizer` applies before splitting (its "lower" clean
/// function): `ftfy.fix_text`, `html.unescape` twice, whitespace collapsed to single spaces
/// (Python's `str.split()`), then Python's `str.lower()`.
enum TextCleaner {
    static func clean(_ text: String) -> [Unicode.Scalar] {
        let unicode = PythonUnicode.shared
        let html = HTMLUnescaper.shared
        var scalars = Array(text.unicodeScalars)
        scalars = TextFixer.fixText(scalars)
        scalars = html.unescape(html.unescape(scalars))
        scalars = unicode.collapsingWhitespace(scalars)
        return unicode.lowercased(scalars)
    }
}
