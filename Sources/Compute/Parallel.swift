import Dispatch

/// Splits the element-wise work between the GEMMs (layer norms, activations, softmax rows) over
/// as many cores as the GEMMs use. At batch 1 these run on one core while the other waits, and
/// they are a tenth to a fifth of a ViT forward; small ranges stay on the calling thread, where a
/// fork-join (a few microseconds) would cost more than it saves.
public enum Parallel {
    /// Work items below this many (roughly: floats touched) run inline.
    public static let minimumWorkPerTask = 16_384

    /// Calls `body` on disjoint, contiguous ranges that together cover `0..<count`, concurrently
    /// when there is enough work. `workPerItem` is about the floats one item touches.
    @inlinable
    public static func forRanges(count: Int, workPerItem: Int, _ body: (Range<Int>) -> Void) {
        let tasks = min(BLAS.threads, count, max(1, count * workPerItem / minimumWorkPerTask))
        guard tasks > 1 else {
            if count > 0 { body(0..<count) }
            return
        }
        forTasks(tasks) { task in body(count * task / tasks ..< count * (task + 1) / tasks) }
    }

    /// Runs `body(0)` … `body(tasks − 1)` concurrently and returns when all are done. The tasks
    /// must touch disjoint memory: that is what makes sharing the non-Sendable body safe.
    /// The engine's spinning workers (`WorkerPool`) run them; when another caller holds those,
    /// libdispatch does.
    public static func forTasks(_ tasks: Int, _ body: (Int) -> Void) {
        guard tasks > 1 else {
            if tasks == 1 { body(0) }
            return
        }
        withoutActuallyEscaping(body) { body in
            let shared = UncheckedBody(body: body)
            if WorkerPool.shared.run(tasks: tasks, shared.body) { return }
            DispatchQueue.concurrentPerform(iterations: tasks) { shared.body($0) }
        }
    }

    private struct UncheckedBody: @unchecked Sendable {
        let body: (Int) -> Void
    }
}
