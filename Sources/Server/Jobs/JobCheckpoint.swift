import CLIP
import Foundation
import Tuning

/// A running job's state after its last finished epoch, kept in the store (`job_checkpoint`) so
/// that whichever server claims the job next resumes at the next epoch.
///
/// The bytes are a safetensors file: the four float vectors that make up nearly all of it (the
/// context, the best context, the optimiser's two moments) as raw little-endian F32, and the rest
/// (epoch, schedule, history, selection) as JSON in the header's metadata. Format v1, JSON
/// throughout (three times larger, 150 times slower to write and read), is still read.
struct JobCheckpoint: Sendable {
    /// Where a server before checkpoints moved into the store kept them: `<data_dir>/jobs/<id>/`.
    static let legacyFileName = "checkpoint.json"
    static let currentFormat = "tagtune.job_checkpoint.v2"
    static let jsonFormat = "tagtune.job_checkpoint.v1"

    var jobID: String
    var state: TrainingState

    init(jobID: String, state: TrainingState) {
        self.jobID = jobID
        self.state = state
    }

    /// The tensors' names in the file.
    private enum Tensor {
        static let context = "context"
        static let bestContext = "best_context"
        static let firstMoment = "optimizer.first_moment"
        static let secondMoment = "optimizer.second_moment"
    }

    func encoded() throws -> Data {
        var rest = state
        rest.context = []
        rest.bestContext = []
        try rest.optimizer.replaceMoments(first: [], second: [])
        let json = try String(decoding: Self.jsonEncoder().encode(rest), as: UTF8.self)
        var writer = SafeTensorsWriter(metadata: ["format": Self.currentFormat, "job_id": jobID, "state": json])
        for (name, values) in [(Tensor.context, state.context), (Tensor.bestContext, state.bestContext),
                               (Tensor.firstMoment, state.optimizer.firstMoment), (Tensor.secondMoment, state.optimizer.secondMoment)]
        where !values.isEmpty {
            try writer.add(name, floats: values, shape: [values.count])
        }
        return writer.encoded()
    }

    /// The checkpoint in `data`, or nil when it is of another format or another job; throws when
    /// the bytes are damaged.
    static func decode(_ data: Data, jobID: String) throws -> JobCheckpoint? {
        guard isSafeTensors(data) else { return try decodeJSON(data, jobID: jobID) }
        let file = try SafeTensorsFile(bytes: data, name: "checkpoint of job \(jobID)")
        guard file.metadata["format"] == currentFormat, file.metadata["job_id"] == jobID,
              let json = file.metadata["state"] else { return nil }
        var state = try jsonDecoder().decode(TrainingState.self, from: Data(json.utf8))
        func floats(_ name: String) throws -> [Float] { file.contains(name) ? try file.floats(name) : [] }
        state.context = try floats(Tensor.context)
        state.bestContext = try floats(Tensor.bestContext)
        try state.optimizer.replaceMoments(first: floats(Tensor.firstMoment), second: floats(Tensor.secondMoment))
        guard state.bestContext.count == state.context.count,
              state.optimizer.firstMoment.count == (state.optimizer.step == 0 ? 0 : state.context.count) else {
            throw TuningError.artifact("checkpoint of job \(jobID): its context, best context and moments differ in size")
        }
        return JobCheckpoint(jobID: jobID, state: state)
    }

    /// Safetensors starts with its header's length, then `{`; v1's JSON starts with `{"` and
    /// read as a length runs far past its end.
    private static func isSafeTensors(_ data: Data) -> Bool {
        guard data.count > 8 else { return false }
        let length = data.prefix(8).reversed().reduce(UInt64(0)) { $0 << 8 | UInt64($1) }
        return length <= UInt64(data.count - 8) && data[data.startIndex + 8] == UInt8(ascii: "{")
    }

    /// Format v1: the whole checkpoint as JSON.
    private static func decodeJSON(_ data: Data, jobID: String) throws -> JobCheckpoint? {
        struct Version1: Decodable { var format: String; var jobID: String; var state: TrainingState }
        let checkpoint = try jsonDecoder().decode(Version1.self, from: data)
        guard checkpoint.format == jsonFormat, checkpoint.jobID == jobID else { return nil }
        return JobCheckpoint(jobID: jobID, state: checkpoint.state)
    }

    /// The schedule starts from a best metric of -inf, which JSON has no number for.
    private static func jsonEncoder() -> JSONEncoder {
        let encoder = JSONEncoder()
        encoder.nonConformingFloatEncodingStrategy = .convertToString(positiveInfinity: "inf", negativeInfinity: "-inf", nan: "nan")
        return encoder
    }

    private static func jsonDecoder() -> JSONDecoder {
        let decoder = JSONDecoder()
        decoder.nonConformingFloatDecodingStrategy = .convertFromString(positiveInfinity: "inf", negativeInfinity: "-inf", nan: "nan")
        return decoder
    }
}
