import Foundation

/// Imports the list format of LMPT and DBL (VOC-LT, COCO-LT):
/// - label file: `name id` a line, the id last (names may contain spaces: `traffic light 9`), ids 0-based
///   and contiguous; CRLF endings and trailing spaces are fine;
/// - list file: `relative/path.jpg id id …` a line, 0-based class ids (or one-hot flags, by option);
/// - captions file (optional): `relative/path.jpg caption text…` a line, matched to the list by path.
///   (COCO-LT's captions are an image's five COCO captions run together.)
public enum LMPTListImporter {
    /// Reads the three files; images are not looked at (see `LMPTImport.dataset(imageRoot:options:)`).
    public static func importAnnotations(labelFile: URL, listFile: URL, captionFile: URL? = nil,
                                         options: LMPTImportOptions = LMPTImportOptions())
        throws(DatasetValidationError) -> LMPTImport {
        func read(_ url: URL) throws(DatasetValidationError) -> Data {
            do {
                return try Data(contentsOf: url)
            } catch {
                throw DatasetValidationError(DatasetProblem(
                    file: url.lastPathComponent, message: "cannot be read (\(url.path)): \(error.localizedDescription)"))
            }
        }
        let captions: (name: String, bytes: Data)?
        if let captionFile { captions = (captionFile.lastPathComponent, try read(captionFile)) } else { captions = nil }
        return try parse(labels: (labelFile.lastPathComponent, try read(labelFile)),
                         list: (listFile.lastPathComponent, try read(listFile)),
                         captions: captions, options: options)
    }

    /// Parses the files' contents, each given with the file name that problems should name.
    public static func parse(labels: (name: String, bytes: Data), list: (name: String, bytes: Data),
                             captions: (name: String, bytes: Data)? = nil,
                             options: LMPTImportOptions = LMPTImportOptions())
        throws(DatasetValidationError) -> LMPTImport {
        var problems = DatasetProblemCollector(maximum: options.maximumProblems)
        let classes = parseLabelFile(labels.bytes, file: labels.name, problems: &problems)
        var entries = parseListFile(list.bytes, file: list.name, classCount: classes.count, options: options,
                                    problems: &problems)
        var report = LMPTImportReport(imageCount: entries.count, classCount: classes.count,
                                      imagesWithoutLabels: entries.filter { $0.item.labels.isEmpty }.count)
        if let captions {
            attachCaptions(captions.bytes, file: captions.name, to: &entries, options: options, report: &report,
                           problems: &problems)
        }
        let items = entries.map(\.item)
        let counts = DatasetAnnotations(unchecked: classes, items: items).classCounts
        for warning in Dataset.emptyClassWarnings(classes: classes, counts: counts, file: labels.name) {
            problems.warning(warning)
        }
        try problems.throwIfProblems()
        return LMPTImport(annotations: DatasetAnnotations(unchecked: classes, items: items), report: report,
                          warnings: problems.warnings, listFileName: list.name, lineNumbers: entries.map(\.line),
                          labelFileName: labels.name)
    }

    /// An item with the list line it came from.
    private struct Entry {
        var item: DatasetItem
        var line: Int
    }

    /// Class names indexed by their ids.
    private static func parseLabelFile(_ bytes: Data, file: String,
                                       problems: inout DatasetProblemCollector) -> [String] {
        var byID: [Int: (name: String, line: Int)] = [:]
        var lineOfName: [String: Int] = [:]
        for line in TextLines(bytes: bytes) where !line.isBlank {
            guard let text = line.text else {
                problems.problem(file: file, line: line.number, "line is not valid UTF-8")
                continue
            }
            let tokens = text.split(whereSeparator: { $0 == " " || $0 == "\t" })
            guard tokens.count >= 2, let id = Int(tokens[tokens.count - 1]) else {
                problems.problem(file: file, line: line.number, "expected a class name then its id, as in 'traffic light 9'")
                continue
            }
            let name = tokens.dropLast().joined(separator: " ")
            if let message = ClassNameRules.problem(with: name) {
                problems.problem(file: file, line: line.number, field: name, message)
            }
            if let first = lineOfName[name] {
                problems.problem(file: file, line: line.number, field: name, "duplicate class name (first on line \(first))")
            } else {
                lineOfName[name] = line.number
            }
            if let earlier = byID[id] {
                problems.problem(file: file, line: line.number, field: "id",
                                 "id \(id) already belongs to '\(earlier.name)' (line \(earlier.line))")
                continue
            }
            byID[id] = (name, line.number)
        }
        if byID.isEmpty {
            problems.problem(file: file, "no classes")
            return []
        }
        let count = byID.count
        for (id, entry) in byID.sorted(by: { $0.key < $1.key }) where !(0..<count).contains(id) {
            problems.problem(file: file, line: entry.line, field: "id",
                             "ids must be 0 to \(count - 1) (one per class), found \(id)")
        }
        return (0..<count).map { byID[$0]?.name ?? "" }
    }

