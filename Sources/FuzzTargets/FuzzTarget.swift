import CLIP
import Foundation
import Imaging
import NIOCore
import Server
import Tuning

/// What each fuzz target hands its decoder, and what must hold after. Two drivers run them:
/// libFuzzer in Fuzz/ (coverage-guided, with AddressSanitizer, a build of its own: `make fuzz`),
/// and the test suite, which replays every committed corpus and regression input and a seeded
/// batch of mutations of them through the same bodies in each `make test` (FuzzTargetTests).
/// Errors thrown are expected answers to bad input; a trap (a crash, a failed `precondition`)
/// is a finding.
public enum FuzzTarget: String, CaseIterable, Sendable {
    /// Image decoding (JPEG, PNG, EXIF orientation, alpha) and CLIP's resize, crop and normalisation.
    case image
    /// A safetensors file as the server opens one: mapped, its header checked, small tensors read.
    case safetensors
    /// CLIP's tokenizer on any bytes read as UTF-8, with the real vocabulary from the test fixtures.
    case tokenizer
    /// A dataset upload: a zip (input starting "PK"), or `classes.txt`, a NUL byte, `manifest.jsonl`.
    case dataset
    /// Multipart bodies through both parsers: the tagging route's and the dataset upload's streaming one.
    case multipart
    /// The configuration loader on a YAML (or JSON) file.
    case configuration

    /// The repository this file is in: the tokenizer's fixtures, Fuzz/corpus and Fuzz/regressions.
    public static let repository = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

    /// Runs one input.
    public func run(_ bytes: UnsafeRawBufferPointer) {
        switch self {
        case .image: Self.image(bytes)
        case .safetensors: Self.safetensors(bytes)
        case .tokenizer: Self.tokenizer(bytes)
        case .dataset: Self.dataset(bytes)
        case .multipart: Self.multipart(bytes)
        case .configuration: Self.configuration(bytes)
        }
    }

    // Limits are small so that each input stays cheap.
    private static let decodeOptions = DecodeOptions(limits: DecodeLimits(maxEncodedBytes: 1 << 20, maxPixelCount: 1 << 20))
    private static let preprocess = try! CLIPPreprocess(shortestEdge: 32, cropSize: 32)

    private static func image(_ bytes: UnsafeRawBufferPointer) {
        guard let image = try? ImageDecoder.decode(bytes, options: decodeOptions) else { return }
        var output = [Float](repeating: 0, count: preprocess.outputCount)
        output.withUnsafeMutableBufferPointer { buffer in _ = try? preprocess.apply(image, into: buffer) }
    }

    private static func safetensors(_ bytes: UnsafeRawBufferPointer) {
        let file = scratchFile(named: "input.safetensors")
        guard write(bytes, to: file), let tensors = try? SafeTensorsFile(url: file) else { return }
        for info in tensors.infos where info.elementCount <= 1 << 16 {
            _ = try? tensors.floats(info.name)
        }
    }

    private static let vocabulary = try! CLIPTokenizer(mergesArchive: repository
        .appendingPathComponent("Tests/Fixtures/tokenizer").appendingPathComponent(CLIPTokenizer.mergesArchiveName))

    private static func tokenizer(_ bytes: UnsafeRawBufferPointer) {
        let tokens = vocabulary.tokenize(String(decoding: bytes, as: UTF8.self))
        // Start and end tokens around at most 75 ids (not padded).
        precondition((2...CLIPTokenizer.defaultContextLength).contains(tokens.count), "\(tokens.count) tokens")
        precondition(tokens.first == vocabulary.startTokenID && tokens.last == vocabulary.endTokenID, "no start or end token")
        precondition(tokens.allSatisfy { $0 >= 0 && Int($0) < vocabulary.vocabularySize }, "an id outside the vocabulary")
    }

    private static let datasetOptions = DatasetLoadOptions(
        decodeLimits: DecodeLimits(maxEncodedBytes: 1 << 20, maxPixelCount: 1 << 20), maximumProblems: 20,
        maximumItems: 10_000, maximumClasses: 1000, maximumTextFileBytes: 1 << 20,
        zipLimits: ZipLimits(maximumEntryCount: 1000, maximumTotalUncompressedBytes: 8 << 20, maximumCompressionRatio: 200))

    private static func dataset(_ bytes: UnsafeRawBufferPointer) {
        if bytes.count >= 2, bytes[0] == UInt8(ascii: "P"), bytes[1] == UInt8(ascii: "K") {
            let zip = scratchFile(named: "dataset.zip")
            guard write(bytes, to: zip) else { return }
            _ = try? DatasetLoader.load(from: zip, options: datasetOptions)
        } else {
            let split = bytes.firstIndex(of: 0) ?? bytes.count
            let classes = Data(bytes[..<split])
            let manifest = split < bytes.count ? Data(bytes[(split + 1)...]) : Data()
            _ = try? DatasetLoader.parseAnnotations(manifest: manifest, classes: classes, options: datasetOptions)
        }
    }

    nonisolated(unsafe) private static let devNull = FileHandle(forWritingAtPath: "/dev/null")!

    /// The first byte chooses where the streaming parser's two chunks split; the rest is the body.
    private static func multipart(_ bytes: UnsafeRawBufferPointer) {
        guard let first = bytes.first else { return }
        let body = ByteBuffer(bytes: bytes.dropFirst())
        _ = try? MultipartForm(body: body, contentType: HeaderValue(parsing: "multipart/form-data; boundary=fuzz-boundary"),
                               maxParts: 16)
        let reader = MultipartZipReader(boundary: "fuzz-boundary", handle: devNull)
        let cut = body.readableBytes == 0 ? 0 : Int(first) % (body.readableBytes + 1)
        do {
            try reader.consume(body.getSlice(at: 0, length: cut)!)
            try reader.consume(body.getSlice(at: cut, length: body.readableBytes - cut)!)
            _ = try reader.finish(file: URL(fileURLWithPath: "/dev/null"))
        } catch {}
    }

    private static func configuration(_ bytes: UnsafeRawBufferPointer) {
        let file = scratchFile(named: "tagtune.yaml")
        guard write(bytes, to: file) else { return }
        _ = try? ServerConfiguration.load(file: file.path, environment: [:], flags: [:])
    }

    /// A file for targets whose code under test reads files (zips, configuration, mapped
    /// safetensors), in a folder of this process's own, on tmpfs when there is one.
    private static func scratchFile(named name: String) -> URL {
        let base = FileManager.default.fileExists(atPath: "/dev/shm") ? "/dev/shm" : NSTemporaryDirectory()
        let folder = URL(fileURLWithPath: base).appendingPathComponent("tagtune-fuzz-\(getpid())")
        try? FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        return folder.appendingPathComponent(name)
    }

    private static func write(_ bytes: UnsafeRawBufferPointer, to url: URL) -> Bool {
        (try? Data(bytes).write(to: url)) != nil
    }
}
