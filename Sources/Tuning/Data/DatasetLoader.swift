import Foundation
import Imaging

/// Loads a dataset — a folder or a `.zip` holding `manifest.jsonl` and `classes.txt` — and validates
/// all of it before returning: either a whole `Dataset` or a `DatasetValidationError` listing every
/// problem by file, line and field.
public enum DatasetLoader {
    /// The validated dataset at `url` (a folder, or a zip file), images checked as `options` say.
    public static func load(from url: URL, options: DatasetLoadOptions = DatasetLoadOptions())
        throws(DatasetValidationError) -> Dataset {
        // Never nil: nothing cancels this load.
        try load(from: url, options: options, unlessCancelled: { false })!
    }

    /// The same, but checking `isCancelled` between images (a request that timed out or whose
    /// client left): once it says so, the load stops and throws `TuningError.cancelled`.
    public static func load(from url: URL, options: DatasetLoadOptions = DatasetLoadOptions(),
                            isCancelled: @escaping @Sendable () -> Bool) throws -> Dataset {
        guard let dataset = try load(from: url, options: options, unlessCancelled: isCancelled) else {
            throw TuningError.cancelled
        }
        return dataset
    }

    /// The dataset, or nil when `isCancelled` stopped the load.
    private static func load(from url: URL, options: DatasetLoadOptions,
                             unlessCancelled isCancelled: @escaping @Sendable () -> Bool)
        throws(DatasetValidationError) -> Dataset? {
        var problems = DatasetProblemCollector(maximum: options.maximumProblems)
        let opened = open(url, options: options, problems: &problems)
        guard let (source, files) = opened else { throw problems.error ?? missingSourceError(url) }
        let (annotations, parsed) = parse(files, options: options, problems: &problems)
        if isCancelled() { return nil }
        // Images of refused lines are checked too, so one pass reports every problem.
        let refused = parsed.imagesOfRefusedLines
        let checked = DatasetImageChecker.check(annotations.items + refused.map { DatasetItem(image: $0.image, labels: []) },
                                                lineNumbers: parsed.lineNumbers + refused.map(\.line),
                                                file: ManifestParser.fileName, source: source, options: options,
                                                problems: &problems, isCancelled: isCancelled)
        guard checked else { return nil }
        try finish(annotations, problems: &problems)
        return Dataset(annotations: annotations, source: source,
                       maximumImageBytes: options.decodeLimits.maxEncodedBytes)
    }

    /// The annotations at `url` (a folder, or a zip file), validated without looking at any image:
    /// for converting or inspecting a dataset whose images are elsewhere or not yet there.
    public static func loadAnnotations(from url: URL, options: DatasetLoadOptions = DatasetLoadOptions())
        throws(DatasetValidationError) -> DatasetAnnotations {
        var problems = DatasetProblemCollector(maximum: options.maximumProblems)
        guard let (_, files) = open(url, options: options, problems: &problems) else {
            throw problems.error ?? missingSourceError(url)
        }
        let (annotations, _) = parse(files, options: options, problems: &problems)
        try finish(annotations, problems: &problems)
        return annotations
    }

    /// Annotations from the contents of `manifest.jsonl` and `classes.txt` held in memory.
    public static func parseAnnotations(manifest: Data, classes: Data,
                                        options: DatasetLoadOptions = DatasetLoadOptions())
        throws(DatasetValidationError) -> DatasetAnnotations {
        var problems = DatasetProblemCollector(maximum: options.maximumProblems)
        let (annotations, _) = parse(TextFiles(manifest: manifest, classes: classes), options: options,
                                     problems: &problems)
        try finish(annotations, problems: &problems)
        return annotations
    }

    /// The two text files of a dataset; nil where one could not be read (a problem says why).
    private struct TextFiles {
        var manifest: Data?
        var classes: Data?
    }

    private static func parse(_ files: TextFiles, options: DatasetLoadOptions,
                              problems: inout DatasetProblemCollector) -> (DatasetAnnotations, ManifestParser.Parsed) {
        let classes = files.classes.map {
            ClassListParser.parse($0, maximumClasses: options.maximumClasses, problems: &problems)
        } ?? []
        let parsed = files.manifest.map {
            ManifestParser.parse($0, classes: classes, allowsEmptyLabelSets: options.allowsEmptyLabelSets,
                                 maximumItems: options.maximumItems, problems: &problems)
        } ?? ManifestParser.Parsed()
        return (DatasetAnnotations(unchecked: classes, items: parsed.items), parsed)
    }

    /// Adds the warnings and throws when anything was wrong.
    private static func finish(_ annotations: DatasetAnnotations,
                               problems: inout DatasetProblemCollector) throws(DatasetValidationError) {
        for warning in Dataset.emptyClassWarnings(classes: annotations.classes, counts: annotations.classCounts) {
            problems.warning(warning)
        }
        try problems.throwIfProblems()
    }

