import Dispatch
#if canImport(Glibc)
import Glibc
#endif

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
        guard tasks > 1, !ThisThreadOnly.isOn else {
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
        guard tasks > 1, !ThisThreadOnly.isOn else {
            for task in 0..<max(tasks, 0) { body(task) }
            return
        }
        withoutActuallyEscaping(body) { body in
            let shared = UncheckedBody(body: body)
            if WorkerPool.shared.run(tasks: tasks, shared.body) { return }
            DispatchQueue.concurrentPerform(iterations: tasks) { shared.body($0) }
        }
    }

    /// Runs `body` with every parallel loop it reaches on this thread run in order on this thread:
    /// for callers that already give each worker a whole unit of work of its own (a ResNet image
    /// through the whole tower), where a fork-join per layer would only make the workers wait for
    /// each other. Products and element-wise loops give the bits they give split over workers (their
    /// splits follow the machine's cores, never the threads that run them); a packed convolution
    /// runs as one call instead of bands of rows (`PackedConvolution`), which may round differently.
    public static func onThisThreadOnly<T>(_ body: () throws -> T) rethrows -> T {
        let was = ThisThreadOnly.isOn
        ThisThreadOnly.isOn = true
        defer { ThisThreadOnly.isOn = was }
        return try body()
    }

    /// The flag of `onThisThreadOnly`, per thread.
    @usableFromInline enum ThisThreadOnly {
        static let key: pthread_key_t = {
            var key = pthread_key_t()
            precondition(pthread_key_create(&key, nil) == 0, "pthread_key_create failed")
            return key
        }()

        @usableFromInline static var isOn: Bool {
            get { pthread_getspecific(key) != nil }
            set { pthread_setspecific(key, newValue ? UnsafeRawPointer(bitPattern: 1) : nil) }
        }
    }

    private struct UncheckedBody: @unchecked Sendable {
        let body: (Int) -> Void
    }
}
