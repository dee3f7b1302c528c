import Foundation
import Hummingbird
import MultipartKit

/// A dataset upload written to disk, with the name the client gave it (a form field or the file's name).
package struct ReceivedUpload: Sendable {
    let file: URL
    let nameField: String?
    let fileName: String?
}

/// Streams a `POST /v1/datasets` body to a file without holding it in memory: a raw zip
/// (`application/zip`), or `multipart/form-data` with one file part and optionally a `name` field.
/// More than `maximumBytes` is refused with 413, as soon as it is known.
enum DatasetUploadReceiver {
    /// Content types taken as a raw zip body.
    static let zipSubtypes: Set<String> = ["zip", "x-zip-compressed", "x-zip", "octet-stream"]

    static func receive(_ request: Request, to file: URL, maximumBytes: Int) async throws -> ReceivedUpload {
        if let declared = request.headers[.contentLength].flatMap({ Int($0) }), declared > maximumBytes {
            throw tooLarge(maximumBytes)
        }
        guard let header = request.headers[.contentType], let type = MediaType(from: header) else {
            throw unsupported(request.headers[.contentType])
        }
        FileManager.default.createFile(atPath: file.path, contents: nil)
        let handle = try FileHandle(forWritingTo: file)
        defer { try? handle.close() }

        if type.type == .application && zipSubtypes.contains(type.subType) {
            var received = 0
            for try await chunk in request.body {
                received += chunk.readableBytes
                if received > maximumBytes { throw tooLarge(maximumBytes) }
                try handle.write(contentsOf: chunk.readableBytesView)
            }
            return ReceivedUpload(file: file, nameField: nil, fileName: nil)
        }
        if type.type == .multipart && type.subType == "form-data" {
            guard let parameter = type.parameter, parameter.name.lowercased() == "boundary", !parameter.value.isEmpty else {
                throw APIError(.badRequest, code: "malformed_multipart", message: "multipart/form-data needs a boundary parameter")
            }
            let reader = MultipartZipReader(boundary: parameter.value, handle: handle)
            var received = 0
            for try await chunk in request.body {
                received += chunk.readableBytes
                if received > maximumBytes { throw tooLarge(maximumBytes) }
                try reader.consume(chunk)
            }
            return try reader.finish(file: file)
        }
        throw unsupported(header)
    }

    static func tooLarge(_ maximumBytes: Int) -> APIError {
        APIError(.contentTooLarge, code: "dataset_too_large",
                 message: "the upload is over datasets.max_upload_bytes (\(maximumBytes) bytes)")
    }

    static func unsupported(_ header: String?) -> APIError {
        APIError(.unsupportedMediaType, code: "unsupported_media_type",
                 message: "send the dataset as a zip (Content-Type: application/zip) or as multipart/form-data with one file; got \(header.map { "'\($0)'" } ?? "no Content-Type")")
    }
}

/// Feeds a multipart body to MultipartKit's streaming parser, writing the one file part to disk
/// and keeping the small `name` field. Problems found inside the parser's callbacks are kept and
/// thrown after each chunk.
package final class MultipartZipReader {
    private let guarded: GuardedMultipartParser
    private let handle: FileHandle
    private var headers: [(String, String)] = []
    private var part: Part?
    private var files = 0
    /// The file part was closed by a boundary: a body cut off inside it is refused, not imported.
    private var fileComplete = false
    private var nameField: [UInt8] = []
    private var fileName: String?
    private var problem: Error?

    private enum Part { case file, name }

    static let maximumNameBytes = 1024

    package init(boundary: String, handle: FileHandle) {
        guarded = GuardedMultipartParser(boundary: boundary)
        self.handle = handle
        let parser = guarded.parser
        parser.onHeader = { [unowned self] name, value in headers.append((name, value)) }
        parser.onBody = { [unowned self] buffer in
            guard problem == nil else { return }
            do {
                switch try currentPart() {
                case .file: try handle.write(contentsOf: buffer.readableBytesView)
                case .name:
                    nameField += buffer.readableBytesView
                    if nameField.count > Self.maximumNameBytes {
                        throw APIError(.unprocessableContent, code: "invalid_name",
                                       message: "the name field is over \(Self.maximumNameBytes) bytes", param: "name")
                    }
                }
            } catch { problem = error }
        }
        parser.onPartComplete = { [unowned self] in
            if problem == nil { do { if try currentPart() == .file { fileComplete = true } } catch { problem = error } }
            headers = []
            part = nil
        }
    }

    /// What the part being read is, decided from its headers on first use.
    private func currentPart() throws -> Part {
        if let part { return part }
        let disposition = headers.first { $0.0.lowercased() == "content-disposition" }.map { ContentDisposition($0.1) }
        let decided: Part
        // The file part: any part with a filename, or one named `file` without one (what
        // `curl -F 'file=<data.zip'` sends).
        let filename = disposition?.filename
        if filename != nil || disposition?.name == "file" {
            files += 1
            guard files == 1 else {
                throw APIError(.unprocessableContent, code: "too_many_files",
                               message: "send one dataset zip per request; this body has more than one file part",
                               param: disposition?.name)
            }
            fileName = filename
            decided = .file
        } else if disposition?.name == "name" {
            decided = .name
        } else {
            let field = disposition?.name ?? "(unnamed)"
            throw APIError.unknownParameter(field, "unknown form field '\(field)': send one file part and optionally a 'name' field")
        }
        part = decided
        return decided
    }

    package func consume(_ chunk: ByteBuffer) throws {
        do { try guarded.execute(chunk) } catch {
            throw APIError(.badRequest, code: "malformed_multipart", message: "the multipart body cannot be parsed")
        }
        if let problem { throw problem }
    }

    package func finish(file: URL) throws -> ReceivedUpload {
        if let problem { throw problem }
        guard files == 1 else {
            throw APIError(.unprocessableContent, code: "missing_file",
                           message: "the multipart body has no file part; attach the dataset zip as a file", param: "file")
        }
        guard fileComplete else {
            throw APIError(.badRequest, code: "malformed_multipart",
                           message: "the multipart body ends inside its file part, before the closing boundary")
        }
        let name = nameField.isEmpty ? nil : String(decoding: nameField, as: UTF8.self)
        return ReceivedUpload(file: file, nameField: name, fileName: fileName)
    }
}
