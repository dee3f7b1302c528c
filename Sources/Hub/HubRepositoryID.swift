/// A model repository on the hub, `org/name` as the hub spells it, and the folder it is saved in.
public struct HubRepositoryID: Sendable, Hashable, CustomStringConvertible {
    public let organization: String?
    public let name: String

    /// Parses `org/name` (or a bare `name`) with the hub's own rules: letters, digits, `-`, `_`, `.`,
    /// at most 96 characters per part, no `--` or `..` (the hub reserves them), nothing that could
    /// leave the models folder as a path.
    public init(_ text: String) throws {
        let parts = text.split(separator: "/", omittingEmptySubsequences: false).map(String.init)
        guard (1...2).contains(parts.count) else {
            throw HubError.invalidRepository(text, reason: "expected ORG/NAME")
        }
        for part in parts {
            guard !part.isEmpty, part.count <= 96,
                  part.unicodeScalars.allSatisfy({ Self.allowed($0) }),
                  !part.contains("--"), !part.contains(".."),
                  part.first != "." && part.first != "-", part.last != "." && part.last != "-"
            else {
                throw HubError.invalidRepository(
                    text, reason: "each part is 1 to 96 letters, digits, '-', '_' or '.', without '--' or '..'")
            }
        }
        organization = parts.count == 2 ? parts[0] : nil
        name = parts[parts.count - 1]
    }

    private static func allowed(_ scalar: Unicode.Scalar) -> Bool {
        scalar.isASCII && (scalar.properties.isAlphabetic || ("0"..."9").contains(scalar) || "-_.".unicodeScalars.contains(scalar))
    }

    public var description: String { organization.map { "\($0)/\(name)" } ?? name }

    /// The models-folder name: `org--name`, the hub's own repo-folder convention (`--` cannot occur in a part).
    public var folderName: String { organization.map { "\($0)--\(name)" } ?? name }
}
