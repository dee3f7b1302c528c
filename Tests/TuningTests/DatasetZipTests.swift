import Foundation
import Testing
@testable import Tuning

@Suite("Dataset zip: reading, zip-slip, symlinks and zip bombs")
struct DatasetZipTests {
    typealias Entry = DatasetTestSupport.ZipEntry
    let temporary: DatasetTemporaryFolder

    init() throws { temporary = try DatasetTemporaryFolder() }

    private func textEntries(prefix: String = "", manifest: [String], classes: [String] = ["dog", "person"]) -> [Entry] {
        [Entry(path: prefix + "classes.txt", bytes: DatasetTestSupport.text(classes)),
         Entry(path: prefix + "manifest.jsonl", bytes: DatasetTestSupport.text(manifest))]
    }

    private func refusal(_ url: URL, options: DatasetLoadOptions = DatasetLoadOptions(),
                         sourceLocation: SourceLocation = #_sourceLocation) -> DatasetValidationError? {
        expectValidationError({ () throws(DatasetValidationError) in try DatasetLoader.load(from: url, options: options) },
                              sourceLocation: sourceLocation)
    }

    @Test func loadsAZipAndReadsImagesFromItsEntries() throws {
        let jpeg = try DatasetTestSupport.jpeg()
        let png = try DatasetTestSupport.png()
        let url = try DatasetTestSupport.makeZip(textEntries(manifest: [
            #"{"image": "img/a.jpg", "labels": ["dog", "person"], "caption": "a man and his dog"}"#,
            #"{"image": "img/b.png", "labels": ["person"]}"#,
        ]) + [Entry(path: "img/a.jpg", bytes: jpeg, compression: .none), Entry(path: "img/b.png", bytes: png)],
            in: temporary)
        let dataset = try DatasetLoader.load(from: url)
        #expect(dataset.location == url)
        #expect(dataset.classCounts == [1, 2])
        #expect(try dataset.imageBytes(at: 0) == [UInt8](jpeg))
        #expect(try dataset.imageBytes(at: 1) == [UInt8](png))
        #expect(dataset.caption(at: 1) == "a photo of a person.")
    }

