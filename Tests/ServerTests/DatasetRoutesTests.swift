import CLIP
import Foundation
import Hummingbird
import HummingbirdTesting
import Testing
import Tuning
@testable import Server

/// `/v1/datasets`: uploads validated whole before acceptance, atomic storage, listing, deletion,
/// and every refusal in the error shape with nothing left behind.
@Suite("Dataset routes")
struct DatasetRoutesTests {
    @Test func uploadIsStoredAndDescribed() async throws {
        let test = try TuningTestApp()
        let zip = try DatasetFixtures.zip(try DatasetFixtures.datasetFiles(count: 12))
        try await test.application().test(.router) { client in
            let (status, dataset) = try await client.upload(zip, name: "shop floor")
            #expect(status == .created)
            let id = try #require(dataset["id"] as? String)
            #expect(id.hasPrefix("ds-"))
            #expect(dataset["object"] as? String == "dataset")
            #expect(dataset["name"] as? String == "shop floor")
            #expect(dataset["images"] as? Int == 12)
            #expect((dataset["created_at"] as? Int ?? 0) > 1_700_000_000)
            let classes = try #require(dataset["classes"] as? [[String: Any]])
            #expect(classes.map { $0["name"] as? String } == ["cat", "dog", "traffic light"])
            // Image i shows class i % 3; images 0 and 8 (i % 4 == 0, i % 3 != 1) also show a dog.
            #expect(classes.map { $0["count"] as? Int } == [4, 6, 4])
            #expect(classes.allSatisfy { $0["group"] as? String == "tail" }, "fewer than 20 images each")
            let groups = try #require(dataset["groups"] as? [String: Int])
            #expect(groups == ["head": 0, "medium": 0, "tail": 3])

            // On disk: the zip as a blob named by its SHA-256, and a complete unpacked folder that loads as it is.
            let record = try #require(try await test.backend.store.dataset(id))
            let sha256 = try #require(record.blobSHA256)
            #expect(sha256 == SHA256.hex(zip) && record.blobBytes == Int64(zip.count))
            #expect(try Data(contentsOf: FolderBlobStore(root: test.backend.layout.blobs).file(sha256)) == zip)
            let folder = test.backend.layout.unpackedDataset(sha256: sha256)
            let loaded = try DatasetLoader.load(from: folder)
            #expect(loaded.items.count == 12)
            #expect(loaded.classCounts == [4, 6, 4])
            #expect(test.folder.contents("data/uploads").isEmpty, "the upload is removed once stored")

            let (getStatus, fetched) = try await client.send(.get, "/v1/datasets/\(id)")
            #expect(getStatus == .ok)
            #expect(fetched["images"] as? Int == 12)
            let (listStatus, list) = try await client.send(.get, "/v1/datasets")
            #expect(listStatus == .ok)
            #expect(list["object"] as? String == "list")
            #expect((list["data"] as? [[String: Any]])?.map { $0["id"] as? String } == [id])
            #expect(list["has_more"] as? Bool == false)
        }
    }

