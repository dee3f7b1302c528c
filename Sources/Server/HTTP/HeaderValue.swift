/// A header value of the form `token; name=value; name="quoted value"` (Content-Type,
/// Content-Disposition), split by the rules of RFC 9110: `;` inside quotes belongs to the value,
/// `\` escapes inside quotes, parameter names are case-insensitive.
package struct HeaderValue: Equatable {
    /// The leading token, lowercased (`multipart/form-data`, `form-data`).
    let value: String
    /// Parameters by lowercased name.
    let parameters: [String: String]

    package init(parsing text: String) {
        var parts: [String] = []
        var current = ""
        var inQuotes = false, escaped = false
        for character in text {
            if escaped { current.append(character); escaped = false; continue }
            if inQuotes && character == "\\" { current.append(character); escaped = true; continue }
            if character == "\"" { inQuotes.toggle() }
            if character == ";" && !inQuotes { parts.append(current); current = ""; continue }
            current.append(character)
        }
        parts.append(current)
        value = parts[0].trimmingWhitespace().lowercased()
        var parameters: [String: String] = [:]
        for part in parts.dropFirst() {
            guard let equals = part.firstIndex(of: "=") else { continue }
            let name = part[..<equals].trimmingWhitespace().lowercased()
            var raw = Substring(part[part.index(after: equals)...].trimmingWhitespace())
            if raw.count >= 2, raw.first == "\"", raw.last == "\"" {
                raw = raw.dropFirst().dropLast()
                var unquoted = "", escape = false
                for character in raw {
                    if !escape && character == "\\" { escape = true; continue }
                    unquoted.append(character)
                    escape = false
                }
                raw = Substring(unquoted)
            }
            if !name.isEmpty && parameters[name] == nil { parameters[name] = String(raw) }
        }
        self.parameters = parameters
    }
}

extension StringProtocol {
    func trimmingWhitespace() -> String {
        String(drop { $0 == " " || $0 == "\t" }.reversed().drop { $0 == " " || $0 == "\t" }.reversed())
    }
}
