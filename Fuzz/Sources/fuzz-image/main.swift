// Image decoding (JPEG, PNG, EXIF orientation, alpha) and CLIP's resize, crop and normalisation on
// whatever decodes. Limits are small so that each input stays cheap.
import FuzzDriver
import Imaging

let options = DecodeOptions(limits: DecodeLimits(maxEncodedBytes: 1 << 20, maxPixelCount: 1 << 20))
let preprocess = try! CLIPPreprocess(shortestEdge: 32, cropSize: 32)
var output = [Float](repeating: 0, count: preprocess.outputCount)

FuzzDriver.run { bytes in
    guard let image = try? ImageDecoder.decode(bytes, options: options) else { return }
    output.withUnsafeMutableBufferPointer { buffer in _ = try? preprocess.apply(image, into: buffer) }
}
