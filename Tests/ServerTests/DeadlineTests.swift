import Foundation
import NIOConcurrencyHelpers
import Testing
@testable import Server

/// `Deadline.run` past its limit answers the timeout error, never what the cancelled operation
/// throws on its way out. The cluster test once got a 500 from a read the deadline cut short:
/// postgres-nio answers a cancelled pool request with `PSQLError.queryCancelled`, and that reached
/// the caller because the timer cancelled the operation before it settled with the timeout.
@Suite("Deadline", .serialized)
struct DeadlineTests {
    struct TimedOut: Error {}
    struct Failed: Error {}

    @Test func anOperationPastItsLimitGivesTheTimeoutErrorEvenWhenItThrowsOnCancellation() async throws {
        let threw = NIOLockedValueBox(false)
        // The timeout error is made only once the operation has thrown on cancellation (bounded: when
        // the timer settles before it cancels, the operation throws only afterwards).
        let timeout: @Sendable () -> any Error = {
            let until = Date().addingTimeInterval(0.3)
            while !threw.withLockedValue({ $0 }) && Date() < until { usleep(1000) }
            usleep(20_000)   // the operation's task settles now, if it can
            return TimedOut()
        }
        await #expect(throws: TimedOut.self) {
            _ = try await Deadline.run(.milliseconds(20), onTimeout: timeout()) { () async throws -> Int in
                do { try await Task.sleep(for: .seconds(60)) } catch { threw.withLockedValue { $0 = true }; throw Failed() }
                return 1
            }
        }
    }

    @Test func anOperationWithinItsLimitGivesItsValueOrItsError() async throws {
        let value = try await Deadline.run(.seconds(30), onTimeout: TimedOut()) { 7 }
        #expect(value == 7)
        await #expect(throws: Failed.self) {
            _ = try await Deadline.run(.seconds(30), onTimeout: TimedOut()) { () async throws -> Int in throw Failed() }
        }
    }

    @Test func anOperationThatIgnoresCancellationIsNotWaitedFor() async throws {
        let release = DispatchSemaphore(value: 0)
        let finished = NIOLockedValueBox(false)
        await #expect(throws: TimedOut.self) {
            _ = try await Deadline.run(.milliseconds(20), onTimeout: TimedOut()) { () async throws -> Int in
                _ = release.wait(timeout: .now() + 10)   // blocking, deaf to cancellation
                finished.withLockedValue { $0 = true }
                return 1
            }
        }
        #expect(!finished.withLockedValue { $0 })
        release.signal()
    }
}
