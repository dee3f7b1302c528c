import Foundation
import Synchronization
import Testing
@testable import Compute

/// The engine's fork-join (`Parallel.forTasks` on `WorkerPool`): every task runs exactly once and
/// the call returns only after all of them, whether the workers are spinning, asleep, busy with
/// another caller, or the call is nested in one of their tasks.
@Suite("Worker pool")
struct WorkerPoolTests {
    /// Runs `forTasks(tasks)` and returns how often each task ran, read after the call returned.
    private static func counts(_ tasks: Int) -> [Int] {
        let counts = UnsafeMutablePointer<Int>.allocate(capacity: max(tasks, 1))
        counts.initialize(repeating: 0, count: max(tasks, 1))
        defer { counts.deallocate() }
        Parallel.forTasks(tasks) { task in
            // Enough work that the caller and a worker both take tasks.
            var x = 0.0
            for i in 0..<2_000 { x += Double(i % 7) }
            counts[task] += x > 0 ? 1 : 0
        }
        return Array(UnsafeBufferPointer(start: counts, count: tasks))
    }

    @Test func everyTaskRunsOnceInBackToBackCalls() {
        for round in 0..<2_000 {
            let tasks = [0, 1, 2, 3, 5, 17][round % 6]
            #expect(Self.counts(tasks) == [Int](repeating: 1, count: tasks), "round \(round), \(tasks) tasks")
        }
    }

    @Test func sleepingWorkersWakeForTheNextCall() throws {
        for _ in 0..<5 {
            Thread.sleep(forTimeInterval: 0.005)   // 25× the spin window: the workers are asleep
            #expect(Self.counts(4) == [1, 1, 1, 1])
        }
    }

    @Test func concurrentCallersAllFinish() {
        // Several threads at once: one holds the workers, the others fall back to libdispatch.
        let failures = Atomic<Int>(0)
        let threads = 6
        let done = DispatchSemaphore(value: 0)
        withUnsafePointer(to: failures) { failures in
            let shared = UnsafeSendable(failures)
            for _ in 0..<threads {
                Thread {
                    for round in 0..<300 where Self.counts(2 + round % 4) != [Int](repeating: 1, count: 2 + round % 4) {
                        shared.value.pointee.add(1, ordering: .relaxed)
                    }
                    done.signal()
                }.start()
            }
            for _ in 0..<threads { done.wait() }
        }
        #expect(failures.load(ordering: .relaxed) == 0)
    }

    private struct UnsafeSendable<T>: @unchecked Sendable {
        let value: T
        init(_ value: T) { self.value = value }
    }

    @Test func nestedCallsDoNotDeadlock() {
        let inner = Atomic<Int>(0)
        Parallel.forTasks(3) { _ in
            Parallel.forTasks(4) { _ in inner.add(1, ordering: .relaxed) }
        }
        #expect(inner.load(ordering: .relaxed) == 12)
    }

    @Test func onThisThreadOnlyRunsEveryTaskOnTheCallingThreadAndThenStops() {
        let caller = pthread_self()
        let elsewhere = Atomic(0), ran = Atomic(0)
        Parallel.onThisThreadOnly {
            Parallel.forTasks(4) { _ in
                if pthread_equal(pthread_self(), caller) == 0 { elsewhere.add(1, ordering: .relaxed) }
                ran.add(1, ordering: .relaxed)
            }
            Parallel.forRanges(count: 1_000, workPerItem: 1_000_000) { range in
                if pthread_equal(pthread_self(), caller) == 0 { elsewhere.add(1, ordering: .relaxed) }
                ran.add(range.count, ordering: .relaxed)
            }
        }
        #expect(ran.load(ordering: .relaxed) == 4 + 1_000)
        #expect(elsewhere.load(ordering: .relaxed) == 0)
        // Afterwards, and after a nested use, the flag is off again: the workers take tasks again.
        #expect(!Parallel.ThisThreadOnly.isOn)
        Parallel.onThisThreadOnly {
            Parallel.onThisThreadOnly {}
            #expect(Parallel.ThisThreadOnly.isOn)
        }
        #expect(!Parallel.ThisThreadOnly.isOn)
    }
}
