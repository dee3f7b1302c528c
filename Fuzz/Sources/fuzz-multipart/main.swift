// Multipart bodies, both parsers: the tagging route's `MultipartForm` (whole body in memory) and
// the dataset upload's streaming `MultipartZipReader` (the body in two chunks, the file part
// written to /dev/null). The first input byte chooses where the chunks split.
import Foundation
import FuzzDriver
import NIOCore
@testable import Service

let contentType = HeaderValue(parsing: "multipart/form-data; boundary=fuzz-boundary")
let sink = FileHandle(forWritingAtPath: "/dev/null")!
let file = URL(fileURLWithPath: "/dev/null")

FuzzDriver.run { bytes in
    guard let first = bytes.first else { return }
    let body = ByteBuffer(bytes: bytes.dropFirst())
    _ = try? MultipartForm(body: body, contentType: contentType, maxParts: 16)

    let reader = MultipartZipReader(boundary: "fuzz-boundary", handle: sink)
    let cut = body.readableBytes == 0 ? 0 : Int(first) % (body.readableBytes + 1)
    do {
        try reader.consume(body.getSlice(at: 0, length: cut)!)
        try reader.consume(body.getSlice(at: cut, length: body.readableBytes - cut)!)
        _ = try reader.finish(file: file)
    } catch {}
}
