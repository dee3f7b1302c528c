/// What a pull is doing, for a progress display. Byte counts include what earlier runs left.
public enum PullEvent: Sendable, Equatable {
    /// The revision resolved to a commit, and these files will make the folder.
    case resolved(repository: String, revision: String, commit: String, layout: CheckpointFilePlan.Layout, files: [String])
    /// A file's transfer starts, from `offset` when a partial file is resumed.
    case fileStarted(name: String, size: Int64?, offset: Int64)
    case fileProgress(name: String, received: Int64, size: Int64?)
    /// The server ignored the `Range` request and sends the whole file again.
    case rangeIgnored(name: String)
    /// The transfer broke or the server failed; it starts again from what arrived.
    case retrying(name: String, attempt: Int, reason: String)
    /// A file is complete and checked; `reused` when an earlier, interrupted pull had finished it.
    case fileFinished(name: String, size: Int64, sha256: String, reused: Bool)
}
