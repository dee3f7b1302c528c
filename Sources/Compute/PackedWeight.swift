import CElementwise
import CPackedGEMM
import CPanelGEMM
import Foundation

/// The number format a model's weight products run in. Layer norms, softmax, activations and
/// the read-out stay float32 either way; bf16 products accumulate in float32.
public enum Precision: String, Sendable, CaseIterable, Codable {
    case f32, bf16
}

/// Why a weight could not be packed (oneDNN has no matmul for it on this CPU).
public struct PackingError: Error, CustomStringConvertible {
    public let description: String
}

/// A weight matrix W [N, K] (PyTorch's out × in) reordered once, at load, so that no product repacks
/// it (OpenBLAS repacks every weight on every call, a third of a ViT-B/32 forward at batch 1).
///
/// On CPUs with AVX-512, float32 weights go into the engine's own panels of 64 columns and every
/// product runs on the engine's kernel (`CPanelGEMM`: it prefetches the weights it reads next, which
/// oneDNN 2.6's kernels do not, and sums each output in one order for any batch). Otherwise (bf16,
/// AVX2 and below, or `kernel: .oneDNN`) W is laid out as oneDNN's matmul picks for this CPU and
/// precision:
///
/// W is stored as column slices of the product (row ranges of W), a few per worker: the engine
/// splits each product over its own workers, one slice each, as `gemm` does (oneDNN's OpenMP team
/// stays at one thread). `parts` are row ranges a caller multiplies by alone (the query rows of a
/// fused qkv weight); slices never cross them.
public final class PackedWeight: @unchecked Sendable {
    public let outFeatures: Int
    public let inFeatures: Int
    public let precision: Precision
    /// The kernel the weights are laid out for: "tagtune:avx512_panels", or oneDNN's, e.g. "brg:avx512_core" or "gemm:jit".
    public let implementation: String
    /// Bytes the packed weights hold (the panels, all slices, or the whole weight their views share).
    public let bytes: Int
    /// The panels of the engine's own kernel (`Kernel.panels`), nil where oneDNN's kernels run.
    @usableFromInline let panels: UnsafeMutablePointer<Float>?
    /// Whether the products run on the engine's own kernel (`Kernel.panels`).
    public var kernel: Kernel { panels == nil ? .oneDNN : .panels }
    @usableFromInline let slices: [Slice]
    /// Where the layout is blocked (AVX-512), W is packed once, whole, and the slices are views of
    /// it; these are views too: the whole weight and each part, by their rows of W. A product of
    /// many rows then runs at full width on a share of the rows per worker, writing its output rows
    /// in place: oneDNN's brgemm kernels take only dense output rows, so a column slice of a
    /// product goes through a copy (5% of a ViT-B/32 forward at batch 8 and 32).
    let fullWidth: [Range<Int>: Slice]

    @usableFromInline
    final class Slice: @unchecked Sendable {
        @usableFromInline let rows: Range<Int>          // rows of W, columns of the product
        @usableFromInline let handle: OpaquePointer     // tt_packed_weight *
        /// Wᵀ [K, rows.count] row-major when oneDNN laid the weights out plainly (AVX2 and below).
        @usableFromInline let plain: UnsafePointer<Float>?
        /// The weight whose memory a view shares, kept alive as long as the view.
        let owner: Slice?
        init(rows: Range<Int>, handle: OpaquePointer, owner: Slice? = nil) {
            self.rows = rows
            self.handle = handle
            self.owner = owner
            plain = tt_packed_weight_plain(handle)
        }
        deinit { tt_packed_weight_destroy(handle) }
    }

    /// The kernels that run the products.
    public enum Kernel: String, Sendable, CaseIterable {
        /// The engine's own (AVX-512, float32).
        case panels
        /// oneDNN's matmul (and OpenBLAS's sgemm where it is faster on plain layouts).
        case oneDNN = "onednn"
    }

    /// The engine's own kernel where the CPU has AVX-512, unless `TAGTUNE_GEMM=onednn` is set in the
    /// environment (for benchmarks that compare the two in one build).
    public static let defaultKernel: Kernel =
        tt_panel_gemm_supported() && ProcessInfo.processInfo.environment["TAGTUNE_GEMM"] != Kernel.oneDNN.rawValue
            ? .panels : .oneDNN

