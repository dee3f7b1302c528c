import NIOConcurrencyHelpers

/// Jobs whose cancellation was asked for while they run: the cancel route adds them, the
/// trainer polls before every step (cheaply, without the database).
final class CancellationRequests: Sendable {
    private let ids = NIOLockedValueBox<Set<String>>([])

    func request(_ id: String) { _ = ids.withLockedValue { $0.insert(id) } }
    func isRequested(_ id: String) -> Bool { ids.withLockedValue { $0.contains(id) } }
    func clear(_ id: String) { _ = ids.withLockedValue { $0.remove(id) } }
}
