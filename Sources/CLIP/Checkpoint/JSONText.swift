/// JSON text helpers shared by every writer of JSON by hand (safetensors headers, dataset manifests,
/// the command line's JSON lines).
public enum JSONText {
    /// A JSON string literal: quotes, backslashes and control characters escaped (and U+2028/U+2029,
    /// which some JavaScript readers choke on); everything else kept as it is, so text stays readable.
    public static func quoted(_ text: String) -> String {
        var out = "\""
        out.reserveCapacity(text.utf8.count + 2)
        for scalar in text.unicodeScalars {
            switch scalar {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            case "\t": out += "\\t"
            case _ where scalar.value < 0x20 || scalar.value == 0x2028 || scalar.value == 0x2029:
                let hex = String(scalar.value, radix: 16)
                out += "\\u" + String(repeating: "0", count: 4 - hex.count) + hex
            default: out.unicodeScalars.append(scalar)
            }
        }
        return out + "\""
    }
}
