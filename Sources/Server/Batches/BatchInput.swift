import Foundation
import Imaging
import Tuning

/// The images of one batch, in the order they are tagged and reported: a dataset's manifest order,
/// or an uploaded zip's sorted paths. Read one at a time; a zip is never extracted.
struct BatchInput: Sendable {
    let names: [String]
    private let read: @Sendable (Int) throws -> [UInt8]

    var count: Int { names.count }

    func bytes(at index: Int) throws -> [UInt8] { try read(index) }

    /// The uploaded zip's place in a batch's folder.
    static func archive(in folder: URL) -> URL { folder.appendingPathComponent("input.zip") }

    /// Opens the images of `options` (blocking: run it offloaded).
    /// `dataset` is the batch's dataset folder on this replica when it names one.
    static func open(_ options: BatchOptions, folder: URL, dataset: URL?, decodeLimits: DecodeLimits,
                     zipLimits: ZipLimits) throws -> BatchInput {
        if let dataset {
            let loaded = try DatasetLoader.load(from: dataset,
                                                options: DatasetLoadOptions(decodesImages: false, decodeLimits: decodeLimits))
            return BatchInput(names: loaded.items.map(\.image), read: { try loaded.imageBytes(at: $0) })
        }
        let archive = try ImageArchive.open(archive(in: folder), limits: zipLimits)
        let maximum = decodeLimits.maxEncodedBytes
        return BatchInput(names: archive.imagePaths, read: { [UInt8](try archive.bytes(at: $0, maximumBytes: maximum)) })
    }
}