    /// Packs W [outFeatures, inFeatures] (row stride `inFeatures`), split for `workers` workers.
    /// The default is the machine's cores, not `BLAS.threads`: slices set how each column is summed
    /// in oneDNN's kernels, so they must not follow a thread setting (`--threads`, or a test that
    /// changes it while a model loads) if the same image is to give the same bits everywhere.
    /// Float32 weights go into panels when `kernel` is `.panels`, the CPU has AVX-512 and the parts
    /// start on multiples of 64 rows; otherwise oneDNN's layout.
    public init(_ weight: UnsafePointer<Float>, outFeatures n: Int, inFeatures k: Int, precision: Precision,
                parts: [Range<Int>]? = nil, workers: Int = ProcessInfo.processInfo.activeProcessorCount,
                kernel: Kernel = PackedWeight.defaultKernel) throws {
        let parts = parts ?? [0..<n]
        precondition(parts.first?.lowerBound == 0 && parts.last?.upperBound == n
                     && zip(parts, parts.dropFirst()).allSatisfy { $0.upperBound == $1.lowerBound },
                     "parts must cover 0..<\(n) in order")
        self.outFeatures = n
        self.inFeatures = k
        self.precision = precision
        if kernel == .panels && precision == .f32 && tt_panel_gemm_supported()
            && parts.allSatisfy({ $0.lowerBound % Int(TT_PANEL_WIDTH) == 0 }) {
            let floats = tt_panel_floats(n, k)
            let memory = UnsafeMutableRawPointer.allocate(byteCount: floats * 4, alignment: 64).bindMemory(to: Float.self, capacity: floats)
            tt_panel_pack(memory, weight, n, k, k)
            panels = memory
            slices = []
            fullWidth = [:]
            implementation = "tagtune:avx512_panels"
            bytes = floats * 4
            return
        }
        panels = nil
        let ranges = parts.flatMap { Self.split($0, workers: workers) }
        let layoutPrecision = precision == .bf16 ? TT_BF16 : TT_F32
        var error = [CChar](repeating: 0, count: 256)
        func pack(_ rows: Range<Int>) throws -> Slice {
            guard let handle = tt_packed_weight_create(weight + rows.lowerBound * k, rows.count, k, k,
                                                       layoutPrecision, &error, error.count)
            else { throw PackingError(description: Self.text(error)) }
            return Slice(rows: rows, handle: handle)
        }
        func view(_ rows: Range<Int>, of whole: Slice) -> Slice? {
            tt_packed_weight_columns(whole.handle, rows.lowerBound, rows.count, &error, error.count).map {
                Slice(rows: rows, handle: $0, owner: whole)
            }
        }
        // A plain layout (AVX2) is packed slice by slice; a blocked one whole, with views, if the
        // slices and parts start on its column blocks (they do on multiples of 64 columns).
        var plain = false
        guard tt_packed_weight_layout_is_plain(ranges[0].count, k, layoutPrecision, &plain, &error, error.count) == 0
        else { throw PackingError(description: Self.text(error)) }
        var slices: [Slice] = [], fullWidth: [Range<Int>: Slice] = [:]
        if !plain {
            let whole = try pack(0..<n)
            let views = ranges.map { view($0, of: whole) }, partViews = parts.map { view($0, of: whole) }
            if views.allSatisfy({ $0 != nil }) && partViews.allSatisfy({ $0 != nil }) {
                slices = views.map { $0! }
                for part in partViews { fullWidth[part!.rows] = part! }
                fullWidth[0..<n] = whole   // after the parts: a single part 0..<n is the whole itself
            }
        }
        if fullWidth.isEmpty {
            slices = try ranges.map(pack)
        }
        self.slices = slices
        self.fullWidth = fullWidth
        self.implementation = String(cString: tt_packed_weight_implementation(slices[0].handle))
        self.bytes = (slices + fullWidth.values).reduce(0) { $0 + tt_packed_weight_bytes($1.handle) }
    }

    deinit { panels?.deallocate() }

    /// Why weights cannot be packed in `precision` on this CPU, or nil when they can
    /// (bf16 needs AVX-512; oneDNN has no kernels for it below).
    public static func unsupportedReason(_ precision: Precision) -> String? {
        let probe = [Float](repeating: 0, count: 64 * 64)
        do {
            _ = try probe.withUnsafeBufferPointer {
                try PackedWeight($0.baseAddress!, outFeatures: 64, inFeatures: 64, precision: precision, workers: 1)
            }
            return nil
        } catch {
            return "\(error)"
        }
    }

    static func text(_ buffer: [CChar]) -> String {
        String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }

    /// A part split into slices on multiples of 64 rows (oneDNN's blocks), as many as the workers or
    /// a multiple of them, each at most 1,152 wide: on AVX2, oneDNN 2.6's kernels run slices of 1,536
    /// (ViT-B's MLP, 3,072 over two workers) at 0.8× OpenBLAS and slices of 768 or 1,152 at 1.1–1.5×
    /// (`tagtune bench gemm`, docs/BENCHMARKS.md).
    static func split(_ part: Range<Int>, workers: Int) -> [Range<Int>] {
        let workers = max(1, workers)
        let rounds = (part.count + workers * widestSlice - 1) / (workers * widestSlice)
        let count = max(1, min(workers * rounds, part.count / 64))
        let edges = (0...count).map { $0 == count ? part.count : (part.count * $0 / count) & ~63 }
        return zip(edges, edges.dropFirst()).map { part.lowerBound + $0 ..< part.lowerBound + $1 }
    }

