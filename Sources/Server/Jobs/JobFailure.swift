/// Why a job failed, as its `error` object says it: a code, a message a person can act on, and
/// the request field at fault when there is one.
struct JobFailure: Error, Sendable {
    let code: String
    let message: String
    let param: String?

    init(_ code: String, _ message: String, param: String? = nil) {
        self.code = code
        self.message = message
        self.param = param
    }
}

/// Why a job stopped before finishing without failing.
enum JobStop: Error, Sendable {
    /// A client cancelled it.
    case cancelled
    /// The server is shutting down; the job resumes from its last checkpoint at the next start.
    case shutdown
}

extension JobRecord {
    /// Ends the job as failed with `failure` as its error object.
    mutating func markFailed(_ failure: JobFailure) {
        status = .failed
        finishedAt = unixNow()
        etaSeconds = nil
        errorCode = failure.code
        errorMessage = failure.message
        errorParam = failure.param
    }
}
