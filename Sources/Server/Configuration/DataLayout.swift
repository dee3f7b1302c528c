import Foundation

/// Where the datasets-and-jobs half of the server keeps its files, all under `data_dir` except
/// the encoders (`models.dir`) and the prompt sets (`prompt_sets.dir`), which the model registry reads too.
public struct DataLayout: Sendable, Equatable {
    public let dataDirectory: URL
    public let modelsDirectory: URL
    public let promptSetsDirectory: URL
    /// Validated dataset zips by SHA-256 (`blobs.dir`), shared by the replicas.
    public let blobs: URL
    /// This replica's datasets unpacked from their blobs (`cache.dir`).
    public let cache: URL
    /// Per-batch folders: an uploaded zip while the batch runs, then its results (`batches.dir`;
    /// replicas share it, since one replica receives the zip and serves the results and another runs the batch).
    public let batches: URL
    /// The image-feature cache shared by every job (`features.dir`; and `tagtune tune --cache data/features`).
    /// Content-addressed with atomic writes, so replicas may share it: a job taken over by another
    /// replica then encodes no image twice.
    public let features: URL

    public init(dataDirectory: URL, modelsDirectory: URL, promptSetsDirectory: URL, blobs: URL? = nil, cache: URL? = nil,
                batches: URL? = nil, features: URL? = nil) {
        self.dataDirectory = dataDirectory
        self.modelsDirectory = modelsDirectory
        self.promptSetsDirectory = promptSetsDirectory
        self.blobs = blobs ?? dataDirectory.appendingPathComponent("blobs", isDirectory: true)
        self.cache = cache ?? dataDirectory.appendingPathComponent("cache", isDirectory: true)
        self.batches = batches ?? dataDirectory.appendingPathComponent("batches", isDirectory: true)
        self.features = features ?? dataDirectory.appendingPathComponent("features", isDirectory: true)
    }

    public init(configuration: ServerConfiguration) {
        self.init(dataDirectory: URL(fileURLWithPath: configuration.dataDirectory, isDirectory: true),
                  modelsDirectory: URL(fileURLWithPath: configuration.modelsDirectory, isDirectory: true),
                  promptSetsDirectory: URL(fileURLWithPath: configuration.promptSetsDirectory, isDirectory: true),
                  // Relative: inside data_dir, whatever data_dir is set to later (tests move it).
                  blobs: URL(fileURLWithPath: ServerConfiguration.under(configuration.dataDirectory, configuration.cluster.blobsDirectory),
                             isDirectory: true),
                  cache: URL(fileURLWithPath: ServerConfiguration.under(configuration.dataDirectory, configuration.cluster.cacheDirectory),
                             isDirectory: true),
                  batches: URL(fileURLWithPath: ServerConfiguration.under(configuration.dataDirectory, configuration.cluster.batchesDirectory),
                               isDirectory: true),
                  features: URL(fileURLWithPath: ServerConfiguration.under(configuration.dataDirectory, configuration.cluster.featuresDirectory),
                                isDirectory: true))
    }

    /// The SQLite database (WAL mode: `-wal` and `-shm` files sit beside it).
    public var database: URL { dataDirectory.appendingPathComponent("tagtune.sqlite") }
    /// Datasets accepted before the blob store, one unpacked folder per id (still read).
    public var datasets: URL { dataDirectory.appendingPathComponent("datasets", isDirectory: true) }
    /// Uploads being received and checked; emptied at start-up.
    public var uploads: URL { dataDirectory.appendingPathComponent("uploads", isDirectory: true) }

    public func dataset(_ id: String) -> URL { datasets.appendingPathComponent(id, isDirectory: true) }
    /// A dataset unpacked from the blob with this SHA-256.
    public func unpackedDataset(sha256: String) -> URL {
        cache.appendingPathComponent("datasets", isDirectory: true).appendingPathComponent(sha256, isDirectory: true)
    }
    public func batch(_ id: String) -> URL { batches.appendingPathComponent(id, isDirectory: true) }
    public func model(_ name: String) -> URL { modelsDirectory.appendingPathComponent(name, isDirectory: true) }
    public func promptSet(_ id: String) -> URL { promptSetsDirectory.appendingPathComponent(id, isDirectory: true) }

    /// Creates the folders this half writes into.
    func createFolders() throws {
        for folder in [dataDirectory, datasets, uploads, batches, features, promptSetsDirectory, blobs,
                       cache.appendingPathComponent("datasets", isDirectory: true)] {
            try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        }
    }
}