    static let widestSlice = 1152

    /// From this many rows a product with a whole-width weight is split by rows, not by columns:
    /// shares of 64 rows or more keep oneDNN's kernels busy, and a smaller product (ViT-B/32 at
    /// batch 1: 50 rows) is better cut by columns, each worker reading only its part of W.
    static let rowSplitRows = 128

    /// Whether oneDNN's kernel runs a product with `rows` rows faster than OpenBLAS on the same
    /// plainly laid-out weights (AVX2): for few rows, where OpenBLAS packs the whole weight for a
    /// handful of rows, and not for K = 512, where oneDNN 2.6 is slower at every row count measured
    /// but the smallest (`tagtune bench gemm`, docs/BENCHMARKS.md). Blocked layouts (AVX-512) have
    /// only oneDNN's kernels.
    @inlinable
    static func oneDNNIsFaster(rows: Int, inFeatures: Int) -> Bool {
        rows <= 4 || (rows <= 64 && inFeatures >= 768)
    }

    /// out[m, j] (+)= Σ_i inp[m, i] · W[outputs.lowerBound + j, i] + bias[outputs.lowerBound + j]
    /// for the product's columns j < outputs.count; `outputs` must be a union of whole parts.
    /// `bias` is indexed by rows of W. Large products run one slice per worker. With `activation`,
    /// out = act(…) instead, applied by the kernel as it writes (no second pass over out).
    public func forward(out: UnsafeMutablePointer<Float>, ldc: Int? = nil,
                        inp: UnsafePointer<Float>, lda: Int? = nil, rows m: Int,
                        bias: UnsafePointer<Float>?, outputs: Range<Int>? = nil, accumulate: Bool = false,
                        activation: Activation? = nil) {
        let outputs = outputs ?? 0..<outFeatures
        let ldc = ldc ?? outputs.count, lda = lda ?? inFeatures
        if let panels {
            forwardOnPanels(panels, out: out, ldc: ldc, inp: inp, lda: lda, rows: m, bias: bias, outputs: outputs,
                            accumulate: accumulate, activation: activation)
            return
        }
        if m >= Self.rowSplitRows, let full = fullWidth[outputs] {
            // Each worker its share of the rows, every column: no copies (see `fullWidth`).
            let tasks = max(1, min(BLAS.threads, m / (Self.rowSplitRows / 2)))
            Parallel.forTasks(tasks) { task in
                let (from, to) = (m * task / tasks, m * (task + 1) / tasks)
                multiply(full, out: out + from * ldc, ldc: ldc, inp: inp + from * lda, lda: lda,
                         rows: to - from, bias: bias, accumulate: accumulate, activation: activation)
            }
            return
        }
        let chosen = slices.filter { outputs.contains($0.rows.lowerBound) }
        precondition(chosen.reduce(0) { $0 + $1.rows.count } == outputs.count, "outputs \(outputs) are not whole parts")
        func run(_ slice: Slice) {
            multiply(slice, out: out + (slice.rows.lowerBound - outputs.lowerBound), ldc: ldc, inp: inp, lda: lda,
                     rows: m, bias: bias, accumulate: accumulate, activation: activation)
        }
        // As many tasks as the engine's threads (set by --threads), each taking every tasks-th slice.
        let flops = 2 * m * outputs.count * inFeatures
        let tasks = flops < 2 * BLAS.minimumFLOPsPerTask ? 1 : min(BLAS.threads, chosen.count)
        if tasks <= 1 {
            for slice in chosen { run(slice) }
        } else {
            Parallel.forTasks(tasks) { task in
                for index in stride(from: task, to: chosen.count, by: tasks) { run(chosen[index]) }
            }
        }
    }

