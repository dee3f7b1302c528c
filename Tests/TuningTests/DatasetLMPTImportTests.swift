import Foundation
import Testing
@testable import Tuning

@Suite("LMPT list import: VOC-LT and COCO-LT")
struct DatasetLMPTImportTests {
    /// One published benchmark's files under shared/data/lmpt-annotations.
    struct Benchmark: CustomStringConvertible {
        let folder: String
        let prefix: String
        var description: String { folder }

        func files() throws -> (labels: URL, train: URL, test: URL, captions: URL) {
            let root = try DatasetTestSupport.lmptAnnotations().appendingPathComponent(folder)
            return (root.appendingPathComponent("\(prefix)_labels.txt"),
                    root.appendingPathComponent("\(prefix)_lt_train.txt"),
                    root.appendingPathComponent("\(prefix)_lt_test.txt"),
                    root.appendingPathComponent("\(prefix)_lt_captions.txt"))
        }

        func importTraining() throws -> LMPTImport {
            let files = try files()
            return try LMPTListImporter.importAnnotations(labelFile: files.labels, listFile: files.train,
                                                          captionFile: files.captions)
        }
    }

    static let voc = Benchmark(folder: "voc", prefix: "voc")
    static let coco = Benchmark(folder: "coco", prefix: "coco")

    @Test(arguments: [
        (voc, 1_142, 20, ClassGroupSizes(head: 6, medium: 6, tail: 8)),
        (coco, 1_909, 80, ClassGroupSizes(head: 22, medium: 33, tail: 25)),
    ])
    func trainingSplitsMatchThePaper(benchmark: Benchmark, images: Int, classes: Int, groups: ClassGroupSizes) throws {
        let imported = try benchmark.importTraining()
        let annotations = imported.annotations
        #expect(annotations.items.count == images)
        #expect(annotations.classes.count == classes)
        let summary = DatasetSummary(annotations: annotations)
        #expect(summary.groupSizes == groups)
        #expect(annotations.classCounts.allSatisfy { $0 > 0 })
        #expect(imported.warnings.isEmpty)
        // Every training image has its caption, and the captions file is in list order.
        #expect(imported.report.imagesWithoutCaption == 0)
        #expect(imported.report.captionsWithoutImage == 0)
        #expect(imported.report.captionsInListOrder == true)
        #expect(annotations.items.allSatisfy { $0.caption.map { !$0.isEmpty } ?? false })
        print("\(benchmark) train: \(annotations.items.count) images, \(classes) classes, groups "
              + "\(groups.head)/\(groups.medium)/\(groups.tail), captions for "
              + "\(images - (imported.report.imagesWithoutCaption ?? images)) of \(images)")
        for entry in summary.classes {
            print("  \(entry.name): \(entry.count) (\(entry.group.rawValue))")
        }
    }

