import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// A plain TCP connection to the test server on loopback, for what an HTTP client would not send:
/// unfinished heads, trickled bodies, bodies the server refuses while they are sent. Reads and
/// writes give up after `patience` (a hang is a failure, not a wait). They block, so they run on a
/// Dispatch thread: blocking Swift's few cooperative threads would starve the in-process server.
final class RawConnection: @unchecked Sendable {
    let fd: Int32

    init(port: Int, patience: Int = 30) throws {
        fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { throw RawConnectionError("socket: \(errno)") }
        var timeout = timeval(tv_sec: patience, tv_usec: 0)
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = in_port_t(UInt16(port).bigEndian)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        let connected = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard connected == 0 else { close(fd); throw RawConnectionError("connect: \(errno)") }
    }

    deinit { close(fd) }

    /// Sends all of `bytes`; false when the server closed or reset the connection, or the send timed out.
    @discardableResult
    func send(_ bytes: [UInt8]) async -> Bool {
        await Self.offload { self.sendBlocking(bytes) }
    }

    @discardableResult
    func send(_ text: String) async -> Bool { await send(Array(text.utf8)) }

    /// Reads until the server closes the connection: what it sent, and how it ended.
    func readToEnd() async -> (bytes: [UInt8], ending: Ending) {
        await Self.offload { self.readToEndBlocking() }
    }

    private static func offload<T: Sendable>(_ work: @escaping @Sendable () -> T) async -> T {
        await withCheckedContinuation { continuation in
            DispatchQueue.global().async { continuation.resume(returning: work()) }
        }
    }

    private func sendBlocking(_ bytes: [UInt8]) -> Bool {
        var offset = 0
        while offset < bytes.count {
            let sent = bytes[offset...].withUnsafeBytes { Glibc.send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
            if sent <= 0 { return false }
            offset += sent
        }
        return true
    }

    enum Ending: Equatable, Sendable { case closed, reset, timedOut }

    private func readToEndBlocking() -> (bytes: [UInt8], ending: Ending) {
        var received: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 65536)
        while true {
            let count = buffer.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
            if count > 0 { received += buffer[..<count]; continue }
            if count == 0 { return (received, .closed) }
            return (received, errno == EAGAIN || errno == EWOULDBLOCK ? .timedOut : .reset)
        }
    }
}

struct RawConnectionError: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}