    @Test func multipartUploadWithANameField() async throws {
        let test = try TuningTestApp()
        let zip = try DatasetFixtures.zip(try DatasetFixtures.datasetFiles(count: 6))
        let body = DatasetFixtures.multipart(zip: zip, fileName: "shelves.zip", name: "shelves v2")
        try await test.application().test(.router) { client in
            let response = try await client.execute(
                uri: "/v1/datasets", method: .post,
                headers: [.contentType: "multipart/form-data; boundary=tagtune-boundary-42"], body: ByteBuffer(bytes: body))
            #expect(response.status == .created, "\(String(buffer: response.body))")
            let dataset = try DatasetFixtures.json(response.body)
            #expect(dataset["name"] as? String == "shelves v2")
            #expect(dataset["images"] as? Int == 6)

            // Without a name field the file's name is used; an extra field is refused.
            let unnamed = DatasetFixtures.multipart(zip: zip, fileName: "aisle-3.zip", name: nil)
            let second = try await client.execute(uri: "/v1/datasets", method: .post,
                                                  headers: [.contentType: "multipart/form-data; boundary=tagtune-boundary-42"],
                                                  body: ByteBuffer(bytes: unnamed))
            #expect(try DatasetFixtures.json(second.body)["name"] as? String == "aisle-3")
            var extra = Data("--b\r\nContent-Disposition: form-data; name=\"colour\"\r\n\r\nred\r\n".utf8)
            extra += DatasetFixtures.multipart(zip: zip, fileName: "x.zip", name: nil, boundary: "b")
            let refused = try await client.execute(uri: "/v1/datasets", method: .post,
                                                   headers: [.contentType: "multipart/form-data; boundary=b"], body: ByteBuffer(bytes: extra))
            #expect(refused.status == .unprocessableContent)
            #expect(try DatasetFixtures.error(refused.body)["param"] as? String == "colour")
            #expect(try DatasetFixtures.error(refused.body)["code"] as? String == "unknown_parameter")

            // A part named file without a filename (curl -F 'file=<x.zip') is the zip too; it was
            // refused as "unknown form field 'file'".
            var plain = Data("--b\r\nContent-Disposition: form-data; name=\"name\"\r\n\r\nplain\r\n".utf8)
            plain += Data("--b\r\nContent-Disposition: form-data; name=\"file\"\r\n\r\n".utf8) + zip + Data("\r\n--b--\r\n".utf8)
            let third = try await client.execute(uri: "/v1/datasets", method: .post,
                                                 headers: [.contentType: "multipart/form-data; boundary=b"], body: ByteBuffer(bytes: plain))
            #expect(third.status == .created, "\(String(buffer: third.body))")
            #expect(try DatasetFixtures.json(third.body)["name"] as? String == "plain")
        }
        // The same zip three times: three datasets, one blob and one unpacked folder (content-addressed).
        #expect(test.folder.contents("data/blobs").count == 1 && test.folder.contents("data/cache/datasets").count == 1,
                "\(test.folder.storedDatasets)")
    }

    /// Each bad upload is answered in the error shape, naming what is wrong, and leaves no folder and no row.
    @Test(arguments: BadUpload.all)
    func badUploadIsRefusedAndLeavesNothing(_ bad: BadUpload) async throws {
        let test = try TuningTestApp { $0.datasetMaxUploadBytes = 200_000 }
        try await test.application().test(.router) { client in
            let response = try await client.execute(uri: "/v1/datasets", method: .post,
                                                    headers: [.contentType: bad.contentType], body: ByteBuffer(bytes: try bad.body()))
            #expect(response.status.code == bad.status, "\(String(buffer: response.body))")
            let error = try DatasetFixtures.error(response.body)
            #expect(error["code"] as? String == bad.code)
            if let param = bad.param { #expect(error["param"] as? String == param) }
            if let problem = bad.problem {
                let problems = try #require(error["problems"] as? [[String: Any]])
                #expect(problems.contains { p in
                    (problem.file == nil || p["file"] as? String == problem.file) && (problem.line == nil || p["line"] as? Int == problem.line)
                        && (problem.field == nil || p["field"] as? String == problem.field)
                }, "\(problems)")
            }
            let (_, list) = try await client.send(.get, "/v1/datasets")
            #expect((list["data"] as? [Any])?.isEmpty == true)
        }
        #expect(test.folder.storedDatasets.isEmpty)
        #expect(test.folder.contents("data/uploads").isEmpty)
    }

    /// Deleting a dataset removes its row at once; housekeeping then removes its unpacked folder, and
    /// its blob once no other row names it and the grace period has passed.
    @Test func unknownDatasetIs404AndDeletionRemovesFolderAndRow() async throws {
        let test = try TuningTestApp()
        let zip = try DatasetFixtures.zip(try DatasetFixtures.datasetFiles(count: 4))
        try await test.application().test(.router) { client in
            for uri in ["/v1/datasets/ds-nothing", "/v1/datasets/ds-a%20b", "/v1/datasets/tagtune.sqlite"] {
                let (status, body) = try await client.send(.get, uri)
                #expect(status == .notFound)
                #expect((body["error"] as? [String: Any])?["code"] as? String == "dataset_not_found")
            }
            let (_, dataset) = try await client.upload(zip)
            let id = try #require(dataset["id"] as? String)
            let (deleted, body) = try await client.send(.delete, "/v1/datasets/\(id)")
            #expect(deleted == .ok)
            #expect(body["deleted"] as? Bool == true)
            #expect(test.folder.storedDatasets.count == 2, "blob and unpacked folder wait for housekeeping")
            // Within the grace period the blob stays (an upload of the same bytes may be about to name it).
            var housekeeping = test.backend.housekeeping
            let early = try await housekeeping.runOnce()
            #expect(early.blobsRemoved == 0 && test.folder.contents("data/cache/datasets").isEmpty)
            #expect(test.folder.contents("data/blobs").count == 1)
            housekeeping.orphanGrace = .zero
            #expect(try await housekeeping.runOnce().blobsRemoved == 1)
            // The shard folder stays (an upload may be writing into it); it holds nothing.
            #expect(test.folder.contents("data/blobs").allSatisfy { test.folder.contents("data/blobs/" + $0).isEmpty })
            #expect(test.folder.contents("data/cache/datasets").isEmpty)
            let (again, _) = try await client.send(.delete, "/v1/datasets/\(id)")
            #expect(again == .notFound)
            let (wrongMethod, _) = try await client.send(.put, "/v1/datasets/\(id)")
            #expect(wrongMethod == .methodNotAllowed)
        }
    }

    @Test func listingPagesWithACursor() async throws {
        let test = try TuningTestApp()
        let zip = try DatasetFixtures.zip(try DatasetFixtures.datasetFiles(count: 3))
        try await test.application().test(.router) { client in
            var ids: [String] = []
            for _ in 0..<3 { ids.append(try #require(try await client.upload(zip).1["id"] as? String)) }
            let (_, first) = try await client.send(.get, "/v1/datasets?limit=2")
            let firstIDs = (first["data"] as? [[String: Any]])?.compactMap { $0["id"] as? String }
            #expect(firstIDs == [ids[2], ids[1]], "newest first")
            #expect(first["has_more"] as? Bool == true)
            let (_, second) = try await client.send(.get, "/v1/datasets?limit=2&after=\(ids[1])")
            #expect((second["data"] as? [[String: Any]])?.compactMap { $0["id"] as? String } == [ids[0]])
            #expect(second["has_more"] as? Bool == false)
            let (badLimit, body) = try await client.send(.get, "/v1/datasets?limit=0")
            #expect(badLimit == .unprocessableContent)
            #expect((body["error"] as? [String: Any])?["param"] as? String == "limit")
            let (badCursor, _) = try await client.send(.get, "/v1/datasets?after=ds-gone")
            #expect(badCursor == .notFound)
        }
    }
}

/// One kind of bad upload, the status and code it gets, and the problem it must name.
struct BadUpload: Sendable, CustomTestStringConvertible {
    struct Problem: Sendable { var file: String?; var line: Int?; var field: String? }
    let name: String
    let contentType: String
    let body: @Sendable () throws -> Data
    let status: Int
    let code: String
    var param: String? = nil
    var problem: Problem? = nil

    var testDescription: String { name }

    static func files(_ change: (inout [(path: String, bytes: Data)]) throws -> Void) throws -> [(path: String, bytes: Data)] {
        var files = try DatasetFixtures.datasetFiles(count: 4)
        try change(&files)
        return files
    }

    static let all: [BadUpload] = [
        BadUpload(name: "zip slip", contentType: "application/zip", body: {
            try DatasetFixtures.zip(try files { $0.append(("../escape.txt", Data("x".utf8))) })
        }, status: 422, code: "invalid_dataset", problem: Problem(file: "dataset.zip", field: "../escape.txt")),
        BadUpload(name: "absolute path", contentType: "application/zip", body: {
            try DatasetFixtures.zip(try files { $0.append(("/etc/evil", Data("x".utf8))) })
        }, status: 422, code: "invalid_dataset", problem: Problem(field: "/etc/evil")),
        BadUpload(name: "label not in classes.txt", contentType: "application/zip", body: {
            try DatasetFixtures.zip(try files { files in
                let text = String(decoding: files[0].bytes, as: UTF8.self)
                files[0].bytes = Data(text.replacingOccurrences(of: "\"labels\": [\"dog\"]", with: "\"labels\": [\"wolf\"]").utf8)
            })
        }, status: 422, code: "invalid_dataset", problem: Problem(file: "manifest.jsonl", line: 2, field: "labels[0]")),
        BadUpload(name: "undecodable image", contentType: "application/zip", body: {
            try DatasetFixtures.zip(try files { files in
                let index = files.firstIndex { $0.path.hasPrefix("images/2-") }!
                files[index].bytes = Data("not an image at all".utf8)
            })
        }, status: 422, code: "invalid_dataset", problem: Problem(file: "manifest.jsonl", line: 3, field: "image")),
        BadUpload(name: "missing classes.txt", contentType: "application/zip", body: {
            try DatasetFixtures.zip(try files { $0.removeAll { $0.path == "classes.txt" } })
        }, status: 422, code: "invalid_dataset", problem: Problem(file: "classes.txt")),
        BadUpload(name: "not a zip", contentType: "application/zip", body: { Data("plain text".utf8) },
                  status: 422, code: "invalid_dataset", problem: Problem(file: "dataset.zip")),
        BadUpload(name: "decompression bomb", contentType: "application/zip", body: {
            // 3 MB of zeros deflate to a few KB: a ratio far above the limit of 100.
            try DatasetFixtures.zip(try files { $0.append(("images/zeros.bin", Data(count: 3 << 20))) })
        }, status: 422, code: "invalid_dataset", problem: Problem(field: "images/zeros.bin")),
        BadUpload(name: "over the upload limit", contentType: "application/zip", body: {
            try DatasetFixtures.zip(try files { $0.append(("images/big.bin", Data((0..<300_000).map { UInt8(truncatingIfNeeded: $0 &* 2654435761 >> 13) }))) },
                                    stored: true)
        }, status: 413, code: "dataset_too_large"),
        BadUpload(name: "unsupported media type", contentType: "text/plain", body: { Data("hello".utf8) },
                  status: 415, code: "unsupported_media_type"),
        BadUpload(name: "multipart without a file", contentType: "multipart/form-data; boundary=b", body: {
            Data("--b\r\nContent-Disposition: form-data; name=\"name\"\r\n\r\nx\r\n--b--\r\n".utf8)
        }, status: 422, code: "missing_file", param: "file"),
    ]
}
