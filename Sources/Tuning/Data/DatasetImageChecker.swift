import Dispatch
import Foundation
import Imaging
import Synchronization

/// Checks that every item's image is there, inside the dataset, within the size limit, and (optionally)
/// decodes. Decoding runs on all cores; the problems come back in item order.
enum DatasetImageChecker {
    /// Records a problem for each unusable image, at the line (of `file`) the item came from.
    static func check(_ items: [DatasetItem], lineNumbers: [Int], file: String, source: DatasetImageSource,
                      options: DatasetLoadOptions, problems: inout DatasetProblemCollector) {
        let maximumBytes = options.decodeLimits.maxEncodedBytes
        var present: [Int] = []
        present.reserveCapacity(items.count)
        for (index, item) in items.enumerated() {
            if let message = source.problem(with: item.image, maximumBytes: maximumBytes) {
                problems.problem(file: file, line: lineNumbers[index], field: "image", message)
            } else {
                present.append(index)
            }
        }
        guard options.decodesImages, !present.isEmpty else { return }
        let toDecode = present
        let found = ProblemList()
        let decodeOptions = DecodeOptions(limits: options.decodeLimits)
        let workers = max(1, min(ProcessInfo.processInfo.activeProcessorCount, toDecode.count))
        DispatchQueue.concurrentPerform(iterations: workers) { worker in
            for position in stride(from: worker, to: toDecode.count, by: workers) {
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
        for (index, message) in found.sortedByIndex() {
            problems.problem(file: file, line: lineNumbers[index], field: "image", message)
        }
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
