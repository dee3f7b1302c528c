import Foundation

/// The result of reading LMPT list files: annotations, a report, and the way to a training `Dataset`.
public struct LMPTImport: Sendable {
    /// Classes in id order and one item per list line, captions attached.
    public let annotations: DatasetAnnotations
    /// Counts of what was found (images without caption and the like).
    public let report: LMPTImportReport
    /// Warnings, such as classes that no listed image shows.
    public let warnings: [DatasetProblem]
    /// Name of the list file, which image problems point into.
    let listFileName: String
    /// The list line of each item.
    let lineNumbers: [Int]
    /// Name of the label file, which class warnings point into.
    let labelFileName: String

    /// A dataset whose images are the list's paths under `imageRoot` (the folder holding e.g. `VOCdevkit/`);
    /// every image must be there (and decode, unless `options` turns that off).
    public func dataset(imageRoot: URL, options: DatasetLoadOptions = DatasetLoadOptions())
        throws(DatasetValidationError) -> Dataset {
        var problems = DatasetProblemCollector(maximum: options.maximumProblems)
        guard let source = DatasetImageSource.folder(imageRoot) else {
            throw DatasetValidationError(DatasetProblem(
                file: imageRoot.lastPathComponent, message: "image root folder not found: \(imageRoot.path)"))
        }
        DatasetImageChecker.check(annotations.items, lineNumbers: lineNumbers, file: listFileName, source: source,
                                  options: options, problems: &problems)
        let dataset = Dataset(annotations: annotations, source: source,
                              maximumImageBytes: options.decodeLimits.maxEncodedBytes, classFile: labelFileName)
        for warning in dataset.warnings { problems.warning(warning) }
        try problems.throwIfProblems()
        return dataset
    }
}
