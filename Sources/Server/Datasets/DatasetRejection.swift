import Foundation
import Hummingbird
import Tuning

/// The 422 for a refused dataset: the API's error shape, whose `param` is the first problem's
/// field (or file), plus `problems` listing every problem with its file, line and field.
struct DatasetRejection {
    let error: DatasetValidationError

    private struct Body: Encodable {
        struct Detail: Encodable {
            let message: String
            let type = "invalid_request_error"
            let code = "invalid_dataset"
            let param: String?
            let problems: [DatasetProblem]
            let total_problems: Int

            func encode(to encoder: any Encoder) throws {
                var container = encoder.container(keyedBy: CodingKeys.self)
                try container.encode(message, forKey: .message)
                try container.encode(type, forKey: .type)
                try container.encode(code, forKey: .code)
                try container.encode(param, forKey: .param)   // explicit null, as the shape promises
                try container.encode(problems, forKey: .problems)
                try container.encode(total_problems, forKey: .total_problems)
            }
            enum CodingKeys: String, CodingKey { case message, type, code, param, problems, total_problems }
        }
        let error: Detail
    }

    func response() throws -> Response {
        let first = error.problems.first
        let body = Body(error: .init(message: error.description, param: first?.field ?? first?.file,
                                     problems: error.problems, total_problems: error.totalProblemCount))
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        return Response(status: .unprocessableContent,
                        headers: [.contentType: "application/json; charset=utf-8"],
                        body: .init(byteBuffer: ByteBuffer(bytes: try encoder.encode(body))))
    }
}
