/// Checks and normalises a path that must stay inside a dataset's root: `/`-separated,
/// relative, with no `..` (so neither a manifest line nor a zip entry can reach outside).
enum DatasetRelativePath {
    /// The normalised path (`.` and empty components dropped), or why the path is refused.
    static func normalise(_ raw: String) -> Result<String, DatasetPathError> {
        if raw.isEmpty { return .failure(.empty) }
        if raw.utf8.contains(0) { return .failure(.controlCharacter) }
        if raw.contains("\\") { return .failure(.backslash) }
        if raw.hasPrefix("/") { return .failure(.absolute) }
        if isDriveLetterPath(raw) { return .failure(.absolute) }
        var components: [Substring] = []
        for component in raw.split(separator: "/", omittingEmptySubsequences: true) {
            if component == "." { continue }
            if component == ".." { return .failure(.escapesRoot) }
            components.append(component)
        }
        if components.isEmpty { return .failure(.empty) }
        return .success(components.joined(separator: "/"))
    }

    /// `C:` and the like, absolute on Windows even without a slash.
    private static func isDriveLetterPath(_ raw: String) -> Bool {
        let scalars = Array(raw.unicodeScalars.prefix(2))
        return scalars.count == 2 && scalars[1] == ":" && scalars[0].properties.isAlphabetic
            && scalars[0].isASCII
    }
}

/// Why a dataset-relative path was refused.
enum DatasetPathError: Error, Sendable, Equatable, CustomStringConvertible {
    case empty
    case controlCharacter
    case backslash
    case absolute
    case escapesRoot

    var description: String {
        switch self {
        case .empty: return "path is empty"
        case .controlCharacter: return "path contains a NUL character"
        case .backslash: return "path contains a backslash; separate folders with /"
        case .absolute: return "path is absolute; give it relative to the dataset root"
        case .escapesRoot: return "path escapes the dataset root with '..'"
        }
    }
}
