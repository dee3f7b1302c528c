import Foundation
import Testing
@testable import Server

/// An import whose request was cancelled (deadline passed, client gone) stops checking images
/// and leaves nothing behind (the probe's 100,000-image import ran to its end, then was dropped).
@Suite("Dataset import cancellation")
struct DatasetImportCancellationTests {
    @Test func aCancelledImportStopsBeforeCheckingTheImagesAndStoresNothing() async throws {
        let test = try TuningTestApp()
        // 200 images, the last one not an image: a load that runs to its end refuses the dataset.
        var files = try DatasetFixtures.datasetFiles(count: 200)
        let last = try #require(files.lastIndex { $0.path.hasPrefix("images/") })
        files[last].bytes = Data("not an image".utf8)
        let zip = test.folder.url.appendingPathComponent("upload.zip")
        try DatasetFixtures.zip(files).write(to: zip)

        let cancelled = CancellationFlag()
        cancelled.set()
        #expect(throws: CancellationError.self) {
            _ = try test.backend.datasets.importer.importZip(zip, name: "cancelled", cancelled: cancelled)
        }
        #expect(test.folder.contents("data/datasets").isEmpty && test.folder.contents("data/cache/datasets").isEmpty,
               "no dataset and no staging folder")
        #expect(try await test.backend.store.datasetIDs().isEmpty)
    }
}