    /// `forward` on the panels: many rows are split by rows (each worker reads every panel, the
    /// workers' reads of a panel close together in time, so memory serves it once to the shared
    /// cache), few rows by panels (each worker reads its own share of the weights).
    private func forwardOnPanels(_ panels: UnsafeMutablePointer<Float>, out: UnsafeMutablePointer<Float>, ldc: Int,
                                 inp: UnsafePointer<Float>, lda: Int, rows m: Int, bias: UnsafePointer<Float>?,
                                 outputs: Range<Int>, accumulate: Bool, activation: Activation?) {
        let width = Int(TT_PANEL_WIDTH)
        precondition(outputs.lowerBound % width == 0 && (outputs.upperBound % width == 0 || outputs.upperBound == outFeatures),
                     "outputs \(outputs) do not start and end on panels")
        let (first, end) = (outputs.lowerBound / width, (outputs.upperBound + width - 1) / width)
        let kernelActivation = Self.kernelActivation(activation)
        // The kernel indexes out by the product's columns from column 0.
        let origin = out - outputs.lowerBound
        func run(rows: Range<Int>, panels range: Range<Int>) {
            tt_panel_gemm(origin + rows.lowerBound * ldc, ldc, inp + rows.lowerBound * lda, lda, panels,
                          rows.count, outFeatures, inFeatures, range.lowerBound, range.upperBound, bias,
                          accumulate, kernelActivation)
        }
        let flops = 2 * m * outputs.count * inFeatures
        let panelCount = end - first
        if flops < 2 * BLAS.minimumFLOPsPerTask || BLAS.threads == 1 {
            run(rows: 0..<m, panels: first..<end)
        } else if m >= Self.rowSplitRows || panelCount < BLAS.threads {
            let tasks = max(1, min(BLAS.threads, m / 8))
            Parallel.forTasks(tasks) { task in
                run(rows: m * task / tasks ..< m * (task + 1) / tasks, panels: first..<end)
            }
        } else {
            let tasks = min(BLAS.threads, panelCount)
            Parallel.forTasks(tasks) { task in
                run(rows: 0..<m, panels: first + panelCount * task / tasks ..< first + panelCount * (task + 1) / tasks)
            }
        }
    }

    /// Panels of 64 columns the weight takes (the last one padded with zeros).
    private var panelCount: Int { (outFeatures + Int(TT_PANEL_WIDTH) - 1) / Int(TT_PANEL_WIDTH) }

    static func kernelActivation(_ activation: Activation?) -> tt_activation {
        switch activation {
        case nil: TT_NO_ACTIVATION
        case .quickGELU: TT_QUICK_GELU
        case .gelu: TT_GELU
        }
    }

    /// The whole product (every column) on the calling thread: for callers that split the rows
    /// over the workers themselves (a convolution's chunks of output pixels).
    public func forwardOnThisThread(out: UnsafeMutablePointer<Float>, ldc: Int? = nil,
                                    inp: UnsafePointer<Float>, lda: Int? = nil, rows m: Int,
                                    bias: UnsafePointer<Float>?, accumulate: Bool = false) {
        if let panels {
            tt_panel_gemm(out, ldc ?? outFeatures, inp, lda ?? inFeatures, panels, m, outFeatures, inFeatures,
                          0, panelCount, bias, accumulate, TT_NO_ACTIVATION)
            return
        }
        if let whole = fullWidth[0..<outFeatures] {
            multiply(whole, out: out, ldc: ldc ?? outFeatures, inp: inp, lda: lda ?? inFeatures,
                     rows: m, bias: bias, accumulate: accumulate, activation: nil)
            return
        }
        for slice in slices {
            multiply(slice, out: out + slice.rows.lowerBound, ldc: ldc ?? outFeatures, inp: inp, lda: lda ?? inFeatures,
                     rows: m, bias: bias, accumulate: accumulate, activation: nil)
        }
    }

    /// One slice's columns of the product, on the calling thread, by whichever kernel is faster.
    private func multiply(_ slice: Slice, out: UnsafeMutablePointer<Float>, ldc: Int, inp: UnsafePointer<Float>, lda: Int,
                          rows m: Int, bias: UnsafePointer<Float>?, accumulate: Bool, activation: Activation?) {
        if let plain = slice.plain, !Self.oneDNNIsFaster(rows: m, inFeatures: inFeatures) {
            gemmSlice(transA: false, transB: false, m: m, n: slice.rows.count, k: inFeatures, alpha: 1,
                      a: inp, lda: lda, b: plain, ldb: slice.rows.count, beta: accumulate ? 1 : 0,
                      c: out, ldc: ldc, rowBias: bias.map { $0 + slice.rows.lowerBound })
            if let activation {
                for r in 0..<m { activation.forwardOnThisThread(out + r * ldc, count: slice.rows.count) }
            }
            return
        }
        var error = [CChar](repeating: 0, count: 256)
        let kernelActivation = Self.kernelActivation(activation)
        let status = tt_packed_matmul(slice.handle, m, inp, lda, bias.map { $0 + slice.rows.lowerBound },
                                      out, ldc, accumulate, kernelActivation, &error, error.count)
        // The shapes were checked when the weights were packed; what is left is running out of memory.
        if status != 0 { fatalError("oneDNN: \(Self.text(error))") }   // precondition drops its message in release builds
    }
}

/// The library behind `PackedWeight`: its version and the instruction set its kernels use.
public enum OneDNN {
    public static var version: String { String(cString: tt_onednn_version()) }
    public static var isa: String { String(cString: tt_onednn_isa()) }
    /// Whether this CPU computes bfloat16 products natively (AVX512_BF16 or AMX).
    public static var hasNativeBF16: Bool { tt_onednn_native_bf16() }
}
