import Foundation
import Testing
@testable import Tuning

@Suite("Validation split: given or held out")
struct DatasetSplitTests {
    static func benchmark(_ folder: String) throws -> DatasetAnnotations {
        let root = try DatasetTestSupport.lmptAnnotations().appendingPathComponent(folder)
        return try LMPTListImporter.importAnnotations(
            labelFile: root.appendingPathComponent("\(folder)_labels.txt"),
            listFile: root.appendingPathComponent("\(folder)_lt_train.txt")).annotations
    }

    @Test(arguments: ["voc", "coco"])
    func heldOutSplitIsStratifiedDisjointAndComplete(folder: String) throws {
        let annotations = try Self.benchmark(folder)
        let split = try HeldOutSplit(annotations: annotations, fraction: 0.1, seed: 7)
        let total = annotations.items.count
        #expect(Set(split.training).isDisjoint(with: split.validation))
        #expect((split.training + split.validation).sorted() == Array(0..<total))
        #expect(split.training == split.training.sorted() && split.validation == split.validation.sorted())
        let trainingCounts = annotations.subset(split.training).classCounts
        let validationCounts = annotations.subset(split.validation).classCounts
        // Every class (all have at least 4 images) keeps training images and has a validation image.
        #expect(trainingCounts.allSatisfy { $0 >= 1 })
        #expect(validationCounts.allSatisfy { $0 >= 1 })
        // About 10%: the per-class guarantee may add a few images beyond the target.
        let target = Int((0.1 * Double(total)).rounded())
        #expect(split.validation.count >= target)
        #expect(split.validation.count <= target + annotations.classes.count)
        print("\(folder) hold-out (10%, seed 7): \(split.training.count) train / \(split.validation.count) validation, "
              + "target \(target); validation counts \(validationCounts)")
    }

    @Test func sameSeedSameSplitAndOtherSeedsDiffer() throws {
        let annotations = try Self.benchmark("voc")
        let first = try HeldOutSplit(annotations: annotations, fraction: 0.1, seed: 42)
        let again = try HeldOutSplit(annotations: annotations, fraction: 0.1, seed: 42)
        let other = try HeldOutSplit(annotations: annotations, fraction: 0.1, seed: 43)
        #expect(first == again)
        #expect(first.validation != other.validation)
    }

    @Test func fractionIsConfigurable() throws {
        let annotations = try Self.benchmark("coco")
        let split = try HeldOutSplit(annotations: annotations, fraction: 0.25, seed: 1)
        let target = Int((0.25 * Double(annotations.items.count)).rounded())
        #expect(split.validation.count == target)
        for fraction in [0.0, 1.0, -0.1, .nan] {
            #expect(throws: TuningError.self) { try HeldOutSplit(annotations: annotations, fraction: fraction, seed: 1) }
        }
    }

    @Test func rareClassesKeepATrainingImageAndGetAValidationImageWhenPossible() throws {
        // "owl" has 3 images (one shared with "yak"), "yak" only 1: owl gets a validation image, yak stays.
        var items = (0..<20).map { DatasetItem(image: "dog\($0).jpg", labels: [0]) }
        items += [DatasetItem(image: "owl0.jpg", labels: [1, 0]), DatasetItem(image: "owl1.jpg", labels: [1]),
                  DatasetItem(image: "yak.jpg", labels: [2, 1])]
        let annotations = try DatasetAnnotations(classes: ["dog", "owl", "yak"], items: items)
        for seed in UInt64(0)..<20 {
            let split = try HeldOutSplit(annotations: annotations, fraction: 0.1, seed: seed)
            let training = annotations.subset(split.training).classCounts
            let validation = annotations.subset(split.validation).classCounts
            #expect(training.allSatisfy { $0 >= 1 }, "seed \(seed)")
            #expect(validation[0] >= 1 && validation[1] == 1 && validation[2] == 0, "seed \(seed)")
            // The owl image without other labels is the one held out: it disturbs no other class.
            #expect(split.validation.contains(21), "seed \(seed)")
        }
        #expect(throws: TuningError.self) {
            try HeldOutSplit(annotations: annotations.subset([0]), fraction: 0.5, seed: 0)
        }
    }

    @Test func splitsADatasetIntoTwoThatReadTheSameImages() throws {
        let temporary = try DatasetTemporaryFolder()
        let jpeg = try DatasetTestSupport.jpeg()
        var files = ["classes.txt": DatasetTestSupport.text(["dog", "cat"])]
        var lines: [String] = []
        for index in 0..<10 {
            files["\(index).jpg"] = jpeg
            lines.append(#"{"image": "\#(index).jpg", "labels": ["\#(index < 6 ? "dog" : "cat")"]}"#)
        }
        files["manifest.jsonl"] = DatasetTestSupport.text(lines)
        let dataset = try DatasetLoader.load(from: try DatasetTestSupport.makeFolder(files, in: temporary))
        let (training, validation) = try DatasetSplitter.split(dataset, using: .heldOut(fraction: 0.2, seed: 3))
        #expect(training.items.count == 8 && validation.items.count == 2)
        #expect(validation.classCounts == [1, 1])
        #expect(training.classCounts == [5, 3])
        #expect(try validation.imageBytes(at: 0) == [UInt8](jpeg))
        #expect(Set(training.items.map(\.image)).isDisjoint(with: validation.items.map(\.image)))
    }

    @Test func givenValidationSetsMustHaveTheSameClasses() throws {
        let temporary = try DatasetTemporaryFolder()
        let png = try DatasetTestSupport.png()
        func dataset(_ classes: [String], _ lines: [String]) throws -> Dataset {
            var files = ["classes.txt": DatasetTestSupport.text(classes), "manifest.jsonl": DatasetTestSupport.text(lines)]
            files["a.png"] = png
            files["b.png"] = png
            return try DatasetLoader.load(from: try DatasetTestSupport.makeFolder(files, in: temporary))
        }
        let training = try dataset(["dog", "cat"], [#"{"image": "a.png", "labels": ["dog"]}"#,
                                                    #"{"image": "b.png", "labels": ["cat"]}"#])
        let reordered = try dataset(["cat", "dog"], [#"{"image": "a.png", "labels": ["dog", "cat"]}"#,
                                                     #"{"image": "b.png", "labels": ["cat"]}"#])
        let (_, validation) = try DatasetSplitter.split(training, using: .given(reordered))
        #expect(validation.classes == ["dog", "cat"])
        #expect(validation.items.map(\.labels) == [[0, 1], [1]])
        #expect(validation.classCounts == [1, 2])

        let different = try dataset(["dog", "owl"], [#"{"image": "a.png", "labels": ["dog"]}"#,
                                                     #"{"image": "b.png", "labels": ["owl"]}"#])
        do {
            _ = try DatasetSplitter.split(training, using: .given(different))
            Issue.record("a validation set with other classes was accepted")
        } catch let error as DatasetValidationError {
            #expect(error.problems.map(\.description) == [
                "classes.txt: cat: training class is missing from the validation dataset",
                "classes.txt: owl: validation class is not a class of the training dataset",
            ])
        }
    }
}
