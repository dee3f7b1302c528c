import Foundation
import Hummingbird
import HummingbirdTesting
import Compute
import Testing
@testable import Server

/// `tagtune tag` and `POST /v1/tag` print the same labels for the same image: both end in the
/// engine's `Labeling` (before it, the CLI printed zero-shot `probability` where the server
/// printed `score`, and ranked prompt-set ties differently).
@Suite("Command line and server agree")
struct CommandLineParityTests {
    /// The labels of each image that `tagtune tag` prints for `arguments`.
    static func cliLabels(_ arguments: [String]) throws -> [[[String: Any]]] {
        let process = Process()
        process.executableURL = RecoveryServerProcess.binary
        process.arguments = ["tag"] + arguments
        let out = Pipe()
        process.standardOutput = out
        process.standardError = FileHandle.nullDevice
        try process.run()
        let data = out.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        try #require(process.terminationStatus == 0, "tagtune tag \(arguments) failed")
        return try String(decoding: data, as: UTF8.self).split(separator: "\n").map { line in
            let object = try #require(try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any])
            return try #require(object["labels"] as? [[String: Any]])
        }
    }

    /// Units in the last place two processes' values may differ by: none where the products run on
    /// plain weights (AVX2), a few where oneDNN's blocked kernels (AVX-512) sum a row in an order
    /// that depends on the call (the server encodes a prompt set's or the request's class texts in
    /// one call of 128 rows or more, which runs at full width on shares of the rows; `--encode-batch
    /// 1` makes the CLI encode them one by one, through column slices). 8 was enough before the
    /// full-width products; one score then differed by 9 (1.3e-7 at 0.15).
    static let allowedULPs: Float = OneDNN.isa.hasPrefix("avx512") ? 16 : 0

    /// The same label lists: same names in the same order, and the same values (see `allowedULPs`).
    static func expectSame(_ cli: [[String: Any]], _ server: [[String: Any]], _ comment: Comment) {
        #expect(cli.map { $0["label"] as? String } == server.map { $0["label"] as? String }, comment)
        for (a, b) in zip(cli, server) {
            #expect(Set(a.keys) == Set(b.keys), comment)
            for key in ["score", "threshold", "logit"] {
                let (x, y) = ((a[key] as? Double).map(Float.init), (b[key] as? Double).map(Float.init))
                if let x, let y, allowedULPs > 0 {
                    #expect(abs(x - y) <= allowedULPs * max(x.ulp, y.ulp), "\(key) \(x) vs \(y) \(comment)")
                } else {
                    #expect(x == y, "\(key) \(comment)")
                }
            }
            #expect(a["present"] as? Bool == b["present"] as? Bool, comment)
        }
    }

    @Test func promptSetAndZeroShotLabelsAreTheSameAsTheServers() async throws {
        let server = try await TagTestServer()
        defer { server.remove() }
        let images = ["png_rgb.png", "jpeg_baseline_420.jpg"]
        let paths = images.map { TagFixtures.fixtures.appendingPathComponent("images/\($0)").path }
        let model = server.modelsFolder.appendingPathComponent("tiny").path
        let promptSet = server.promptSetsFolder.appendingPathComponent("shapes").path
        let classes = ["red square", "blue circle", "forklift", "pallet"]
        try await server.withReadyClient { client async throws in
            // (CLI arguments, POST /v1/tag JSON fields) asking for the same thing.
            let cases: [([String], [String: Any])] = [
                (["--prompts", promptSet], [:]),
                (["--prompts", promptSet, "--threshold", "0.3", "--top-k", "2"], ["threshold": 0.3, "top_k": 2]),
                (["--classes", classes.joined(separator: ",")], ["classes": classes]),
                (["--classes", classes.joined(separator: ","), "--threshold", "0.2", "--top-k", "3"], ["classes": classes, "threshold": 0.2, "top_k": 3]),
            ]
            for (arguments, fields) in cases {
                // One image per encoder batch, as each request here is: rows of a bigger GEMM sum in
                // another order and differ in the last bits.
                let cli = try Self.cliLabels(["--model", model, "--encode-batch", "1"] + arguments + paths)
                try #require(cli.count == images.count)
                for (i, name) in images.enumerated() {
                    var body = fields
                    body["images"] = [["base64": Data(try TagFixtures.image(name)).base64EncodedString()]]
                    let response = try await client.tagJSON(body)
                    try #require(response.status == .ok, "\(String(buffer: response.body))")
                    let result = try #require((try jsonObject(response)["results"] as? [[String: Any]])?.first)
                    Self.expectSame(cli[i], TagRoutesTests.labels(result), "\(arguments) on \(name)")
                }
            }
        }
    }
}