    @Test func vocClassesAreInIDOrderAndCountsAreTheKnownOnes() throws {
        let annotations = try Self.voc.importTraining().annotations
        #expect(annotations.classes.first == "aeroplane")
        #expect(annotations.classes[14] == "person")
        #expect(annotations.classes.last == "tvmonitor")
        #expect(annotations.classCounts == [6, 34, 8, 14, 154, 17, 249, 29, 479, 4, 240, 48, 11, 20, 775, 100,
                                            5, 82, 7, 64])
        let first = try #require(annotations.items.first)
        #expect(first.image == "VOCdevkit/VOC2012/JPEGImages/2008_000023.jpg")
        #expect(first.labels == [14, 4, 19])
        #expect(first.caption == "a bottle of beer and a candle on a table with pizza and a television.")
    }

    @Test func cocoClassNamesKeepTheirSpacesAndIDsAreZeroBased() throws {
        let annotations = try Self.coco.importTraining().annotations
        #expect(annotations.classes[0] == "person")
        #expect(annotations.classes[9] == "traffic light")
        #expect(annotations.classes[79] == "toothbrush")
        #expect(annotations.classes.filter { $0.contains(" ") }.count == 15)
        #expect(annotations.classCounts[0] == 1_128)
        #expect(annotations.items[0].labels == [0, 62, 64, 66])
    }

    @Test func vocTestSplitIsVOC2007Test() throws {
        let files = try Self.voc.files()
        let imported = try LMPTListImporter.importAnnotations(labelFile: files.labels, listFile: files.test)
        #expect(imported.annotations.items.count == 4_952)
        #expect(imported.annotations.items.allSatisfy { $0.image.hasPrefix("VOCdevkit/VOC2007/JPEGImages/") })
        #expect(imported.report.imagesWithoutCaption == nil)
        #expect(imported.annotations.classCounts.allSatisfy { $0 > 0 })
    }

    @Test func cocoTestSplitHas5000ImagesOf_Which48HaveNoLabels() throws {
        let files = try Self.coco.files()
        guard let refused = expectValidationError({ () throws(DatasetValidationError) in
            try LMPTListImporter.importAnnotations(labelFile: files.labels, listFile: files.test)
        }) else { return }
        #expect(refused.totalProblemCount == 48)
        #expect(refused.problems.allSatisfy { $0.file == "coco_lt_test.txt" && $0.field == "labels" })
        let imported = try LMPTListImporter.importAnnotations(
            labelFile: files.labels, listFile: files.test, options: LMPTImportOptions(allowsEmptyLabelSets: true))
        #expect(imported.annotations.items.count == 5_000)
        #expect(imported.report.imagesWithoutLabels == 48)
        #expect(imported.annotations.items.allSatisfy { $0.image.hasPrefix("val2017/") })
    }

    @Test func writtenManifestsLoadBackToTheSameAnnotations() throws {
        let temporary = try DatasetTemporaryFolder()
        for benchmark in [Self.voc, Self.coco] {
            let annotations = try benchmark.importTraining().annotations
            let folder = temporary.url.appendingPathComponent(benchmark.folder)
            try DatasetManifestWriter.write(annotations, to: folder)
            let reloaded = try DatasetLoader.loadAnnotations(from: folder)
            #expect(reloaded == annotations)
            let classes = try String(contentsOf: folder.appendingPathComponent("classes.txt"), encoding: .utf8)
            #expect(classes.split(separator: "\n").count == annotations.classes.count)
        }
    }

    @Test func aTrainingDatasetNeedsItsImages() throws {
        let temporary = try DatasetTemporaryFolder()
        let imported = try Self.voc.importTraining()
        guard let error = expectValidationError({ () throws(DatasetValidationError) in
            try imported.dataset(imageRoot: temporary.url, options: DatasetLoadOptions(maximumProblems: 3))
        }) else { return }
        #expect(error.totalProblemCount == 1_142)
        #expect(error.problems.map(\.line) == [1, 2, 3])
        #expect(error.problems.allSatisfy { $0.file == "voc_lt_train.txt" && $0.message.contains("not found") })
    }

    @Test func smallListImportsIntoADatasetWithItsImages() throws {
        let temporary = try DatasetTemporaryFolder()
        let imageRoot = try DatasetTestSupport.makeFolder(
            ["JPEGImages/1.jpg": try DatasetTestSupport.jpeg(), "JPEGImages/2.png": try DatasetTestSupport.png()],
            in: temporary)
        let imported = try LMPTListImporter.parse(
            labels: ("labels.txt", Data("fire hydrant 1\r\ncat 0 \r\nstop sign 2".utf8)),
            list: ("train.txt", Data("JPEGImages/1.jpg 1 0 \nJPEGImages/2.png 2\n".utf8)),
            captions: ("captions.txt", Data("JPEGImages/2.png   a   red sign\nelse/3.jpg a dog\n".utf8)))
        #expect(imported.annotations.classes == ["cat", "fire hydrant", "stop sign"])
        #expect(imported.report.imagesWithoutCaption == 1)
        #expect(imported.report.captionsWithoutImage == 1)
        #expect(imported.report.captionsInListOrder == false)
        let dataset = try imported.dataset(imageRoot: imageRoot)
        #expect(dataset.items == [DatasetItem(image: "JPEGImages/1.jpg", labels: [1, 0]),
                                  DatasetItem(image: "JPEGImages/2.png", labels: [2], caption: "a red sign")])
        #expect(dataset.caption(at: 0) == "a photo of a fire hydrant and a cat.")
        #expect(try dataset.imageBytes(at: 1) == [UInt8](try DatasetTestSupport.png()))

        // The writer can copy the images so the output folder is a dataset of its own.
        let output = temporary.url.appendingPathComponent("converted")
        try DatasetManifestWriter.write(imported.annotations, to: output, copyingImagesFrom: imageRoot)
        let loaded = try DatasetLoader.load(from: output)
        #expect(loaded.annotations == dataset.annotations)
        let manifest = try String(contentsOf: output.appendingPathComponent("manifest.jsonl"), encoding: .utf8)
        #expect(manifest.hasPrefix(#"{"image": "JPEGImages/1.jpg", "labels": ["fire hydrant", "cat"]}"#))
    }

    @Test func readsOneHotListsByOptionAndCutsCaptionsLikeTheOfficialCode() throws {
        let imported = try LMPTListImporter.parse(
            labels: ("labels.txt", Data("a 0\nb 1\nc 2\n".utf8)),
            list: ("train.txt", Data("x.jpg 0 1 1\ny.jpg 1 0 0\n".utf8)),
            captions: ("captions.txt", Data("x.jpg one two three four\ny.jpg five\n".utf8)),
            options: LMPTImportOptions(labelEncoding: .oneHot, captionCharacterLimit: 8))
        #expect(imported.annotations.items.map(\.labels) == [[1, 2], [0]])
        #expect(imported.annotations.items.map(\.caption) == ["one two", "five"])
    }

    @Test func reportsEveryProblemOfTheListFiles() throws {
        let error = expectValidationError { () throws(DatasetValidationError) in
            try LMPTListImporter.parse(
                labels: ("labels.txt", Data("cat 0\ndog 0\nbird\nowl 3\ncat 2\n".utf8)),
                list: ("train.txt", Data("a.jpg 0 9\nb.jpg x\na.jpg 1\n../c.jpg 0\nd.jpg 2 2\ne.jpg\n".utf8)),
                captions: ("captions.txt", Data("a.jpg first\na.jpg again\nb.jpg\n".utf8)))
        }
        let lines = error?.problems.map(\.description) ?? []
        #expect(lines == [
            "captions.txt:2: image: second caption for 'a.jpg' (first on line 1)",
            "captions.txt:3: caption: no caption text after the path",
            "labels.txt:2: id: id 0 already belongs to 'cat' (line 1)",
            "labels.txt:3: expected a class name then its id, as in 'traffic light 9'",
            "labels.txt:4: id: ids must be 0 to 2 (one per class), found 3",
            "labels.txt:5: cat: duplicate class name (first on line 1)",
            "train.txt:1: labels[1]: class id 9 is outside 0...2 (ids are 0-based)",
            "train.txt:2: labels[0]: 'x' is not a class id",
            "train.txt:3: image: duplicate image entry 'a.jpg' (first on line 1)",
            "train.txt:4: image: path escapes the dataset root with '..': '../c.jpg'",
            "train.txt:5: labels[1]: duplicate class id 2",
            "train.txt:6: labels: image has no labels (allow empty label sets to keep such images)",
        ])
    }
}
