import Foundation

/// A zip of images to tag, with no manifest or labels: checked whole as dataset zips are (safe
/// paths, no links, entry count, inflated size and compression ratio within `ZipLimits`), then its
/// JPEG and PNG files listed in path order and read one at a time, never extracted to disk.
/// Other files (a README, `__MACOSX/` resource forks, hidden files) are skipped.
public final class ImageArchive: Sendable {
    private let archive: ZipDatasetArchive
    /// The images' paths inside the archive, sorted: the order a batch tags and reports them in.
    public let imagePaths: [String]

    static let imageExtensions: Set<String> = ["jpg", "jpeg", "png"]

    private init(archive: ZipDatasetArchive, imagePaths: [String]) {
        self.archive = archive
        self.imagePaths = imagePaths
    }

    /// Opens and checks `url`; throws every problem found, or one when it holds no image.
    public static func open(_ url: URL, limits: ZipLimits) throws(DatasetValidationError) -> ImageArchive {
        var problems = DatasetProblemCollector(maximum: 20)
        guard let archive = ZipDatasetArchive.open(url, limits: limits, findsManifest: false, problems: &problems) else {
            throw problems.error ?? DatasetValidationError(DatasetProblem(file: url.lastPathComponent, message: "the archive cannot be read"))
        }
        let images = archive.paths.filter { path in
            let name = path.split(separator: "/").last.map(String.init) ?? path
            let ext = (name as NSString).pathExtension.lowercased()
            return imageExtensions.contains(ext) && !path.hasPrefix("__MACOSX/") && !name.hasPrefix(".")
        }
        guard !images.isEmpty else {
            throw DatasetValidationError(DatasetProblem(file: url.lastPathComponent, message: "the archive holds no .jpg, .jpeg or .png file"))
        }
        return ImageArchive(archive: archive, imagePaths: images)
    }

    /// The bytes of the image at `index` of `imagePaths`, refusing more than `maximumBytes`.
    public func bytes(at index: Int, maximumBytes: Int) throws -> Data {
        try archive.read(imagePaths[index], maximumBytes: maximumBytes)
    }
}