    /// The image source and text files of the folder or zip at `url`.
    private static func open(_ url: URL, options: DatasetLoadOptions,
                             problems: inout DatasetProblemCollector) -> (DatasetImageSource, TextFiles)? {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: url.path, isDirectory: &isDirectory) else {
            problems.problem(file: url.lastPathComponent, "no dataset here: \(url.path) does not exist")
            return nil
        }
        let limit = options.maximumTextFileBytes
        if isDirectory.boolValue {
            guard let source = DatasetImageSource.folder(url) else {
                problems.problem(file: url.lastPathComponent, "the dataset folder cannot be opened")
                return nil
            }
            var files = TextFiles()
            for name in [ClassListParser.fileName, ManifestParser.fileName] {
                let data = readFolderText(url.appendingPathComponent(name), name: name, limit: limit,
                                          problems: &problems)
                if name == ClassListParser.fileName { files.classes = data } else { files.manifest = data }
            }
            return (source, files)
        }
        guard let archive = ZipDatasetArchive.open(url, limits: options.zipLimits, problems: &problems) else {
            return nil
        }
        var files = TextFiles()
        for name in [ClassListParser.fileName, ManifestParser.fileName] {
            var data: Data?
            if archive.size(of: name) == nil {
                problems.problem(file: name, "missing from the archive (expected beside \(ManifestParser.fileName))")
            } else {
                do {
                    data = try archive.read(name, maximumBytes: limit)
                } catch {
                    problems.problem(file: name, error.bareMessage)
                }
            }
            if name == ClassListParser.fileName { files.classes = data } else { files.manifest = data }
        }
        return (.zip(archive), files)
    }

    private static func readFolderText(_ url: URL, name: String, limit: Int,
                                       problems: inout DatasetProblemCollector) -> Data? {
        // Resolve first: attributes describe a symlink itself, not the file it names.
        let attributes = try? FileManager.default.attributesOfItem(atPath: url.resolvingSymlinksInPath().path)
        guard let attributes, (attributes[.type] as? FileAttributeType) == .typeRegular else {
            problems.problem(file: name, "missing: the dataset folder needs a \(name)")
            return nil
        }
        if let size = (attributes[.size] as? NSNumber)?.intValue, size > limit {
            problems.problem(file: name, "\(size) bytes; the limit is \(limit)")
            return nil
        }
        do {
            return try Data(contentsOf: url)
        } catch {
            problems.problem(file: name, "cannot be read: \(error.localizedDescription)")
            return nil
        }
    }

    private static func missingSourceError(_ url: URL) -> DatasetValidationError {
        DatasetValidationError(DatasetProblem(file: url.lastPathComponent, message: "the dataset cannot be opened"))
    }
}

/// How much a dataset load checks, and the limits that keep a hostile upload harmless.
public struct DatasetLoadOptions: Sendable, Equatable {
    /// Decode every image once to prove it is a JPEG or PNG within `decodeLimits`. On by default;
    /// turn off for huge datasets whose images are known good (existence and size are still checked).
    public var decodesImages: Bool
    /// Limits an image must meet (encoded bytes, pixel count), as at tagging time.
    public var decodeLimits: DecodeLimits
    /// Accept images with no labels (all-negative examples, as in some evaluation sets).
    public var allowsEmptyLabelSets: Bool
    /// Most problems listed in an error (the total is always counted).
    public var maximumProblems: Int
    /// Most manifest lines.
    public var maximumItems: Int
    /// Most class names.
    public var maximumClasses: Int
    /// Largest `manifest.jsonl` or `classes.txt`, in bytes.
    public var maximumTextFileBytes: Int
    /// Limits on a zip dataset.
    public var zipLimits: ZipLimits

    /// Options with safe defaults: decode check on, 100 problems, a million items, 10,000 classes,
    /// 256 MiB text files.
    public init(decodesImages: Bool = true, decodeLimits: DecodeLimits = .default,
                allowsEmptyLabelSets: Bool = false, maximumProblems: Int = 100,
                maximumItems: Int = 1_000_000, maximumClasses: Int = 10_000,
                maximumTextFileBytes: Int = 256 << 20, zipLimits: ZipLimits = .default) {
        self.decodesImages = decodesImages
        self.decodeLimits = decodeLimits
        self.allowsEmptyLabelSets = allowsEmptyLabelSets
        self.maximumProblems = maximumProblems
        self.maximumItems = maximumItems
        self.maximumClasses = maximumClasses
        self.maximumTextFileBytes = maximumTextFileBytes
        self.zipLimits = zipLimits
    }
}
