import Foundation
import Hummingbird

/// Reads the two shapes of `POST /v1/embeddings`:
/// - `application/json`, OpenAI's shape: `{"input": "a text" | [item, …], "model", "encoding_format",
///   "normalize"}` where an item is a text, `{"text": "…"}` or `{"image": "<base64 or data: URL>"}`;
/// - `multipart/form-data`: image parts (a filename or an image content type) and `input` text
///   fields, embedded in the order of the parts, options as form fields.
/// Anything else is 415; a wrong field is 422 naming it; too many inputs 413.
struct EmbeddingsRequestReader {
    let maxImages: Int

    func read(_ request: Request, context: TagTuneRequestContext) async throws -> EmbeddingsRequest {
        guard let header = request.headers[.contentType] else { throw unsupported("no Content-Type") }
        let contentType = HeaderValue(parsing: header)
        if !request.uri.queryParameters.isEmpty {
            let name = String(request.uri.queryParameters.first!.key)
            throw APIError.unknownParameter(name, "query parameter '\(name)': options of /v1/embeddings go in the body")
        }
        let body = try await request.body.collect(upTo: context.maxUploadSize)
        let read: EmbeddingsRequest
        switch contentType.value {
        case "application/json":
            read = try JSONRequestBody.decode(EmbeddingsJSONBody.self, from: body).request
        case "multipart/form-data":
            read = try readMultipart(body, contentType: contentType)
        default:
            throw unsupported("Content-Type \(contentType.value) is not accepted")
        }
        try read.validate(maxImages: maxImages)
        return read
    }

    private func unsupported(_ what: String) -> APIError {
        APIError(.unsupportedMediaType, code: "unsupported_media_type",
                 message: "\(what); send application/json ({\"input\": [...]}) or multipart/form-data with image parts and input fields")
    }

    private func readMultipart(_ body: ByteBuffer, contentType: HeaderValue) throws -> EmbeddingsRequest {
        let form = try MultipartForm(body: body, contentType: contentType,
                                     maxParts: maxImages + EmbeddingsRequest.maxTexts + EmbeddingsRequest.fields.count)
        var request = EmbeddingsRequest(inputs: [])
        var seen: Set<String> = []
        for (index, part) in form.parts.enumerated() {
            let param = "input[\(request.inputs.count)]"
            let isImage = part.filename != nil || (part.contentType?.hasPrefix("image/") ?? false)
            if isImage {
                if let type = part.contentType, type.hasPrefix("image/"), !TagRequestReader.rawImageTypes.contains(type) {
                    throw APIError(.unsupportedMediaType, code: "unsupported_media_type",
                                   message: "part \(index + 1) (\(part.filename ?? param)) is \(type); send image/jpeg or image/png", param: param)
                }
                guard !part.body.isEmpty else {
                    throw APIError(.unprocessableContent, code: "missing_image", message: "part \(index + 1) (\(part.filename ?? param)) is empty",
                                   param: param)
                }
                request.inputs.append(.image(UploadedImage(bytes: part.body, filename: part.filename, param: param)))
                continue
            }
            guard let name = part.name else {
                throw APIError(.unprocessableContent, code: "invalid_value", message: "part \(index + 1) has neither a name nor a filename",
                               param: "part \(index + 1)")
            }
            guard let text = String(validating: part.body, as: UTF8.self) else {
                throw APIError(.unprocessableContent, code: "invalid_value", message: "form field \(name) is not UTF-8 text", param: name)
            }
            if name == "input" {
                request.inputs.append(.text(text))
            } else {
                guard seen.insert(name).inserted else {
                    throw APIError(.unprocessableContent, code: "duplicate_option", message: "\(name) is given more than once", param: name)
                }
                try request.set(name, text: text)
            }
        }
        return request
    }
}

/// The JSON body of `POST /v1/embeddings`. Unknown fields are refused (OpenAI's `user` is accepted
/// and ignored); token-id arrays, which OpenAI also takes, are refused by name.
struct EmbeddingsJSONBody: Decodable {
    let request: EmbeddingsRequest

    enum CodingKeys: String, CodingKey {
        case input, model, normalize, user
        case encodingFormat = "encoding_format"
    }

    /// `{"text": …}` or `{"image": …}`.
    struct Item: Decodable {
        enum CodingKeys: String, CodingKey { case text, image }
        let input: EmbeddingInput

        init(from decoder: any Decoder) throws {
            let param = JSONRequestBody.path(decoder.codingPath)
            if let text = try? decoder.singleValueContainer().decode(String.self) {
                input = .text(text)
                return
            }
            if (try? decoder.singleValueContainer().decode(Int.self)) != nil || (try? decoder.singleValueContainer().decode([Int].self)) != nil {
                throw APIError(.unprocessableContent, code: "invalid_type",
                               message: "\(param): token ids are not accepted; send the text, or {\"image\": base64}", param: param)
            }
            try decoder.rejectUnknownFields(allowed: ["text", "image"])
            let container = try decoder.container(keyedBy: CodingKeys.self)
            switch (try container.decodeIfPresent(String.self, forKey: .text), try container.decodeIfPresent(String.self, forKey: .image)) {
            case (let text?, nil):
                input = .text(text)
            case (nil, let image?):
                input = .image(try UploadedImage(base64: image, param: "\(param).image"))
            case (nil, nil):
                throw APIError(.unprocessableContent, code: "invalid_value", message: "\(param) needs a text or an image field", param: param)
            case (_?, _?):
                throw APIError(.unprocessableContent, code: "invalid_value", message: "\(param) has both text and image: one input is one of them",
                               param: param)
            }
        }
    }

    init(from decoder: any Decoder) throws {
        try decoder.rejectUnknownFields(allowed: EmbeddingsRequest.fields)
        let container = try decoder.container(keyedBy: CodingKeys.self)
        guard container.contains(.input) else { throw APIError.missingParameter("input") }
        let inputs: [EmbeddingInput]
        if let single = try? container.decode(String.self, forKey: .input) {
            inputs = [.text(single)]
        } else {
            inputs = try container.decode([Item].self, forKey: .input).map(\.input)
        }
        var request = EmbeddingsRequest(inputs: inputs)
        request.model = try container.decodeIfPresent(String.self, forKey: .model)
        if let format = try container.decodeIfPresent(String.self, forKey: .encodingFormat) {
            guard let encoding = EmbeddingEncoding(rawValue: format) else { throw EmbeddingsRequest.badEncoding(format) }
            request.encoding = encoding
        }
        request.normalize = try container.decodeIfPresent(Bool.self, forKey: .normalize) ?? true
        _ = try container.decodeIfPresent(String.self, forKey: .user)
        self.request = request
    }
}
