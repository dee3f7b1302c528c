import Foundation
import Synchronization
import ZIPFoundation

/// A dataset zip opened for reading: every entry checked once (safe path, no symlink, sizes and
/// compression ratios within `ZipLimits`), then entries read on demand by their dataset-relative path.
/// The archive handle is not thread-safe, so reads take a lock; decoding can still run in parallel.
final class ZipDatasetArchive: Sendable {
    /// The zip file.
    let url: URL
    /// Folder inside the archive that holds `manifest.jsonl` ("" or "name/"), so a zipped folder works too.
    let root: String
    private let state: Mutex<State>

    private struct State {
        let archive: Archive
        /// File entries by normalised path from the archive's top.
        let entries: [String: Entry]
    }

    private init(url: URL, root: String, state: sending State) {
        self.url = url
        self.root = root
        self.state = Mutex(state)
    }

    /// Opens and checks `url`; nil (with the reasons in `problems`) when the archive is refused.
    /// `findsManifest` false: the archive's top is the root (a zip of images, no manifest).
    static func open(_ url: URL, limits: ZipLimits, findsManifest: Bool = true,
                     problems: inout DatasetProblemCollector) -> ZipDatasetArchive? {
        let name = url.lastPathComponent
        let archive: Archive
        do {
            archive = try Archive(url: url, accessMode: .read)
        } catch {
            problems.problem(file: name, "not a readable zip archive (\(error))")
            return nil
        }
        var refused = false
        func refuse(_ field: String?, _ message: String) {
            problems.problem(file: name, field: field, message)
            refused = true
        }
        var entries: [String: Entry] = [:]
        var entryCount = 0
        var totalUncompressed: UInt64 = 0
        var totalCompressed: UInt64 = 0
        for entry in archive {
            entryCount += 1
            if entryCount > limits.maximumEntryCount {
                refuse(nil, "more than \(limits.maximumEntryCount) entries; the limit is \(limits.maximumEntryCount)")
                break
            }
            let rawPath = entry.path
            if entry.type == .symlink {
                refuse(rawPath, "symbolic links are not allowed in a dataset archive")
                continue
            }
            let path: String
            switch DatasetRelativePath.normalise(rawPath) {
            case .success(let normalised): path = normalised
            case .failure(let reason):
                refuse(rawPath, "unsafe entry path: \(reason)")
                continue
            }
            guard entry.type == .file else { continue }
            if entries[path] != nil {
                refuse(rawPath, "the archive holds '\(path)' more than once")
                continue
            }
            let inflated = entry.uncompressedSize
            let deflated = entry.compressedSize
            if inflated >= limits.ratioCheckMinimumBytes,
               exceedsRatio(inflated: inflated, deflated: deflated, limit: limits.maximumCompressionRatio) {
                refuse(rawPath, "compression ratio \(ratioText(inflated, deflated)) is above the limit "
                       + "\(limits.maximumCompressionRatio) (zip bomb?)")
            }
            totalUncompressed &+= inflated
            totalCompressed &+= deflated
            entries[path] = entry
        }
        if totalUncompressed > limits.maximumTotalUncompressedBytes {
            refuse(nil, "entries inflate to \(totalUncompressed) bytes; the limit is "
                   + "\(limits.maximumTotalUncompressedBytes)")
        } else if totalUncompressed >= limits.ratioCheckMinimumBytes,
                  exceedsRatio(inflated: totalUncompressed, deflated: totalCompressed,
                               limit: limits.maximumCompressionRatio) {
            refuse(nil, "overall compression ratio \(ratioText(totalUncompressed, totalCompressed)) is above the "
                   + "limit \(limits.maximumCompressionRatio) (zip bomb?)")
        }
        guard let root = findsManifest ? findRoot(Array(entries.keys), archiveName: name, problems: &problems) : "" else { return nil }
        if refused { return nil }
        return ZipDatasetArchive(url: url, root: root, state: State(archive: archive, entries: entries))
    }

    /// The folder holding the shallowest `manifest.jsonl` (ignoring macOS resource forks), which must be unique.
    private static func findRoot(_ paths: [String], archiveName: String,
                                 problems: inout DatasetProblemCollector) -> String? {
        let manifests = paths.filter {
            ($0 == ManifestParser.fileName || $0.hasSuffix("/" + ManifestParser.fileName))
                && !$0.hasPrefix("__MACOSX/")
        }
        let depth: (String) -> Int = { path in path.reduce(0) { $1 == "/" ? $0 + 1 : $0 } }
        guard let shallowest = manifests.map(depth).min() else {
            problems.problem(file: archiveName, "no \(ManifestParser.fileName) in the archive")
            return nil
        }
        let candidates = manifests.filter { depth($0) == shallowest }.sorted()
        guard candidates.count == 1 else {
            problems.problem(file: archiveName,
                             "several \(ManifestParser.fileName) at the same depth: \(candidates.joined(separator: ", "))")
            return nil
        }
        return String(candidates[0].dropLast(ManifestParser.fileName.count))
    }

