import Foundation
import Synchronization
import Testing
@testable import Tuning

/// A dataset load asked to stop (its request timed out, its client left) stops between images
/// instead of decoding the rest: the December probe's 100,000-image import ran to its end after
/// the request's deadline had passed.
@Suite("Dataset load cancellation")
struct DatasetCancellationTests {
    let temporary: DatasetTemporaryFolder

    init() throws { temporary = try DatasetTemporaryFolder() }

    /// A zip of `count` copies of one small PNG, all labelled.
    private func zipOfImages(_ count: Int) throws -> URL {
        let png = try DatasetTestSupport.png()
        let lines = (0..<count).map { #"{"image": "img/\#($0).png", "labels": ["dog"]}"# }
        return try DatasetTestSupport.makeZip(
            [DatasetTestSupport.ZipEntry(path: "classes.txt", bytes: DatasetTestSupport.text(["dog"])),
             DatasetTestSupport.ZipEntry(path: "manifest.jsonl", bytes: DatasetTestSupport.text(lines))]
                + (0..<count).map { DatasetTestSupport.ZipEntry(path: "img/\($0).png", bytes: png, compression: .none) },
            in: temporary)
    }

    @Test func aCancelledLoadStopsBetweenImages() throws {
        let url = try zipOfImages(400)
        let asked = CheckCounter()
        // Cancelled once the check has been asked 20 times: a few images into the decoding.
        let isCancelled: @Sendable () -> Bool = { asked.next() > 20 }
        #expect(throws: TuningError.cancelled) {
            try DatasetLoader.load(from: url, isCancelled: isCancelled)
        }
        // Each decoding worker asks once before each image, and once more after the answer changed.
        let workers = ProcessInfo.processInfo.activeProcessorCount
        #expect(asked.value <= 21 + workers, "\(asked.value) checks for 400 images")
    }

    @Test func anUncancelledLoadChecksEveryImage() throws {
        let url = try zipOfImages(30)
        let asked = CheckCounter()
        let dataset = try DatasetLoader.load(from: url, isCancelled: { asked.next() < 0 })
        #expect(dataset.items.count == 30)
        #expect(asked.value >= 30)
    }
}

/// Counts how often a load asked whether it is cancelled.
private final class CheckCounter: Sendable {
    private let count = Atomic(0)

    /// Counts one more question and returns the count so far.
    func next() -> Int { count.add(1, ordering: .relaxed).newValue }
    var value: Int { count.load(ordering: .relaxed) }
}
