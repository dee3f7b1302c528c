import SystemZlib

/// gzip decompression through zlib (concatenated members are decompressed in turn, as Python's
/// `gzip` module does).
enum Gzip {
    static func decompress(_ data: [UInt8]) throws -> [UInt8] {
        guard !data.isEmpty else { throw CLIPError.tokenizer("empty gzip data") }
        var stream = z_stream()
        // 15 window bits + 16: expect a gzip header (the macro inflateInit2 is not visible to Swift).
        var status = inflateInit2_(&stream, 15 + 16, zlibVersion(), Int32(MemoryLayout<z_stream>.size))
        guard status == Z_OK else { throw CLIPError.tokenizer("zlib inflateInit2 failed (\(status))") }
        defer { inflateEnd(&stream) }

        var output = [UInt8]()
        output.reserveCapacity(data.count * 4)
        var chunk = [UInt8](repeating: 0, count: 1 << 16)
        var input = data
        try input.withUnsafeMutableBufferPointer { inputBuffer in
            stream.next_in = inputBuffer.baseAddress
            stream.avail_in = UInt32(inputBuffer.count)
            while true {
                let produced = chunk.withUnsafeMutableBufferPointer { chunkBuffer -> Int in
                    stream.next_out = chunkBuffer.baseAddress
                    stream.avail_out = UInt32(chunkBuffer.count)
                    status = inflate(&stream, Z_NO_FLUSH)
                    return chunkBuffer.count - Int(stream.avail_out)
                }
                output.append(contentsOf: chunk[0..<produced])
                switch status {
                case Z_OK:
                    if stream.avail_in == 0 && produced == 0 {
                        throw CLIPError.tokenizer("truncated gzip data")
                    }
                case Z_STREAM_END:
                    if stream.avail_in == 0 { return }
                    guard inflateReset(&stream) == Z_OK else { throw CLIPError.tokenizer("zlib inflateReset failed") }
                case Z_BUF_ERROR where stream.avail_in == 0:
                    throw CLIPError.tokenizer("truncated gzip data")
                default:
                    let message = stream.msg.map { String(cString: $0) } ?? "status \(status)"
                    throw CLIPError.tokenizer("invalid gzip data (\(message))")
                }
            }
        }
        return output
    }
}
