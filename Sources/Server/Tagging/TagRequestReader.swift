import Foundation
import Hummingbird

/// One uploaded image: its encoded bytes and how to name it in results and errors.
struct UploadedImage: Sendable {
    let bytes: [UInt8]
    /// The multipart filename, when there was one.
    let filename: String?
    /// Where it came from in the request, for error `param`s (`body`, `images[1]`, `file`).
    let param: String
}

extension UploadedImage {
    /// An image sent in JSON: bare base64 or a data URL (`data:image/png;base64,…`); empty or
    /// malformed text is 422 naming `param`.
    init(base64 value: String, param: String) throws {
        var text = Substring(value)
        if text.hasPrefix("data:"), let comma = text.firstIndex(of: ",") { text = text[text.index(after: comma)...] }
        guard !text.isEmpty else {
            throw APIError(.unprocessableContent, code: "missing_image", message: "\(param) is empty", param: param)
        }
        guard let data = Data(base64Encoded: String(text)) else {
            throw APIError(.unprocessableContent, code: "invalid_base64", message: "\(param) is not valid base64", param: param)
        }
        self.init(bytes: [UInt8](data), filename: nil, param: param)
    }
}

/// A tagging request once its body is read: the images and the options.
struct TagInput: Sendable {
    var images: [UploadedImage]
    var options: TagOptions
}

/// Reads the three shapes of a tagging request into `TagInput`:
/// - a raw body with `Content-Type: image/jpeg` or `image/png`, options in the query;
/// - `multipart/form-data` with one or more image parts (and options as form fields or in the query);
/// - `application/json` with base64 images and the options in the body.
/// Anything else is 415; empty or malformed parts are 400/422 with the field as `param`.
struct TagRequestReader {
    static let rawImageTypes: Set<String> = ["image/jpeg", "image/jpg", "image/png"]

    let maxImages: Int

    func read(_ request: Request, context: TagTuneRequestContext) async throws -> TagInput {
        guard let header = request.headers[.contentType] else {
            throw unsupported("no Content-Type")
        }
        let contentType = HeaderValue(parsing: header)
        let body = try await request.body.collect(upTo: context.maxUploadSize)
        var input: TagInput
        switch contentType.value {
        case let type where Self.rawImageTypes.contains(type):
            guard body.readableBytes > 0 else {
                throw APIError(.unprocessableContent, code: "missing_image", message: "the body is empty; send the image's bytes", param: "body")
            }
            input = TagInput(images: [UploadedImage(bytes: Array(body.readableBytesView), filename: nil, param: "body")],
                             options: try queryOptions(request))
        case "multipart/form-data":
            input = try readMultipart(body, contentType: contentType, options: try queryOptions(request))
        case "application/json":
            if request.uri.queryParameters.contains(where: { TagOptions.names.contains(String($0.key)) }) {
                throw APIError(.unprocessableContent, code: "invalid_value",
                               message: "with a JSON body, options go in the body, not in the query", param: "query")
            }
            input = try readJSON(body)
        case let type where type.hasPrefix("image/"):
            throw unsupported("\(type) is not supported")
        default:
            throw unsupported("Content-Type \(contentType.value) is not accepted")
        }
        guard !input.images.isEmpty else {
            throw APIError(.unprocessableContent, code: "missing_image", message: "the request has no image", param: "images")
        }
        guard input.images.count <= maxImages else {
            throw APIError(.contentTooLarge, code: "too_many_images",
                           message: "\(input.images.count) images in one request; at most \(maxImages) (limits.max_images_per_request)",
                           param: "images")
        }
        try input.options.validate()
        return input
    }

    private func unsupported(_ what: String) -> APIError {
        APIError(.unsupportedMediaType, code: "unsupported_media_type",
                 message: "\(what); send image/jpeg or image/png, multipart/form-data with image parts, or application/json with base64 images")
    }

    private func queryOptions(_ request: Request) throws -> TagOptions {
        var options = TagOptions()
        for (name, value) in request.uri.queryParameters {
            try options.set(String(name), text: String(value), source: "query parameter")
        }
        return options
    }

    /// Image parts are those with a filename or an image content type; other parts are options.
    private func readMultipart(_ body: ByteBuffer, contentType: HeaderValue, options: TagOptions) throws -> TagInput {
        let form = try MultipartForm(body: body, contentType: contentType, maxParts: maxImages + TagOptions.names.count)
        var options = options
        var images: [UploadedImage] = []
        for (index, part) in form.parts.enumerated() {
            let isImage = part.filename != nil || (part.contentType?.hasPrefix("image/") ?? false)
            let param = part.name.map { "\($0)" } ?? "part \(index + 1)"
            if isImage {
                if let type = part.contentType, type.hasPrefix("image/"), !Self.rawImageTypes.contains(type) {
                    throw APIError(.unsupportedMediaType, code: "unsupported_media_type",
                                   message: "part \(index + 1) (\(part.filename ?? param)) is \(type); send image/jpeg or image/png",
                                   param: param)
                }
                guard !part.body.isEmpty else {
                    throw APIError(.unprocessableContent, code: "missing_image",
                                   message: "part \(index + 1) (\(part.filename ?? param)) is empty", param: param)
                }
                images.append(UploadedImage(bytes: part.body, filename: part.filename, param: "\(param)[\(images.count)]"))
            } else {
                guard let name = part.name else {
                    throw APIError(.unprocessableContent, code: "invalid_value",
                                   message: "part \(index + 1) has neither a name nor a filename", param: param)
                }
                guard let text = String(validating: part.body, as: UTF8.self) else {
                    throw APIError(.unprocessableContent, code: "invalid_value", message: "form field \(name) is not UTF-8 text", param: name)
                }
                try options.set(name, text: text, source: "form field")
            }
        }
        return TagInput(images: images, options: options)
    }

    private func readJSON(_ body: ByteBuffer) throws -> TagInput {
        let decoded = try JSONRequestBody.decode(TagJSONBody.self, from: body)
        let images = try decoded.images.enumerated().map { index, image in
            try UploadedImage(base64: image.base64, param: "images[\(index)].base64")
        }
        return TagInput(images: images, options: decoded.options)
    }
}
