import Foundation
import Synchronization
#if canImport(Glibc)
import Glibc
#endif

/// The engine's fork-join: persistent workers that spin for a short while after each job before
/// they sleep, so that the ~100 fork-joins of one forward pass (every GEMM, layer norm,
/// activation and attention block) find them awake.
///
/// Why not `DispatchQueue.concurrentPerform`: its worker goes back to sleep between calls, and
/// waking it costs 40–50 µs on these machines, about 4 ms per ViT-B/32 forward at batch 1 (a
/// tenth of it). Here a hot fork-join costs about a microsecond. OpenBLAS's threads spin too, but
/// for about 0.1 s after every call; these spin for `spinWindow` (0.2 ms), then sleep on a condition.
///
/// One caller at a time uses the workers; a second concurrent caller (tagging while a tuning job
/// runs) or a nested call gets libdispatch instead, so nothing ever waits for the pool.
final class WorkerPool: @unchecked Sendable {
    static let shared = WorkerPool(maximumWorkers: max(ProcessInfo.processInfo.activeProcessorCount - 1, 0))

    /// How long an idle worker keeps checking for work before it sleeps.
    static let spinWindow: Duration = .microseconds(200)

    private let inUse = Atomic<Bool>(false)
    /// Started with the pool (the pool is created on the first fork-join); written only in `init`.
    private var workers: [Worker] = []

    // The current job, written by the caller before it signals and read by the workers after.
    private var body: ((Int) -> Void)?
    private var taskCount = 0
    private let nextTask = Atomic<Int>(0)

    init(maximumWorkers: Int) {
        workers = (0..<maximumWorkers).map { _ in Worker(pool: self) }
    }

    /// Runs `body(0)` … `body(tasks − 1)` on the calling thread and up to `tasks − 1` workers, and
    /// returns when all are done. Returns false, having run nothing, when the pool is in use.
    func run(tasks: Int, _ body: @escaping (Int) -> Void) -> Bool {
        guard inUse.compareExchange(expected: false, desired: true, ordering: .acquiring).exchanged else { return false }
        defer { inUse.store(false, ordering: .releasing) }
        let helpers = workers.prefix(tasks - 1)
        self.body = body
        taskCount = tasks
        nextTask.store(0, ordering: .relaxed)
        for worker in helpers { worker.start() }
        runTasks()
        for worker in helpers { worker.waitUntilDone() }
        self.body = nil
        return true
    }

    /// Claims and runs tasks until none are left (the caller and every engaged worker).
    @inline(never)
    fileprivate func runTasks() {
        let body = self.body!, count = taskCount
        while true {
            let task = nextTask.add(1, ordering: .relaxed).oldValue
            guard task < count else { return }
            body(task)
        }
    }

    /// One thread, signalled through its own generation counter; `done` echoes the generation
    /// it finished. It sleeps on its own condition variable once `spinWindow` passes idle.
    private final class Worker: @unchecked Sendable {
        private let generation = Atomic<Int>(0)
        private let done = Atomic<Int>(0)
        private let sleeping = Atomic<Bool>(false)
        private let mutex = UnsafeMutablePointer<pthread_mutex_t>.allocate(capacity: 1)
        private let condition = UnsafeMutablePointer<pthread_cond_t>.allocate(capacity: 1)
        private unowned let pool: WorkerPool

        init(pool: WorkerPool) {
            self.pool = pool
            pthread_mutex_init(mutex, nil)
            pthread_cond_init(condition, nil)
            let thread = Thread { [self] in self.loop() }
            thread.name = "tagtune-compute"
            thread.start()
        }

        /// Called by the pool's caller once the job is in place.
        func start() {
            generation.add(1, ordering: .sequentiallyConsistent)
            // The worker sets `sleeping` before its last look at `generation` (both sequentially
            // consistent), so either it sees the new job or this sees it asleep and wakes it.
            if sleeping.load(ordering: .sequentiallyConsistent) {
                pthread_mutex_lock(mutex)
                pthread_cond_signal(condition)
                pthread_mutex_unlock(mutex)
            }
        }

        /// Spins briefly, then yields the core on every look: when there are more runnable
        /// threads than cores (a second process, or tagging beside a tuning job), the worker being
        /// waited for may need the very core this would spin on.
        func waitUntilDone() {
            let target = generation.load(ordering: .relaxed)
            var spins = 0
            while done.load(ordering: .acquiring) != target {
                spins += 1
                if spins > 1_000 { sched_yield() }
            }
        }

        private func loop() {
            var seen = 0
            while true {
                seen = waitForJob(after: seen)
                pool.runTasks()
                done.store(seen, ordering: .releasing)
            }
        }

        private func waitForJob(after seen: Int) -> Int {
            let clock = ContinuousClock()
            let deadline = clock.now.advanced(by: WorkerPool.spinWindow)
            var spins = 0
            while true {
                let current = generation.load(ordering: .acquiring)
                if current != seen { return current }
                spins += 1
                if spins & 255 == 0 {
                    if clock.now >= deadline { break }
                    sched_yield()   // idle: let any other runnable thread have the core
                }
            }
            pthread_mutex_lock(mutex)
            sleeping.store(true, ordering: .sequentiallyConsistent)
            while generation.load(ordering: .sequentiallyConsistent) == seen {
                pthread_cond_wait(condition, mutex)
            }
            sleeping.store(false, ordering: .relaxed)
            pthread_mutex_unlock(mutex)
            return generation.load(ordering: .acquiring)
        }
    }
}
