import NIOConcurrencyHelpers

/// Under overload every refused request was one info line (157 MB of log in three minutes): 429s
/// are logged at most once per `interval`, each line counting the refusals not logged since.
final class RefusalLogSampler: Sendable {
    let interval: Duration
    private let state = NIOLockedValueBox<(last: ContinuousClock.Instant?, skipped: Int)>((nil, 0))

    init(interval: Duration = .seconds(1)) { self.interval = interval }

    /// nil: do not log this one; otherwise log it, with this many refusals skipped before it.
    func admit(now: ContinuousClock.Instant = .now) -> Int? {
        state.withLockedValue { state in
            if let last = state.last, now - last < interval {
                state.skipped += 1
                return nil
            }
            defer { state = (now, 0) }
            return state.skipped
        }
    }
}
