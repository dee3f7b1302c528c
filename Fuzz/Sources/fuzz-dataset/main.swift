// A dataset upload: an input starting with "PK" is a zip, loaded as the importer loads one
// (entries, paths, limits, classes.txt, manifest.jsonl, every image decoded); any other input is
// `classes.txt`, a NUL byte, then `manifest.jsonl`, parsed from memory.
import Foundation
import FuzzDriver
import Imaging
import Tuning

let zip = FuzzDriver.scratchFile(named: "dataset.zip")
let options = DatasetLoadOptions(
    decodeLimits: DecodeLimits(maxEncodedBytes: 1 << 20, maxPixelCount: 1 << 20), maximumProblems: 20,
    maximumItems: 10_000, maximumClasses: 1000, maximumTextFileBytes: 1 << 20,
    zipLimits: ZipLimits(maximumEntryCount: 1000, maximumTotalUncompressedBytes: 8 << 20, maximumCompressionRatio: 200))

FuzzDriver.run { bytes in
    if bytes.count >= 2, bytes[0] == UInt8(ascii: "P"), bytes[1] == UInt8(ascii: "K") {
        guard FuzzDriver.write(bytes, to: zip) else { return }
        _ = try? DatasetLoader.load(from: zip, options: options)
    } else {
        let split = bytes.firstIndex(of: 0) ?? bytes.count
        let classes = Data(bytes[..<split])
        let manifest = split < bytes.count ? Data(bytes[(split + 1)...]) : Data()
        _ = try? DatasetLoader.parseAnnotations(manifest: manifest, classes: classes, options: options)
    }
}
