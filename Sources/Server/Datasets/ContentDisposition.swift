/// The parameters of a multipart part's `Content-Disposition: form-data; name="file"; filename="shop.zip"`.
struct ContentDisposition: Equatable {
    var name: String?
    var filename: String?

    /// Parses the header value; quoted values may hold `;` and escaped quotes.
    init(_ value: String) {
        var parameters: [String: String] = [:]
        var key = "", current = "", inQuotes = false, escaped = false, readingValue = false
        func finish() {
            let trimmedKey = key.trimmingCharacters(in: .whitespaces).lowercased()
            if readingValue, !trimmedKey.isEmpty { parameters[trimmedKey] = current }
            key = ""; current = ""; readingValue = false
        }
        for character in value {
            if inQuotes {
                if escaped { current.append(character); escaped = false }
                else if character == "\\" { escaped = true }
                else if character == "\"" { inQuotes = false }
                else { current.append(character) }
            } else if character == ";" {
                finish()
            } else if character == "=" && !readingValue {
                readingValue = true
            } else if character == "\"" && readingValue && current.isEmpty {
                inQuotes = true
            } else if readingValue {
                if !character.isWhitespace { current.append(character) }
            } else {
                key.append(character)
            }
        }
        finish()
        name = parameters["name"]
        filename = parameters["filename"]
    }
}
