import Foundation
import Testing
@testable import Tuning

@Suite("Dataset folder: manifest.jsonl + classes.txt")
struct DatasetManifestTests {
    let temporary: DatasetTemporaryFolder

    init() throws { temporary = try DatasetTemporaryFolder() }

    private func folder(classes: [String], manifest: [String], images: [String: Data]) throws -> URL {
        var files = images
        files["classes.txt"] = DatasetTestSupport.text(classes)
        files["manifest.jsonl"] = DatasetTestSupport.text(manifest)
        return try DatasetTestSupport.makeFolder(files, in: temporary)
    }

    @Test func loadsAValidFolderWithItsCountsCaptionsAndImages() throws {
        let jpeg = try DatasetTestSupport.jpeg()
        let png = try DatasetTestSupport.png()
        let root = try folder(
            classes: ["dog", "person", "traffic light"],
            manifest: [
                #"{"image": "images/a.jpg", "labels": ["dog", "person"], "caption": "a man and his dog"}"#,
                #"{"image": "./images//b.png", "labels": ["traffic light"]}"#,
                "",
                #"{"image": "c.jpg", "labels": ["person"], "caption": null}"#,
            ],
            images: ["images/a.jpg": jpeg, "images/b.png": png, "c.jpg": jpeg])
        let dataset = try DatasetLoader.load(from: root)
        #expect(dataset.classes == ["dog", "person", "traffic light"])
        #expect(dataset.items.map(\.image) == ["images/a.jpg", "images/b.png", "c.jpg"])
        #expect(dataset.items.map(\.labels) == [[0, 1], [2], [1]])
        #expect(dataset.classCounts == [1, 2, 1])
        #expect(dataset.warnings.isEmpty)
        #expect(dataset.caption(at: 0) == "a man and his dog")
        #expect(dataset.caption(at: 1) == "a photo of a traffic light.")
        #expect(dataset.items[2].caption == nil)
        #expect(try dataset.imageBytes(at: 1) == [UInt8](png))
        #expect(try dataset.imageBytes(at: 2) == [UInt8](jpeg))
        #expect(throws: TuningError.self) { try dataset.imageBytes(at: 3) }
    }

    @Test func readsCRLFFilesWithAByteOrderMarkAndTrailingSpaces() throws {
        let jpeg = try DatasetTestSupport.jpeg()
        let classes = Data("\u{FEFF}cat \r\nhot dog\r\n\r\n".utf8)
        let manifest = Data("\u{FEFF}{\"image\": \"a.jpg\", \"labels\": [\"hot dog\", \"cat\"]}\r\n".utf8)
        let root = try DatasetTestSupport.makeFolder(
            ["classes.txt": classes, "manifest.jsonl": manifest, "a.jpg": jpeg], in: temporary)
        let dataset = try DatasetLoader.load(from: root)
        #expect(dataset.classes == ["cat", "hot dog"])
        #expect(dataset.items == [DatasetItem(image: "a.jpg", labels: [1, 0])])
    }

