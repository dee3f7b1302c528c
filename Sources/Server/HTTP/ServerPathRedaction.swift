import Foundation
import NIOConcurrencyHelpers

/// Keeps the server's file system out of what clients read: error messages are built from
/// underlying errors (Foundation's "Error Domain=NSCocoaErrorDomain Code=… UserInfo={NSFilePath=…}",
/// paths of staging files), so every message is cleaned here before it leaves. The server's own
/// folders become their configuration key (`data_dir/…` style names stay readable), and
/// Foundation's error dumps become their plain sentence.
public enum ServerPathRedaction {
    /// Absolute folder → the name shown instead (longest first, so nested folders win).
    private static let folders = NIOLockedValueBox<[(path: String, name: String)]>([])

    /// Registers the server's folders; relative ones are made absolute from the working directory.
    public static func register(_ path: String, as name: String) {
        let absolute = URL(fileURLWithPath: path).standardizedFileURL.path
        guard absolute.count > 1 else { return }
        folders.withLockedValue { list in
            guard !list.contains(where: { $0.path == absolute }) else { return }
            list.append((absolute, name))
            list.sort { $0.path.count > $1.path.count }
        }
    }

    /// Foundation's `Error Domain=D Code=N "sentence" UserInfo={…}`: the sentence alone.
    private static let cocoaError = try! NSRegularExpression(
        pattern: #"Error Domain=\S+ Code=-?\d+ "((?:[^"\\]|\\.)*)"(?: UserInfo=\{.*\})?"#, options: [.dotMatchesLineSeparators])

    public static func clean(_ message: String) -> String {
        var text = message
        let whole = NSRange(text.startIndex..., in: text)
        text = cocoaError.stringByReplacingMatches(in: text, range: whole, withTemplate: "$1")
        text = text.replacingOccurrences(of: "file://", with: "")
        for (path, name) in folders.withLockedValue({ $0 }) {
            text = text.replacingOccurrences(of: path, with: name)
        }
        let temporary = URL(fileURLWithPath: NSTemporaryDirectory()).standardizedFileURL.path
        if temporary.count > 1 { text = text.replacingOccurrences(of: temporary, with: "(temporary folder)") }
        return text
    }
}
