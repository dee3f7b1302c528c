import Dispatch

/// Splits element-wise and per-row work across the cores the GEMMs use, so the layers between
/// two matrix products do not leave all but one core idle. Work too small to pay for the
/// hand-off (about 10 µs) runs on the calling thread.
public enum Parallel {
    /// Threads to use: the BLAS thread count, so the whole engine follows one setting.
    public static var threads: Int { max(1, BLAS.threads) }

    /// Calls `body` on disjoint, contiguous sub-ranges covering 0..<count.
    /// `grain` is the smallest number of items worth a thread of its own.
    @inlinable
    public static func forEachRange(_ count: Int, grain: Int, _ body: (Range<Int>) -> Void) {
        let workers = min(threads, count / max(grain, 1))
        guard workers > 1 else {
            if count > 0 { body(0..<count) }
            return
        }
        withoutActuallyEscaping(body) { body in
            // The ranges are disjoint, so the raw pointers the body captures are never shared.
            let task = UncheckedSendable(body)
            DispatchQueue.concurrentPerform(iterations: workers) { w in
                let start = count * w / workers, end = count * (w + 1) / workers
                task.value(start..<end)
            }
        }
    }
}

/// Carries a value the compiler cannot prove thread-safe across a concurrency boundary;
/// used only where the code guarantees exclusive access (disjoint ranges).
@usableFromInline
struct UncheckedSendable<Value>: @unchecked Sendable {
    @usableFromInline let value: Value
    @usableFromInline init(_ value: Value) { self.value = value }
}
