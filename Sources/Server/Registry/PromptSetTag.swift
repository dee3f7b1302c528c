import Foundation

/// The strong `ETag` of a prompt set: the SHA-256 of its manifest's bytes (thresholds live there;
/// the tensors never change under one id), the same on every replica that holds the same bytes.
enum PromptSetTag {
    static func etag(manifestSHA256: String) -> String { "\"\(manifestSHA256)\"" }

    /// Whether an `If-Match` header (RFC 9110: `*`, or a list of entity tags compared strongly, so a
    /// weak `W/` tag never matches) admits the version whose manifest has SHA-256 `current`.
    static func matches(ifMatch header: String, current: String) -> Bool {
        header.split(separator: ",").contains { part in
            let tag = part.trimmingCharacters(in: .whitespaces)
            return tag == "*" || tag == etag(manifestSHA256: current)
        }
    }
}
