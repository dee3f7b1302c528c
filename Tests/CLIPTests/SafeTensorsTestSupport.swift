import Compute
import Foundation
import Testing

@testable import CLIP

/// Helpers shared by the safetensors tests.
enum SafeTensorsTestSupport {
    /// Tests/Fixtures/safetensors, found relative to this source file.
    static let fixtures = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("Fixtures/safetensors")

    /// A fresh empty folder under the system temporary folder; the caller removes it.
    static func makeTemporaryFolder() throws -> URL {
        let folder = FileManager.default.temporaryDirectory
            .appendingPathComponent("tagtune-safetensors-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        return folder
    }

    /// Runs `body` with a temporary folder that is removed afterwards.
    static func withTemporaryFolder<R>(_ body: (URL) throws -> R) throws -> R {
        let folder = try makeTemporaryFolder()
        defer { try? FileManager.default.removeItem(at: folder) }
        return try body(folder)
    }

    /// The bytes of a safetensors file with the given header text and data section;
    /// `declaredLength` overrides the 8-byte length prefix to build corrupt files.
    static func fileBytes(header: String, data: [UInt8] = [], declaredLength: UInt64? = nil) -> [UInt8] {
        let headerBytes = Array(header.utf8)
        let length = declaredLength ?? UInt64(headerBytes.count)
        return withUnsafeBytes(of: length.littleEndian) { Array($0) } + headerBytes + data
    }

    /// Writes `bytes` to `name` inside `folder` and returns its URL.
    @discardableResult
    static func write(_ bytes: [UInt8], named name: String, in folder: URL) throws -> URL {
        let url = folder.appendingPathComponent(name)
        try Data(bytes).write(to: url)
        return url
    }

    /// Little-endian bytes of Float values.
    static func bytes(of floats: [Float]) -> [UInt8] {
        floats.flatMap { value in withUnsafeBytes(of: value.bitPattern.littleEndian) { Array($0) } }
    }

    /// The message of a `CLIPError.checkpoint`, or nil for any other error.
    static func checkpointMessage(_ error: any Error) -> String? {
        if case .checkpoint(let message) = error as? CLIPError { return message }
        return nil
    }
}

/// Expects `body` to throw `CLIPError.checkpoint` whose message contains every fragment.
func expectSafeTensorsError(
    containing fragments: [String],
    sourceLocation: SourceLocation = #_sourceLocation,
    _ body: () throws -> Void
) {
    let error = #expect(throws: CLIPError.self, sourceLocation: sourceLocation) { try body() }
    guard let error else { return }
    guard let message = SafeTensorsTestSupport.checkpointMessage(error) else {
        Issue.record("expected a checkpoint error, got \(error)", sourceLocation: sourceLocation)
        return
    }
    for fragment in fragments where !message.contains(fragment) {
        Issue.record("error message \"\(message)\" lacks \"\(fragment)\"", sourceLocation: sourceLocation)
    }
}

/// A seeded SplitMix64 generator so the random checks are the same on every run.
typealias SafeTensorsTestRandom = SplitMix64
