import Dispatch
import Foundation
import Imaging
import Synchronization

/// Checks that every item's image is there, inside the dataset, within the size limit, and (optionally)
/// decodes. Decoding runs on all cores; the problems come back in item order.
enum DatasetImageChecker {
    /// Records a problem for each unusable image, at the line (of `file`) the item came from.
    /// Returns false when `isCancelled` stopped the check part-way (checked before each decode).
    @discardableResult
    static func check(_ items: [DatasetItem], lineNumbers: [Int], file: String, source: DatasetImageSource,
                      options: DatasetLoadOptions, problems: inout DatasetProblemCollector,
                      isCancelled: @escaping @Sendable () -> Bool = { false }) -> Bool {
        let maximumBytes = options.decodeLimits.maxEncodedBytes
        var present: [Int] = []
        present.reserveCapacity(items.count)
        for (index, item) in items.enumerated() {
            // Existence checks are cheap: asking every 1,024 of them is often enough.
            if index % 1024 == 1023, isCancelled() { return false }
            if let message = source.problem(with: item.image, maximumBytes: maximumBytes) {
                problems.problem(file: file, line: lineNumbers[index], field: "image", message)
            } else {
                present.append(index)
            }
        }
        guard options.decodesImages, !present.isEmpty else { return !isCancelled() }
        let toDecode = present
        let found = ProblemList()
        let stopped = Atomic(false)
        let decodeOptions = DecodeOptions(limits: options.decodeLimits)
        let workers = max(1, min(ProcessInfo.processInfo.activeProcessorCount, toDecode.count))
        DispatchQueue.concurrentPerform(iterations: workers) { worker in
            for position in stride(from: worker, to: toDecode.count, by: workers) {
                if stopped.load(ordering: .relaxed) { return }
                if isCancelled() {
                    stopped.store(true, ordering: .relaxed)
                    return
                }
                let index = toDecode[position]
                let path = items[index].image
                let message: String?
                do {
                    let bytes = try source.read(path, maximumBytes: maximumBytes)
                    _ = try ImageDecoder.decode([UInt8](bytes), options: decodeOptions)
                    message = nil
                } catch let error as ImagingError {
                    message = "image '\(path)' does not decode: \(describe(error))"
                } catch let error as TuningError {
                    message = error.bareMessage
                } catch {
                    message = "image '\(path)' cannot be read: \(error)"
                }
                if let message { found.append(index, message) }
            }
        }
        if stopped.load(ordering: .relaxed) { return false }
        for (index, message) in found.sortedByIndex() {
            problems.problem(file: file, line: lineNumbers[index], field: "image", message)
        }
        return true
    }

    private static func describe(_ error: ImagingError) -> String {
        switch error {
        case .unsupportedFormat(let message): return "unsupported format (\(message))"
        case .corrupt(let message): return "corrupt data (\(message))"
        case .tooLarge(let message): return "too large (\(message))"
        case .invalidArgument(let message): return message
        }
    }

    /// Problems found by the decoding workers, kept with their item index.
    private final class ProblemList: Sendable {
        private let entries = Mutex<[(index: Int, message: String)]>([])

        func append(_ index: Int, _ message: String) {
            entries.withLock { $0.append((index, message)) }
        }

        func sortedByIndex() -> [(index: Int, message: String)] {
            entries.withLock { $0.sorted { $0.index < $1.index } }
        }
    }
}
