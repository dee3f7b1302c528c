import Foundation
import Imaging

/// An uploaded image decoded and preprocessed for its encoder.
struct PreparedImage: Sendable {
    /// CHW Float32, `3 × size × size`.
    let pixels: [Float]
    let width: Int
    let height: Int
    let decodeDuration: Duration
}

/// Decodes and preprocesses uploaded images off the cooperative pool, with the configured
/// limits checked before any pixel is decoded, and maps the decoder's errors to the API's:
/// an unsupported format → 415, a broken or truncated image → 422, too many pixels → 413,
/// each with the decoder's own message and the image as `param`.
enum ImagePreparation {
    static func prepare(_ images: [UploadedImage], for encoder: LoadedEncoder, limits: DecodeLimits) async throws -> [PreparedImage] {
        return try await OffloadedWork.run { try images.map { try prepareNow($0, for: encoder, limits: limits) } }
    }

    /// One image, on the calling thread (blocking): for callers already off the cooperative pool.
    static func prepareNow(_ image: UploadedImage, for encoder: LoadedEncoder, limits: DecodeLimits) throws -> PreparedImage {
        let start = ContinuousClock.now
        let decoded: RGBImage
        do {
            decoded = try ImageDecoder.decode(image.bytes, options: DecodeOptions(limits: limits))
        } catch let error as ImagingError {
            throw apiError(error, image: image)
        }
        let pixels = encoder.model.preprocess.apply(decoded)   // its crop matches the model: CLIPModel checks at load
        return PreparedImage(pixels: pixels, width: decoded.width, height: decoded.height, decodeDuration: ContinuousClock.now - start)
    }

    static func apiError(_ error: ImagingError, image: UploadedImage) -> APIError {
        let name = image.filename.map { "\(image.param) (\($0))" } ?? image.param
        switch error {
        case .unsupportedFormat(let message):
            return APIError(.unsupportedMediaType, code: "unsupported_image_format", message: "\(name): \(message)", param: image.param)
        case .corrupt(let message):
            return APIError(.unprocessableContent, code: "invalid_image", message: "\(name) cannot be decoded: \(message)", param: image.param)
        case .tooLarge(let message):
            return APIError(.contentTooLarge, code: "image_too_large", message: "\(name) is too large: \(message)", param: image.param)
        case .invalidArgument(let message):
            return APIError(.unprocessableContent, code: "invalid_image", message: "\(name): \(message)", param: image.param)
        }
    }
}
