import Foundation
import Logging

/// Log handlers for the two formats of `log.format`: swift-log's text lines, or one JSON
/// object per line (timestamp, level, label, message and every metadata field, request_id included),
/// which log collectors parse without rules.
public enum LogFormat {
    /// Bootstraps the process-wide logging system once, in `main`.
    public static func bootstrap(format: String, level: Logger.Level) {
        LoggingSystem.bootstrap { label in
            var handler: any LogHandler = format == "json"
                ? JSONLogHandler(label: label)
                : StreamLogHandler.standardError(label: label)
            handler.logLevel = level
            return handler
        }
    }
}

/// Writes one JSON object per log record to standard error.
public struct JSONLogHandler: LogHandler {
    public var metadata: Logger.Metadata = [:]
    public var logLevel: Logger.Level = .info
    let label: String
    private static let lock = NSLock()

    public init(label: String) { self.label = label }

    public subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    public func log(event: LogEvent) {
        var record: [String: Any] = ["level": event.level.rawValue, "label": label, "message": event.message.description]
        if let error = event.error { record["error"] = "\(error)" }
        let merged = metadata.merging(event.metadata ?? [:]) { _, new in new }
        for (key, value) in merged { record[key] = Self.plain(value) }
        // The formatter and standard error are shared: one record at a time.
        Self.lock.lock()
        defer { Self.lock.unlock() }
        record["timestamp"] = ISO8601DateFormatter.logTimestamp.string(from: Date())
        guard let data = try? JSONSerialization.data(withJSONObject: record, options: [.sortedKeys]) else { return }
        FileHandle.standardError.write(data + [0x0A])
    }

    static func plain(_ value: Logger.Metadata.Value) -> Any {
        switch value {
        case .string(let s): return s
        case .stringConvertible(let c): return c.description
        case .array(let items): return items.map(plain)
        case .dictionary(let map): return map.mapValues(plain)
        }
    }
}

extension ISO8601DateFormatter {
    nonisolated(unsafe) static let logTimestamp: ISO8601DateFormatter = {
        let formatter = ISO8601DateFormatter()
        formatter.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        return formatter
    }()
}