    private static func parseListFile(_ bytes: Data, file: String, classCount: Int, options: LMPTImportOptions,
                                      problems: inout DatasetProblemCollector) -> [Entry] {
        var entries: [Entry] = []
        var lineOfImage: [String: Int] = [:]
        for line in TextLines(bytes: bytes) where !line.isBlank {
            guard let text = line.text else {
                problems.problem(file: file, line: line.number, "line is not valid UTF-8")
                continue
            }
            let tokens = text.split(whereSeparator: { $0 == " " || $0 == "\t" }).map(String.init)
            var valid = true
            func fail(_ field: String?, _ message: String) {
                problems.problem(file: file, line: line.number, field: field, message)
                valid = false
            }
            let path: String
            switch DatasetRelativePath.normalise(tokens[0]) {
            case .success(let normalised): path = normalised
            case .failure(let reason):
                fail("image", "\(reason): '\(tokens[0])'")
                continue
            }
            if let first = lineOfImage[path] {
                fail("image", "duplicate image entry '\(path)' (first on line \(first))")
            } else {
                lineOfImage[path] = line.number
            }
            var labels: [Int] = []
            let values = tokens.dropFirst()
            switch options.labelEncoding {
            case .classIndices:
                for (position, token) in values.enumerated() {
                    let field = "labels[\(position)]"
                    guard let id = Int(token) else { fail(field, "'\(token)' is not a class id"); continue }
                    guard (0..<classCount).contains(id) else {
                        fail(field, "class id \(id) is outside 0...\(classCount - 1) (ids are 0-based)")
                        continue
                    }
                    if labels.contains(id) { fail(field, "duplicate class id \(id)"); continue }
                    labels.append(id)
                }
            case .oneHot:
                guard values.count == classCount else {
                    fail("labels", "expected \(classCount) one-hot flags, found \(values.count)")
                    break
                }
                for (id, token) in values.enumerated() {
                    switch token {
                    case "1": labels.append(id)
                    case "0": break
                    default: fail("labels[\(id)]", "one-hot flags are 0 or 1, found '\(token)'")
                    }
                }
            }
            if valid, labels.isEmpty, !options.allowsEmptyLabelSets {
                fail("labels", "image has no labels (allow empty label sets to keep such images)")
            }
            if valid { entries.append(Entry(item: DatasetItem(image: path, labels: labels), line: line.number)) }
        }
        if entries.isEmpty, !problems.hasProblems { problems.problem(file: file, "no images listed") }
        return entries
    }

    private static func attachCaptions(_ bytes: Data, file: String, to entries: inout [Entry],
                                       options: LMPTImportOptions, report: inout LMPTImportReport,
                                       problems: inout DatasetProblemCollector) {
        var entryOfImage: [String: Int] = [:]
        for (index, entry) in entries.enumerated() { entryOfImage[entry.item.image] = index }
        var lineOfCaption: [String: Int] = [:]
        var unmatched = 0
        var inListOrder = true
        var position = 0
        for line in TextLines(bytes: bytes) where !line.isBlank {
            guard let text = line.text else {
                problems.problem(file: file, line: line.number, "line is not valid UTF-8")
                continue
            }
            let words = text.split(whereSeparator: \.isWhitespace)
            guard case .success(let path) = DatasetRelativePath.normalise(String(words[0])) else {
                problems.problem(file: file, line: line.number, field: "image", "unsafe image path '\(words[0])'")
                continue
            }
            defer { position += 1 }
            if let first = lineOfCaption[path] {
                problems.problem(file: file, line: line.number, field: "image",
                                 "second caption for '\(path)' (first on line \(first))")
                continue
            }
            lineOfCaption[path] = line.number
            // Runs of spaces become one; the official code does the same before cutting to 75 characters.
            var caption = words.dropFirst().joined(separator: " ")
            if let limit = options.captionCharacterLimit, caption.count > limit {
                caption = String(caption.prefix(limit)).trimmingCharacters(in: .whitespaces)
            }
            guard !caption.isEmpty else {
                problems.problem(file: file, line: line.number, field: "caption", "no caption text after the path")
                continue
            }
            guard let index = entryOfImage[path] else {
                unmatched += 1
                inListOrder = false
                continue
            }
            if index != position { inListOrder = false }
            entries[index].item.caption = caption
        }
        let missing = entries.filter { $0.item.caption == nil }.count
        report.imagesWithoutCaption = missing
        report.captionsWithoutImage = unmatched
        report.captionsInListOrder = inListOrder && missing == 0
    }
}
