import CLIP
import Foundation
import NIOConcurrencyHelpers

/// The job worker's encoders by default: `<models.dir>/<name>` loaded once and kept. The server
/// replaces it with the model registry's loader, so tagging and tuning share one copy.
final class EncoderCache: Sendable {
    let modelsDirectory: URL
    private let loaded = NIOLockedValueBox<[String: CLIPModel]>([:])

    init(modelsDirectory: URL) {
        self.modelsDirectory = modelsDirectory
    }

    func load(_ name: String) async throws -> CLIPModel {
        if let model = loaded.withLockedValue({ $0[name] }) { return model }
        let directory = modelsDirectory.appendingPathComponent(name, isDirectory: true)
        let model = try await OffloadedWork.run { try CLIPModel(directory: directory) }
        return loaded.withLockedValue { loaded in
            if let first = loaded[name] { return first }   // loaded twice at once: keep one
            loaded[name] = model
            return model
        }
    }
}