    @Test func findsTheDatasetInsideAZippedFolder() throws {
        let jpeg = try DatasetTestSupport.jpeg()
        let url = try DatasetTestSupport.makeZip(
            textEntries(prefix: "my-dataset/", manifest: [#"{"image": "a.jpg", "labels": ["dog"]}"#])
                + [Entry(path: "my-dataset/a.jpg", bytes: jpeg),
                   Entry(path: "__MACOSX/my-dataset/._manifest.jsonl", bytes: Data([0, 1]))],
            in: temporary)
        let dataset = try DatasetLoader.load(from: url)
        #expect(dataset.items == [DatasetItem(image: "a.jpg", labels: [0])])
        #expect(try dataset.imageBytes(at: 0) == [UInt8](jpeg))
    }

    @Test func refusesEntriesThatEscapeTheRootOrAreAbsolute() throws {
        let jpeg = try DatasetTestSupport.jpeg()
        let url = try DatasetTestSupport.makeZip(
            textEntries(manifest: [#"{"image": "a.jpg", "labels": ["dog"]}"#]) + [
                Entry(path: "a.jpg", bytes: jpeg),
                Entry(path: "../../evil.jpg", bytes: jpeg),
                Entry(path: "img/../../evil2.jpg", bytes: jpeg),
                Entry(path: "/etc/evil3.jpg", bytes: jpeg),
                Entry(path: "img\\..\\evil4.jpg", bytes: jpeg),
            ], in: temporary)
        guard let error = refusal(url) else { return }
        let name = url.lastPathComponent
        #expect(error.problem(file: name, field: "../../evil.jpg")?.message.contains("escapes the dataset root") == true)
        #expect(error.problem(file: name, field: "img/../../evil2.jpg")?.message.contains("escapes") == true)
        #expect(error.problem(file: name, field: "/etc/evil3.jpg")?.message.contains("absolute") == true)
        #expect(error.problem(file: name, field: "img\\..\\evil4.jpg")?.message.contains("backslash") == true)
        #expect(error.totalProblemCount == 4)
    }

    @Test func refusesSymbolicLinks() throws {
        let url = try DatasetTestSupport.makeZip(
            textEntries(manifest: [#"{"image": "a.jpg", "labels": ["dog"]}"#]) + [
                Entry(path: "a.jpg", bytes: Data("/etc/passwd".utf8), isSymlink: true),
            ], in: temporary)
        guard let error = refusal(url) else { return }
        #expect(error.problems == [DatasetProblem(file: url.lastPathComponent, field: "a.jpg",
                                                  message: "symbolic links are not allowed in a dataset archive")])
    }

    @Test func refusesHighlyCompressedEntriesAndTooMuchInflatedData() throws {
        let zeros = Data(count: 4 << 20)  // deflates about 1000 to 1
        let entries = textEntries(manifest: [#"{"image": "a.jpg", "labels": ["dog"]}"#]) + [
            Entry(path: "a.jpg", bytes: try DatasetTestSupport.jpeg()),
            Entry(path: "padding.bin", bytes: zeros),
        ]
        let url = try DatasetTestSupport.makeZip(entries, in: temporary)
        guard let bomb = refusal(url) else { return }
        #expect(bomb.problem(field: "padding.bin")?.message.contains("zip bomb") == true)

        var generous = ZipLimits.default
        generous.maximumCompressionRatio = 10_000
        #expect(try DatasetLoader.load(from: url, options: DatasetLoadOptions(zipLimits: generous)).items.count == 1)

        var small = generous
        small.maximumTotalUncompressedBytes = 1 << 20
        guard let tooBig = refusal(url, options: DatasetLoadOptions(zipLimits: small)) else { return }
        #expect(tooBig.problems.first?.message.contains("the limit is 1048576") == true)

        var few = generous
        few.maximumEntryCount = 3
        guard let tooMany = refusal(url, options: DatasetLoadOptions(zipLimits: few)) else { return }
        #expect(tooMany.problems.first?.message == "more than 3 entries; the limit is 3")
    }

    @Test func refusesAnEntryThatInflatesPastItsDeclaredSize() throws {
        let jpeg = try DatasetTestSupport.jpeg()
        let url = try DatasetTestSupport.makeZip(
            textEntries(manifest: [#"{"image": "a.jpg", "labels": ["dog"]}"#]) + [Entry(path: "a.jpg", bytes: jpeg)],
            in: temporary)
        // Understate a.jpg's size in its local header and central directory entry, as a bomb would.
        var bytes = try Data(contentsOf: url)
        try Self.patchUncompressedSize(of: "a.jpg", in: &bytes, to: 100)
        try bytes.write(to: url)
        guard let error = refusal(url) else { return }
        #expect(error.problem(line: 1, field: "image")?.message.contains("inflates past its declared 100 bytes") == true)
    }

    @Test func namesWhatIsMissingFromAnArchive() throws {
        let onlyClasses = try DatasetTestSupport.makeZip(
            [Entry(path: "classes.txt", bytes: DatasetTestSupport.text(["dog"]))], in: temporary)
        #expect(refusal(onlyClasses)?.problems.first?.message == "no manifest.jsonl in the archive")

        let noClasses = try DatasetTestSupport.makeZip(
            [Entry(path: "manifest.jsonl", bytes: DatasetTestSupport.text([#"{"image": "a.jpg", "labels": ["dog"]}"#]))],
            in: temporary)
        guard let error = refusal(noClasses) else { return }
        #expect(error.problem(file: "classes.txt")?.message.contains("missing from the archive") == true)
        #expect(error.problem(file: "manifest.jsonl", line: 1, field: "image")?.message.contains("not found") == true)

        let notAZip = temporary.url.appendingPathComponent("notes.zip")
        try Data("just text".utf8).write(to: notAZip)
        #expect(refusal(notAZip)?.problems.first?.message.contains("not a readable zip archive") == true)
    }

    /// Rewrites the uncompressed-size field of `path`'s local header (offset 22) and central
    /// directory record (offset 24).
    private static func patchUncompressedSize(of path: String, in bytes: inout Data, to size: UInt32) throws {
        let name = Array(path.utf8)
        var patched = 0
        let littleEndian = withUnsafeBytes(of: size.littleEndian) { Array($0) }
        for offset in 0..<(bytes.count - 46) {
            let signature = bytes[offset..<offset + 4]
            if signature.elementsEqual([0x50, 0x4B, 0x03, 0x04]),
               bytes[(offset + 30)..<(offset + 30 + name.count)].elementsEqual(name) {
                bytes.replaceSubrange((offset + 22)..<(offset + 26), with: littleEndian)
                patched += 1
            } else if signature.elementsEqual([0x50, 0x4B, 0x01, 0x02]),
                      bytes[(offset + 46)..<(offset + 46 + name.count)].elementsEqual(name) {
                bytes.replaceSubrange((offset + 24)..<(offset + 28), with: littleEndian)
                patched += 1
            }
        }
        try #require(patched == 2, "expected a local header and a central directory record for \(path)")
    }
}
