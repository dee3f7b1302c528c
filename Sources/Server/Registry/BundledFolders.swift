import Foundation
import Logging

/// Installs the folders shipped with the server (the embedded demo model and its prompt set) into
/// the registry's folders at start, once: an entry `name=path` becomes `<folder>/<name>` unless
/// something of that name is already there, so a user's own files and edits always win.
/// Models are linked (large, read-only); prompt sets are copied into a hidden folder and renamed
/// into place (atomic), because the API edits their thresholds.
enum BundledFolders {
    enum Mode { case link, copy }

    struct Problem: Error, CustomStringConvertible {
        let description: String
    }

    /// Returns one message per entry that could not be installed (also logged); installs the rest.
    @discardableResult
    static func install(_ entries: [String], into folder: URL, mode: Mode, logger: Logger) -> [String] {
        var problems: [String] = []
        for entry in entries {
            do {
                if let installed = try install(entry, into: folder, mode: mode) {
                    logger.info("installed bundled folder", metadata: ["name": .string(installed.lastPathComponent), "into": .string(folder.path)])
                }
            } catch {
                logger.error("bundled folder not installed", metadata: ["entry": .string(entry), "error": "\(error)"])
                problems.append("\(entry): \(error)")
            }
        }
        return problems
    }

    /// The installed path, or nil when a folder of that name already exists.
    static func install(_ entry: String, into folder: URL, mode: Mode) throws -> URL? {
        guard let equals = entry.firstIndex(of: "=") else {
            throw Problem(description: "expected name=path, got '\(entry)'")
        }
        let name = String(entry[..<equals]).trimmingCharacters(in: .whitespaces)
        let source = URL(fileURLWithPath: String(entry[entry.index(after: equals)...]).trimmingCharacters(in: .whitespaces)).standardizedFileURL
        guard ModelRegistry.isValidName(name) else {
            throw Problem(description: "'\(name)' is not a usable name (letters, digits, '.', '_', '-')")
        }
        let fm = FileManager.default
        var isDirectory: ObjCBool = false
        guard fm.fileExists(atPath: source.path, isDirectory: &isDirectory), isDirectory.boolValue else {
            throw Problem(description: "no folder at \(source.path)")
        }
        let target = folder.appendingPathComponent(name, isDirectory: true)
        // A dangling link counts as present too: the user removed what it pointed to on purpose.
        if fm.fileExists(atPath: target.path) || (try? fm.destinationOfSymbolicLink(atPath: target.path)) != nil { return nil }
        try fm.createDirectory(at: folder, withIntermediateDirectories: true)
        removeLeftovers(of: name, in: folder)
        let staging = folder.appendingPathComponent(".\(name).bundled-\(UUID().uuidString)", isDirectory: true)
        do {
            switch mode {
            case .link: try fm.createSymbolicLink(at: staging, withDestinationURL: source)
            case .copy: try copyContents(of: source, to: staging)
            }
        } catch {
            try? fm.removeItem(at: staging)
            throw error
        }
        // rename(2) is atomic and, unlike moveItem, never merges into a folder that appeared meanwhile.
        guard rename(staging.path, target.path) == 0 else {
            let reason = String(cString: strerror(errno))
            try? fm.removeItem(at: staging)
            if fm.fileExists(atPath: target.path) { return nil }
            throw Problem(description: "cannot rename into \(target.path): \(reason)")
        }
        return target
    }

    /// Copies files' bytes only, as the server's own user: `FileManager.copyItem` also copies owner
    /// and group (`fchown`), which fails for a non-root server installing from a root-owned image.
    static func copyContents(of source: URL, to target: URL) throws {
        let fm = FileManager.default
        try fm.createDirectory(at: target, withIntermediateDirectories: false)
        for name in try fm.contentsOfDirectory(atPath: source.path) {
            let from = source.appendingPathComponent(name)
            let to = target.appendingPathComponent(name)
            var isDirectory: ObjCBool = false
            guard fm.fileExists(atPath: from.path, isDirectory: &isDirectory) else { continue }   // a dangling link
            if isDirectory.boolValue {
                try copyContents(of: from, to: to)
            } else {
                guard fm.createFile(atPath: to.path, contents: try Data(contentsOf: from)) else {
                    throw Problem(description: "cannot write \(name) into the prompt sets folder")
                }
            }
        }
    }

    /// Staging folders that an interrupted earlier start left behind.
    static func removeLeftovers(of name: String, in folder: URL) {
        let prefix = ".\(name).bundled-"
        for entry in (try? FileManager.default.contentsOfDirectory(atPath: folder.path)) ?? [] where entry.hasPrefix(prefix) {
            try? FileManager.default.removeItem(at: folder.appendingPathComponent(entry))
        }
    }
}
