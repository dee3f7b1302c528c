/// One uploaded image: its encoded bytes and how to name it in results and errors.
struct UploadedImage: Sendable {
    let bytes: [UInt8]
    /// The multipart filename, when there was one.
    let filename: String?
    /// Where it came from in the request, for error `param`s (`body`, `images[1]`, `file`).
    let param: String
}

/// A tagging request once its body is read: the images and the options.
struct TagInput: Sendable {
    var images: [UploadedImage]
    var options: TagOptions
}