    @Test func reportsEveryProblemWithItsLineAndField() throws {
        let jpeg = try DatasetTestSupport.jpeg()
        let root = try folder(
            classes: ["dog", "person"],
            manifest: [
                #"{"image": "ok.jpg", "labels": ["dog"]}"#,                                  // 1 fine
                #"{"image": "b.jpg", "labels": ["dog"]"#,                                    // 2 invalid JSON
                #"{"labels": ["dog"]}"#,                                                     // 3 missing image
                #"{"image": "c.jpg", "labels": ["dog"], "tags": []}"#,                       // 4 extra field
                #"{"image": 7, "labels": "dog"}"#,                                           // 5 wrong types
                #"{"image": "d.jpg", "labels": ["dgo", "Person"]}"#,                         // 6 unknown labels
                #"{"image": "e.jpg", "labels": ["dog", "dog"]}"#,                            // 7 duplicate label
                #"{"image": "f.jpg", "labels": []}"#,                                        // 8 empty label set
                #"{"image": "./ok.jpg", "labels": ["person"]}"#,                             // 9 duplicate image
                #"{"image": "missing.jpg", "labels": ["person"]}"#,                          // 10 missing file
                #"{"image": "broken.jpg", "labels": ["person"]}"#,                           // 11 does not decode
                #"{"image": "../outside.jpg", "labels": ["person"]}"#,                       // 12 escapes root
                #"{"image": "/etc/passwd", "labels": ["person"]}"#,                          // 13 absolute
                #"{"image": "g.jpg", "labels": ["person", 3], "caption": 5}"#,               // 14 wrong element, caption
                #"["g.jpg", "person"]"#,                                                     // 15 not an object
                #"{"image": "h.jpg", "labels": ["dog"], "caption": "  "}"#,                  // 16 empty caption
            ],
            images: ["ok.jpg": jpeg, "c.jpg": jpeg, "d.jpg": jpeg, "e.jpg": jpeg, "f.jpg": jpeg,
                     "broken.jpg": jpeg.prefix(300), "g.jpg": jpeg, "h.jpg": jpeg])
        guard let error = expectValidationError({ () throws(DatasetValidationError) in
            try DatasetLoader.load(from: root)
        }) else { return }
        func message(_ line: Int, _ field: String?) -> String {
            error.problem(file: "manifest.jsonl", line: line, field: field)?.message ?? "<no problem>"
        }
        #expect(error.problem(file: "manifest.jsonl", line: 1) == nil)
        #expect(message(2, nil).hasPrefix("invalid JSON"))
        #expect(message(3, "image") == "missing field")
        #expect(message(4, "tags").contains("unknown field"))
        #expect(message(5, "image") == "must be a string, not a number")
        #expect(message(5, "labels") == "must be a list of class names, not a string")
        #expect(message(6, "labels[0]").contains("unknown label 'dgo'"))
        #expect(message(6, "labels[1]").contains("did you mean 'person'?"))
        #expect(message(7, "labels[1]").contains("duplicate label 'dog'"))
        #expect(message(8, "labels").contains("empty label set"))
        #expect(message(9, "image").contains("duplicate image entry 'ok.jpg' (first on line 1)"))
        #expect(message(10, "image").contains("not found"))
        #expect(message(11, "image").contains("does not decode"))
        #expect(message(12, "image").contains("escapes the dataset root"))
        #expect(message(13, "image").contains("absolute"))
        #expect(message(14, "labels[1]") == "must be a class name (string), not a number")
        #expect(message(14, "caption") == "must be a string, not a number")
        #expect(message(15, nil).contains("must be a JSON object"))
        #expect(message(16, "caption").contains("empty caption"))
        #expect(error.totalProblemCount == 18)
        #expect(error.problems.count == 18)
        #expect(error.description.hasPrefix("invalid dataset: 18 problems"))
        #expect(error.description.contains("manifest.jsonl:6: labels[0]: unknown label 'dgo'"))
    }

    @Test func listsAtMostTheMaximumButCountsEveryProblem() throws {
        let lines = (1...12).map { #"{"image": "x\#($0).jpg", "labels": ["nope"]}"# }
        let root = try folder(classes: ["dog"], manifest: lines, images: [:])
        guard let error = expectValidationError({ () throws(DatasetValidationError) in
            try DatasetLoader.load(from: root, options: DatasetLoadOptions(maximumProblems: 5))
        }) else { return }
        // 12 unknown labels and 12 missing files.
        #expect(error.totalProblemCount == 24)
        #expect(error.problems.count == 5)
        #expect(error.problems.map(\.line) == [1, 2, 3, 4, 5])
        #expect(error.description.contains("(first 5 listed)"))
    }

    @Test func checksClassesTxt() throws {
        let jpeg = try DatasetTestSupport.jpeg()
        let root = try folder(classes: ["dog", "", "cat", "dog", "  ", "bird"],
                              manifest: [#"{"image": "a.jpg", "labels": ["dog"]}"#], images: ["a.jpg": jpeg])
        guard let error = expectValidationError({ () throws(DatasetValidationError) in
            try DatasetLoader.load(from: root)
        }) else { return }
        #expect(error.problem(file: "classes.txt", line: 2)?.message == "empty class name")
        #expect(error.problem(file: "classes.txt", line: 4, field: "dog")?.message
            == "duplicate class name (first on line 1)")
        #expect(error.problem(file: "classes.txt", line: 5)?.message == "empty class name")
        #expect(error.totalProblemCount == 3)
        // Classes without images are warnings, even while the dataset is refused.
        #expect(Set(error.warnings.compactMap(\.field)) == ["cat", "bird"])
    }

    @Test func warnsAboutClassesWithoutImagesButAcceptsTheDataset() throws {
        let root = try folder(classes: ["dog", "unicorn"],
                              manifest: [#"{"image": "a.png", "labels": ["dog"]}"#],
                              images: ["a.png": try DatasetTestSupport.png()])
        let dataset = try DatasetLoader.load(from: root)
        #expect(dataset.warnings == [DatasetProblem(file: "classes.txt", line: 2, field: "unicorn",
                                                    message: "class has no images")])
        #expect(dataset.classCounts == [1, 0])
    }