    private static func exceedsRatio(inflated: UInt64, deflated: UInt64, limit: Double) -> Bool {
        deflated == 0 ? inflated > 0 : Double(inflated) / Double(deflated) > limit
    }

    private static func ratioText(_ inflated: UInt64, _ deflated: UInt64) -> String {
        deflated == 0 ? "infinite" : String(Int((Double(inflated) / Double(deflated)).rounded()))
    }

    /// Every file's path relative to the root, sorted.
    var paths: [String] {
        let root = self.root
        return state.withLock { $0.entries.keys.filter { $0.hasPrefix(root) }.map { String($0.dropFirst(root.count)) }.sorted() }
    }

    /// Declared inflated size of the file at `path` (relative to the dataset root), nil when absent.
    func size(of path: String) -> UInt64? {
        state.withLock { $0.entries[root + path]?.uncompressedSize }
    }

    /// The bytes of the file at `path` (relative to the dataset root), checked against its CRC-32,
    /// refusing more than `maximumBytes` even when the entry's header understates its size.
    func read(_ path: String, maximumBytes: Int) throws(TuningError) -> Data {
        let root = self.root
        let result: Result<Data, TuningError> = state.withLock { state in
            guard let entry = state.entries[root + path] else {
                return .failure(.dataset("no entry '\(path)' in \(url.lastPathComponent)"))
            }
            let declared = entry.uncompressedSize
            guard declared <= UInt64(maximumBytes) else {
                return .failure(.dataset("'\(path)' is \(declared) bytes; the limit is \(maximumBytes)"))
            }
            let cap = Int(declared)
            var data = Data()
            data.reserveCapacity(cap)
            do {
                _ = try state.archive.extract(entry) { chunk in
                    data.append(chunk)
                    if data.count > cap { throw ZipEntryOverrun() }
                }
            } catch is ZipEntryOverrun {
                return .failure(.dataset("'\(path)' inflates past its declared \(declared) bytes"))
            } catch {
                return .failure(.dataset("'\(path)' cannot be read from \(url.lastPathComponent): \(error)"))
            }
            return .success(data)
        }
        return try result.get()
    }
}

/// Thrown from inside an extraction when an entry produces more bytes than its header declared.
private struct ZipEntryOverrun: Error {}

/// Bounds on a zip dataset, checked from its central directory before anything is inflated,
/// and again while inflating (a header may lie about sizes): the defences against zip bombs.
public struct ZipLimits: Sendable, Equatable, Codable {
    /// Most entries (files and folders).
    public var maximumEntryCount: Int
    /// Most bytes all entries inflate to together.
    public var maximumTotalUncompressedBytes: UInt64
    /// Highest uncompressed / compressed ratio of an entry, or of the whole archive.
    public var maximumCompressionRatio: Double
    /// Entries and archives smaller than this when inflated are exempt from the ratio check
    /// (tiny text files compress well and cannot bomb anyone).
    public var ratioCheckMinimumBytes: UInt64

    /// Limits from explicit values.
    public init(maximumEntryCount: Int, maximumTotalUncompressedBytes: UInt64,
                maximumCompressionRatio: Double, ratioCheckMinimumBytes: UInt64 = 1 << 20) {
        self.maximumEntryCount = maximumEntryCount
        self.maximumTotalUncompressedBytes = maximumTotalUncompressedBytes
        self.maximumCompressionRatio = maximumCompressionRatio
        self.ratioCheckMinimumBytes = ratioCheckMinimumBytes
    }

    /// 1,000,000 entries, 64 GiB inflated, ratio 100 (JPEG and PNG barely compress; bombs reach 1000).
    public static let `default` = ZipLimits(maximumEntryCount: 1_000_000,
                                            maximumTotalUncompressedBytes: 64 << 30,
                                            maximumCompressionRatio: 100)

    private enum CodingKeys: String, CodingKey {
        case maximumEntryCount = "maximum_entry_count"
        case maximumTotalUncompressedBytes = "maximum_total_uncompressed_bytes"
        case maximumCompressionRatio = "maximum_compression_ratio"
        case ratioCheckMinimumBytes = "ratio_check_minimum_bytes"
    }
}
