import Foundation
import Hummingbird
import Tuning

/// `POST /v1/datasets` (a zip, validated whole before it is accepted), `GET /v1/datasets[/{id}]`,
/// `DELETE /v1/datasets/{id}` (refused with 409 while an unfinished job uses the dataset).
struct DatasetsController: Sendable {
    let layout: DataLayout
    let database: any TuningStore
    let importer: DatasetImporter
    let maximumUploadBytes: Int

    func register(on router: TableRouter) {
        router.post("/v1/datasets") { request, context in try await create(request, context: context) }
        router.get("/v1/datasets") { request, _ in try await list(request) }
        router.get("/v1/datasets/{id}") { _, context in try await get(context.parameters.require("id")) }
        router.delete("/v1/datasets/{id}") { _, context in try await delete(context.parameters.require("id")) }
    }

    func create(_ request: Request, context: TagTuneRequestContext) async throws -> Response {
        let files = FileManager.default
        let folder = layout.uploads.appendingPathComponent(UUID().uuidString, isDirectory: true)
        try files.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? files.removeItem(at: folder) }

        let upload = try await DatasetUploadReceiver.receive(
            request, to: folder.appendingPathComponent("upload"), maximumBytes: maximumUploadBytes)
        let name = try Self.datasetName(query: request.uri.queryParameters["name"].map(String.init),
                                        field: upload.nameField, fileName: upload.fileName)
        // Problems with the archive itself name this file: the client's own file name when it is a plain one.
        let zip = folder.appendingPathComponent(Self.archiveName(upload.fileName))
        try files.moveItem(at: upload.file, to: zip)

        let importer = self.importer
        let cancelled = CancellationFlag()
        let record: DatasetRecord
        do {
            record = try await OffloadedWork.runAbandonable(cancelled: cancelled) {
                try importer.importZip(zip, name: name, cancelled: cancelled)
            }
        } catch let error as DatasetValidationError {
            return try DatasetRejection(error: error).response()
        }
        try await importer.record(record)
        context.logger.info("dataset accepted", metadata: ["dataset": .string(record.id), "images": .stringConvertible(record.imageCount)])
        return try EditedResponse(status: .created, response: DatasetObject(record)).response(from: request, context: context)
    }

    func list(_ request: Request) async throws -> ListObject<DatasetObject> {
        let query = try ListQuery(request)
        guard let page = try await database.datasets(after: query.after, limit: query.limit) else {
            throw query.unknownCursor("dataset")
        }
        return ListObject(data: try page.items.map { try DatasetObject($0, details: false) }, has_more: page.hasMore)
    }

    func get(_ id: String) async throws -> DatasetObject {
        try DatasetObject(try await record(id))
    }

    func delete(_ id: String) async throws -> DeletedObject {
        guard ResourceID.isWellFormed(id, prefix: "ds-") else { throw Self.notFound(id) }
        // A folder that cannot be removed (a read-only disk) would be answered "deleted" and stay:
        // refuse before the row goes. access(2) says EROFS even to root.
        guard access(layout.datasets.path, W_OK) == 0 else {
            throw APIError(.serviceUnavailable, code: "storage_read_only",
                           message: "the data folder cannot be written now; dataset \(id) was not deleted")
        }
        switch try await database.deleteDataset(id) {
        case .notFound:
            throw Self.notFound(id)
        case .inUse(let jobs):
            throw APIError(.conflict, code: "dataset_in_use",
                           message: "dataset \(id) is used by unfinished tuning jobs: \(jobs.joined(separator: ", ")); cancel them or wait for them to finish")
        case .deleted:
            // The row is gone first; a folder left by a crash here is removed at the next start.
            let folder = layout.dataset(id)
            let doomed = layout.datasets.appendingPathComponent(".deleting-\(id)")
            if (try? FileManager.default.moveItem(at: folder, to: doomed)) != nil {
                try? FileManager.default.removeItem(at: doomed)
            }
            return DeletedObject(id: id, object: "dataset", deleted: true)
        }
    }

    private func record(_ id: String) async throws -> DatasetRecord {
        guard ResourceID.isWellFormed(id, prefix: "ds-"), let record = try await database.dataset(id) else {
            throw Self.notFound(id)
        }
        return record
    }

    static func notFound(_ id: String) -> APIError {
        APIError(.notFound, code: "dataset_not_found", message: "no dataset '\(id)'")
    }

    /// `?name=`, else the form's `name` field, else the file name without `.zip`, else "dataset".
    static func datasetName(query: String?, field: String?, fileName: String?) throws -> String {
        let fromFile = fileName.map { URL(fileURLWithPath: $0).deletingPathExtension().lastPathComponent }
        let name = (query ?? field ?? fromFile ?? "dataset").trimmingCharacters(in: .whitespacesAndNewlines)
        guard (1...200).contains(name.count), !name.unicodeScalars.contains(where: { $0.properties.generalCategory == .control }) else {
            throw APIError(.unprocessableContent, code: "invalid_name",
                           message: "the dataset name must be 1 to 200 characters without control characters", param: "name")
        }
        return name
    }

    /// The client's file name when it is a plain `*.zip` name, else `dataset.zip`.
    static func archiveName(_ fileName: String?) -> String {
        guard let base = fileName.map({ URL(fileURLWithPath: $0).lastPathComponent }),
              base.count <= 100, base.lowercased().hasSuffix(".zip"), !base.hasPrefix("."),
              base.allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber || "._- ".contains($0)) })
        else { return "dataset.zip" }
        return base
    }
}