    @Test func decodeCheckCanBeTurnedOffButExistenceIsStillChecked() throws {
        let root = try folder(classes: ["dog"],
                              manifest: [#"{"image": "a.jpg", "labels": ["dog"]}"#,
                                         #"{"image": "b.jpg", "labels": ["dog"]}"#],
                              images: ["a.jpg": Data("not an image".utf8)])
        let noDecode = DatasetLoadOptions(decodesImages: false)
        guard let error = expectValidationError({ () throws(DatasetValidationError) in
            try DatasetLoader.load(from: root, options: noDecode)
        }) else { return }
        #expect(error.problems.map(\.line) == [2])
        try FileManager.default.copyItem(at: root.appendingPathComponent("a.jpg"),
                                         to: root.appendingPathComponent("b.jpg"))
        #expect(try DatasetLoader.load(from: root, options: noDecode).items.count == 2)
        guard let decodeError = expectValidationError({ () throws(DatasetValidationError) in
            try DatasetLoader.load(from: root)
        }) else { return }
        #expect(decodeError.problems.map(\.line) == [1, 2])
        #expect(decodeError.problems.allSatisfy { $0.message.contains("unsupported format") })
    }

    @Test func appliesTheConfiguredDecodeLimits() throws {
        let jpeg = try DatasetTestSupport.jpeg()
        let root = try folder(classes: ["dog"], manifest: [#"{"image": "a.jpg", "labels": ["dog"]}"#],
                              images: ["a.jpg": jpeg])
        let tinyPixels = DatasetLoadOptions(decodeLimits: .init(maxEncodedBytes: 1 << 20, maxPixelCount: 16))
        let pixelError = expectValidationError { () throws(DatasetValidationError) in
            try DatasetLoader.load(from: root, options: tinyPixels)
        }
        #expect(pixelError?.problems.first?.message.contains("too large") == true)
        let tinyFiles = DatasetLoadOptions(decodeLimits: .init(maxEncodedBytes: 100, maxPixelCount: 1 << 20))
        let byteError = expectValidationError { () throws(DatasetValidationError) in
            try DatasetLoader.load(from: root, options: tinyFiles)
        }
        #expect(byteError?.problems.first?.message == "image 'a.jpg' is \(jpeg.count) bytes; the limit is 100")
    }

    @Test func refusesASymlinkThatLeadsOutOfTheRoot() throws {
        let outside = temporary.url.appendingPathComponent("outside.jpg")
        try DatasetTestSupport.jpeg().write(to: outside)
        let root = try folder(classes: ["dog"],
                              manifest: [#"{"image": "link.jpg", "labels": ["dog"]}"#,
                                         #"{"image": "inner.jpg", "labels": ["dog"]}"#],
                              images: ["real.jpg": try DatasetTestSupport.jpeg()])
        try FileManager.default.createSymbolicLink(at: root.appendingPathComponent("link.jpg"),
                                                   withDestinationURL: outside)
        try FileManager.default.createSymbolicLink(atPath: root.appendingPathComponent("inner.jpg").path,
                                                   withDestinationPath: "real.jpg")
        guard let error = expectValidationError({ () throws(DatasetValidationError) in
            try DatasetLoader.load(from: root)
        }) else { return }
        #expect(error.problems.count == 1)
        #expect(error.problem(line: 1, field: "image")?.message.contains("outside the dataset root") == true)
    }

    @Test func namesMissingFilesAndFolders() throws {
        let nowhere = temporary.url.appendingPathComponent("nowhere")
        let missing = expectValidationError { () throws(DatasetValidationError) in
            try DatasetLoader.load(from: nowhere)
        }
        #expect(missing?.problems.first?.message.contains("does not exist") == true)
        let empty = try DatasetTestSupport.makeFolder([:], in: temporary)
        guard let error = expectValidationError({ () throws(DatasetValidationError) in
            try DatasetLoader.load(from: empty)
        }) else { return }
        #expect(Set(error.problems.compactMap(\.file)) == ["classes.txt", "manifest.jsonl"])
    }

    @Test func limitsItemsAndTextFileSize() throws {
        let lines = (1...5).map { #"{"image": "x\#($0).jpg", "labels": ["dog"]}"# }
        let manifest = DatasetTestSupport.text(lines)
        let few = expectValidationError { () throws(DatasetValidationError) in
            try DatasetLoader.parseAnnotations(manifest: manifest, classes: DatasetTestSupport.text(["dog"]),
                                               options: DatasetLoadOptions(maximumItems: 3))
        }
        #expect(few?.problems.map(\.line) == [4])
        let root = try folder(classes: ["dog"], manifest: lines, images: [:])
        let small = expectValidationError { () throws(DatasetValidationError) in
            try DatasetLoader.loadAnnotations(from: root, options: DatasetLoadOptions(maximumTextFileBytes: 64))
        }
        #expect(small?.problems.first { $0.file == "manifest.jsonl" }?.message
            == "\(manifest.count) bytes; the limit is 64")
    }

    @Test func annotationsCanBeReadWithoutImagesAndAllowEmptyLabelSetsByOption() throws {
        let classes = DatasetTestSupport.text(["dog"])
        let manifest = DatasetTestSupport.text([#"{"image": "a.jpg", "labels": []}"#,
                                                #"{"image": "b.jpg", "labels": ["dog"]}"#])
        #expect(throws: DatasetValidationError.self) {
            try DatasetLoader.parseAnnotations(manifest: manifest, classes: classes)
        }
        let annotations = try DatasetLoader.parseAnnotations(
            manifest: manifest, classes: classes, options: DatasetLoadOptions(allowsEmptyLabelSets: true))
        #expect(annotations.items.map(\.labels) == [[], [0]])
        #expect(annotations.classCounts == [1])
    }

    @Test func checkedAnnotationsRefuseWhatAManifestCouldNotHold() {
        let error = expectValidationError { () throws(DatasetValidationError) in
            try DatasetAnnotations(classes: ["dog", "dog", " cat"], items: [
                DatasetItem(image: "a.jpg", labels: [0, 0]),
                DatasetItem(image: "a.jpg", labels: [5]),
                DatasetItem(image: "../b.jpg", labels: []),
                DatasetItem(image: "./c.jpg", labels: [1]),
            ])
        }
        let messages = error?.problems.map(\.description) ?? []
        // Items have no file; they are named by position and listed before the file's problems.
        #expect(messages == [
            "line 1: labels[1]: duplicate label 'dog'",
            "line 2: image: duplicate image entry 'a.jpg' (first on line 1)",
            "line 2: labels[0]: label index 5 is outside 0..<3",
            "line 3: image: path escapes the dataset root with '..': '../b.jpg'",
            "line 3: labels: empty label set; every image needs at least one label",
            "line 4: image: path './c.jpg' is not normalised; write 'c.jpg'",
            "classes.txt:2: dog: duplicate class name (first on line 1)",
            "classes.txt:3:  cat: class name starts or ends with a space",
        ])
    }

    @Test func validationErrorsRoundTripThroughJSON() throws {
        let error = DatasetValidationError(
            problems: [DatasetProblem(file: "manifest.jsonl", line: 3, field: "labels[0]", message: "unknown label")],
            totalProblemCount: 7, warnings: [DatasetProblem(file: "classes.txt", line: 2, field: "cat",
                                                            message: "class has no images")])
        let json = try JSONEncoder().encode(error)
        let text = String(decoding: json, as: UTF8.self)
        #expect(text.contains(#""total_problem_count":7"#))
        #expect(text.contains(#""line":3"#))
        #expect(try JSONDecoder().decode(DatasetValidationError.self, from: json) == error)
    }
}
