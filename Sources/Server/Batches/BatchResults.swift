import CLIP
import Foundation

/// One image's line of a batch's results: its labels, or why it could not be tagged (a broken
/// image fails its own line, never the batch).
struct BatchResultRow: Codable, Sendable, Equatable {
    struct Failure: Codable, Sendable, Equatable, Error {
        let code: String
        let message: String
    }

    struct Label: Codable, Sendable, Equatable {
        let label: String
        let score: Float
        let threshold: Float
        let present: Bool
    }

    let index: Int
    let image: String
    var width: Int?
    var height: Int?
    var labels: [Label]?
    var error: Failure?
}

/// A batch's results on disk, written so that a crash or a restart loses nothing finished and tags
/// nothing twice: rows are appended in input order to `results.partial.jsonl` and flushed to disk
/// before the job's progress says so; a restart keeps the complete lines (cutting a torn last one)
/// and goes on from the next image. At the end `results.jsonl` and `results.csv` are each written
/// whole and renamed into place, so a download never sees half a file.
struct BatchResultsFile {
    let folder: URL
    var partial: URL { folder.appendingPathComponent("results.partial.jsonl") }
    static func jsonl(in folder: URL) -> URL { folder.appendingPathComponent("results.jsonl") }
    static func csv(in folder: URL) -> URL { folder.appendingPathComponent("results.csv") }

    /// Rows already written (complete lines), after cutting a torn last line away. Read in chunks:
    /// a batch of 100,000 images scored on 1,000 classes writes gigabytes of rows.
    func resume() throws -> Int {
        let files = FileManager.default
        guard files.fileExists(atPath: partial.path) else {
            try files.createDirectory(at: folder, withIntermediateDirectories: true)
            files.createFile(atPath: partial.path, contents: nil)
            return 0
        }
        let handle = try FileHandle(forUpdating: partial)
        defer { try? handle.close() }
        var lines = 0, size: UInt64 = 0, complete: UInt64 = 0
        while let chunk = try handle.read(upToCount: Self.chunkBytes), !chunk.isEmpty {
            chunk.withUnsafeBytes { bytes in
                for (offset, byte) in bytes.enumerated() where byte == UInt8(ascii: "\n") {
                    lines += 1
                    complete = size + UInt64(offset) + 1
                }
            }
            size += UInt64(chunk.count)
        }
        if complete < size {
            try handle.truncate(atOffset: complete)
            try handle.synchronize()
        }
        return lines
    }

    static let chunkBytes = 1 << 20

    /// Appends rows and flushes them to disk.
    func append(_ rows: [BatchResultRow]) throws {
        var bytes = Data()
        let encoder = JSONEncoder.sortedKeys
        for row in rows {
            bytes.append(try encoder.encode(row))
            bytes.append(UInt8(ascii: "\n"))
        }
        let handle = try FileHandle(forWritingTo: partial)
        defer { try? handle.close() }
        try handle.seekToEnd()
        try handle.write(contentsOf: bytes)
        try handle.synchronize()
    }

    /// Writes `results.csv` from the rows and renames both files into place; returns the counts
    /// (rows, rows with an error). Rows are read and the CSV written a chunk at a time.
    func finish(classNames: [String]) throws -> (rows: Int, failed: Int) {
        let decoder = JSONDecoder()
        let temporary = folder.appendingPathComponent(".results.csv.tmp")
        FileManager.default.createFile(atPath: temporary.path, contents: nil)
        let output = try FileHandle(forWritingTo: temporary)
        defer { try? output.close() }
        var csv = (["index", "image", "width", "height", "labels", "error"] + classNames).map(Self.csvField).joined(separator: ",") + "\r\n"
        var rows = 0, failed = 0
        try Self.forEachLine(of: partial) { line in
            let row = try decoder.decode(BatchResultRow.self, from: line)
            rows += 1
            if row.error != nil { failed += 1 }
            let scores = Dictionary((row.labels ?? []).map { ($0.label, $0.score) }, uniquingKeysWith: { a, _ in a })
            let present = (row.labels ?? []).filter(\.present).map(\.label).joined(separator: ";")
            var fields = [String(row.index), row.image, row.width.map(String.init) ?? "", row.height.map(String.init) ?? "", present,
                          row.error.map { "\($0.code): \($0.message)" } ?? ""]
            fields += classNames.map { name in scores[name].map { String(format: "%.6f", $0) } ?? "" }
            csv += fields.map(Self.csvField).joined(separator: ",") + "\r\n"
            if csv.utf8.count >= Self.chunkBytes {
                try output.write(contentsOf: Data(csv.utf8))
                csv.removeAll(keepingCapacity: true)
            }
        }
        try output.write(contentsOf: Data(csv.utf8))
        try output.synchronize()
        try Self.replace(Self.csv(in: folder), with: temporary)
        try Self.replace(Self.jsonl(in: folder), with: partial)
        return (rows, failed)
    }

    /// Calls `body` with each non-empty line of `url`, reading a chunk at a time.
    static func forEachLine(of url: URL, _ body: (Data) throws -> Void) throws {
        let handle = try FileHandle(forReadingFrom: url)
        defer { try? handle.close() }
        var pending = Data()
        while let chunk = try handle.read(upToCount: chunkBytes), !chunk.isEmpty {
            pending.append(chunk)
            var start = pending.startIndex
            while let newline = pending[start...].firstIndex(of: UInt8(ascii: "\n")) {
                if newline > start { try body(Data(pending[start..<newline])) }
                start = newline + 1
            }
            pending = Data(pending[start...])
        }
        if !pending.isEmpty { try body(pending) }
    }

    /// RFC 4180: quoted when it holds a comma, quote or line break; a leading `=`, `+`, `-` or `@`
    /// is prefixed with `'` so a spreadsheet never runs a file name as a formula.
    static func csvField(_ text: String) -> String {
        var value = text
        if let first = value.first, "=+-@".contains(first), Double(value) == nil { value = "'" + value }
        guard value.contains(where: { $0 == "," || $0 == "\"" || $0 == "\n" || $0 == "\r" }) else { return value }
        return "\"" + value.replacingOccurrences(of: "\"", with: "\"\"") + "\""
    }

    private static func replace(_ target: URL, with source: URL) throws {
        if rename(source.path, target.path) != 0 {
            throw CocoaError(.fileWriteUnknown, userInfo: [NSFilePathErrorKey: target.path,
                                                          NSLocalizedDescriptionKey: String(cString: strerror(errno))])
        }
    }
}

extension BatchResultRow.Label {
    init(_ label: ImageLabel) {
        self.init(label: label.label, score: label.score, threshold: label.threshold, present: label.present)
    }
}
