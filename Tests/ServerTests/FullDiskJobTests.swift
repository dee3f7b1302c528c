import Foundation
import GRDB
import Hummingbird
import HummingbirdTesting
import NIOConcurrencyHelpers
import Testing
import Tuning
@testable import Server

/// A job whose writes find the disk full ends `failed` with `insufficient_storage`, even when the
/// database itself has no room for one more event, and its dataset can be deleted at once (the
/// December probe's job stayed `running` until a restart).
@Suite("Jobs on a full disk")
struct FullDiskJobTests {
    @Test func promptSetWriteOnAFullDiskFailsTheJobAndFreesItsDataset() async throws {
        let database = NIOLockedValueBox<SQLiteStore?>(nil)
        let files = JobWrites(checkpoint: JobWrites.store.checkpoint, promptSet: { _, _ in
            // The disk fills up just before the artifact: SQLite cannot grow either.
            try database.withLockedValue { $0 }?.fillUpForTesting()
            throw CocoaError(.fileWriteOutOfSpace)
        })
        let test = try TuningTestApp(jobFiles: files)
        database.withLockedValue { $0 = test.backend.store as? SQLiteStore }
        try await test.application().test(.router) { client in
            let dataset = try await JobRoutesTests.uploadDataset(client, count: 6)
            let (status, created) = try await client.send(.post, "/v1/tuning/jobs",
                                                          json: JobRoutesTests.job(dataset: dataset, epochs: 2, extra: ["method": "coop"]))
            try #require(status == .created, "\(created)")
            let id = try #require(created["id"] as? String)
            let done = try await client.waitForJob(id)
            #expect(done["status"] as? String == "failed", "\(done)")
            let error = try #require(done["error"] as? [String: Any])
            #expect(error["code"] as? String == "insufficient_storage", "\(error)")
            #expect(done["finished_at"] is Int)
            #expect(test.folder.contents("data/jobs").isEmpty, "the failed job's checkpoint folder is freed")
            let (deleted, body) = try await client.send(.delete, "/v1/datasets/\(dataset)")
            #expect(deleted == .ok, "\(body)")
        }
    }

    @Test func checkpointWriteOnAFullDiskFailsTheJob() async throws {
        let files = JobWrites(checkpoint: { _, _, _ in throw POSIXError(.ENOSPC) }, promptSet: JobWrites.store.promptSet)
        let test = try TuningTestApp(jobFiles: files)
        try await test.application().test(.router) { client in
            let dataset = try await JobRoutesTests.uploadDataset(client)
            // A job whose final training surely runs an epoch (a short one may select epoch 0 and write no checkpoint).
            let (_, created) = try await client.send(.post, "/v1/tuning/jobs", json: JobRoutesTests.longJob(dataset: dataset))
            let done = try await client.waitForJob(try #require(created["id"] as? String))
            #expect(done["status"] as? String == "failed", "\(done)")
            let error = try #require(done["error"] as? [String: Any])
            #expect(error["code"] as? String == "insufficient_storage", "\(error)")
            #expect((error["message"] as? String)?.contains("disk space") == true, "\(error)")
            #expect(try await client.send(.delete, "/v1/datasets/\(dataset)").0 == .ok)
        }
    }
}

extension SQLiteStore {
    /// Makes the database as full as on a full disk: it may not grow by a page, and its pages are
    /// filled with events until SQLite answers SQLITE_FULL, so that one more event does not fit.
    func fillUpForTesting() throws {
        try pool.writeWithoutTransaction { db in
            let pages = try Int.fetchOne(db, sql: "PRAGMA page_count") ?? 0
            try db.execute(sql: "PRAGMA max_page_count = \(pages)")
            guard let job = try String.fetchOne(db, sql: "SELECT id FROM job ORDER BY seq DESC LIMIT 1") else { return }
            for size in [2000, 200, 20, 1] {
                do {
                    while true {
                        try db.execute(sql: "INSERT INTO job_event (id, job_id, created_at, level, type, message) VALUES (?, ?, 0, 'info', 'message', ?)",
                                       arguments: [UUID().uuidString, job, String(repeating: "x", count: size)])
                    }
                } catch let error as DatabaseError where error.resultCode == .SQLITE_FULL {
                    continue
                }
            }
        }
    }
}
