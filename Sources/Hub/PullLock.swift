import Foundation

/// An exclusive lock on one model's partial folder (`flock` on `<models>/.partial/<name>.lock`), so two
/// pulls of the same model never write the same part files. The kernel releases it if the process dies.
final class PullLock {
    private let descriptor: Int32

    init(_ url: URL, model: String) throws {
        descriptor = open(url.path, O_CREAT | O_RDWR | O_CLOEXEC, 0o644)
        guard descriptor >= 0 else {
            throw HubError.local("cannot open the lock file \(url.path): \(String(cString: strerror(errno)))")
        }
        guard flock(descriptor, LOCK_EX | LOCK_NB) == 0 else {
            close(descriptor)
            throw HubError.busy("another tagtune pull is downloading \(model) (lock \(url.path)); wait for it to finish")
        }
    }

    deinit {
        flock(descriptor, LOCK_UN)
        close(descriptor)
    }
}
