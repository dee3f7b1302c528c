import Foundation
import Hummingbird
import Tuning

/// The 422 for a refused dataset: the API's error shape, whose `param` is the first problem's
/// field (or file), plus `problems` listing every problem with its file, line and field.
struct DatasetRejection {
    let error: DatasetValidationError
    /// `invalid_dataset`; a batch's zip of images is `invalid_archive`.
    var code = "invalid_dataset"

    private struct Body: Encodable {
        /// The API's error shape (`APIError`'s, with its explicit null `param`) and the problems.
        struct Detail: Encodable {
            let shape: APIError.Body.Detail
            let problems: [DatasetProblem]
            let totalProblems: Int

            func encode(to encoder: any Encoder) throws {
                try shape.encode(to: encoder)
                var container = encoder.container(keyedBy: CodingKeys.self)
                try container.encode(problems, forKey: .problems)
                try container.encode(totalProblems, forKey: .totalProblems)
            }
            enum CodingKeys: String, CodingKey { case problems, totalProblems = "total_problems" }
        }
        let error: Detail
    }

    func response() throws -> Response {
        let first = error.problems.first
        let shape = APIError.Body.Detail(message: error.description, type: "invalid_request_error", code: code,
                                         param: first?.field ?? first?.file)
        let body = Body(error: .init(shape: shape, problems: error.problems, totalProblems: error.totalProblemCount))
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        return Response(status: .unprocessableContent,
                        headers: [.contentType: "application/json; charset=utf-8"],
                        body: .init(byteBuffer: ByteBuffer(bytes: try encoder.encode(body))))
    }
}
