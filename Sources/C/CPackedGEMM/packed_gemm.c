// oneDNN's matmul with weights reordered once (see CPackedGEMM.h).
#include "CPackedGEMM.h"
#include "onednn_shared.h"

#include <oneapi/dnnl/dnnl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

// libgomp's (Debian's oneDNN runs on OpenMP); omp.h is not on clang's include path.
extern void omp_set_num_threads(int);

// One primitive per shape of call: rows, strides and whether the product adds onto dst.
typedef struct {
    long m, lda, ldc;
    bool accumulate, bias;
    tt_activation activation;
    dnnl_primitive_t primitive;
    size_t scratchpad_bytes;
} cached_primitive;

struct tt_packed_weight {
    long n, k;
    bool plain;                     // the layout is row-major [k, n] float32
    bool view;                      // the memory is a run of another weight's (tt_packed_weight_columns)
    tt_precision precision;
    dnnl_memory_desc_t layout;      // the packed weights' descriptor (logical [k, n])
    dnnl_memory_t memory;           // owns the packed weights
    char implementation[64];
    pthread_mutex_t lock;           // guards `cache`
    cached_primitive *cache;
    int cached, capacity;
};

dnnl_engine_t engine;
dnnl_status_t engine_status;
pthread_once_t engine_once = PTHREAD_ONCE_INIT;
void make_engine(void) { engine_status = dnnl_engine_create(&engine, dnnl_cpu, 0); }

// The calling thread's stream, OpenMP team size and bf16 staging buffer. Worker threads live as
// long as the process, so these are made once per thread and never freed.
__thread dnnl_stream_t thread_stream;
static __thread uint16_t *thread_bf16;
static __thread size_t thread_bf16_capacity;
static __thread float *thread_staging;
static __thread size_t thread_staging_capacity;

// Every thread that creates or runs a primitive keeps oneDNN's OpenMP team at one thread, before
// anything is created: a primitive made while the default (all cores) is in force partitions its
// reduction for that many threads, and its sums then differ in the last bits from one made with one.
bool prepare_thread(void) {
    if (thread_stream) return true;
    omp_set_num_threads(1);
    if (dnnl_stream_create(&thread_stream, engine, dnnl_stream_default_flags) != dnnl_success) {
        thread_stream = NULL;
        return false;
    }
    return true;
}

void say(char *error, size_t capacity, const char *what, dnnl_status_t status) {
    if (error && capacity) snprintf(error, capacity, "oneDNN: %s failed (status %d)", what, (int)status);
}

#define TRY(call, what)                                                 \
    do {                                                                \
        dnnl_status_t s_ = (call);                                      \
        if (s_ != dnnl_success) { say(error, error_capacity, what, s_); goto fail; } \
    } while (0)

dnnl_data_type_t data_type(tt_precision p) { return p == TT_BF16 ? dnnl_bf16 : dnnl_f32; }

// The matmul's descriptor for `m` rows; weights as `weights` (a fixed layout, or any).
static dnnl_status_t describe(dnnl_primitive_desc_t *pd, long m, long n, long k, long lda, long ldc,
                              tt_precision precision, const dnnl_memory_desc_t *weights, bool accumulate, bool bias,
                              tt_activation activation) {
    dnnl_memory_desc_t src, dst, bias_md;
    dnnl_dims_t src_dims = {m, k}, src_strides = {precision == TT_BF16 ? k : lda, 1};
    dnnl_dims_t dst_dims = {m, n}, dst_strides = {ldc, 1}, bias_dims = {1, n};
    dnnl_status_t s;
    if ((s = dnnl_memory_desc_init_by_strides(&src, 2, src_dims, data_type(precision), src_strides))) return s;
    if ((s = dnnl_memory_desc_init_by_strides(&dst, 2, dst_dims, dnnl_f32, dst_strides))) return s;
    if ((s = dnnl_memory_desc_init_by_tag(&bias_md, 2, bias_dims, dnnl_f32, dnnl_ab))) return s;
    dnnl_matmul_desc_t desc;
    if ((s = dnnl_matmul_desc_init(&desc, &src, weights, bias ? &bias_md : NULL, &dst))) return s;
    dnnl_primitive_attr_t attr;
    if ((s = dnnl_primitive_attr_create(&attr))) return s;
    s = dnnl_primitive_attr_set_scratchpad_mode(attr, dnnl_scratchpad_mode_user);
    if (!s && (accumulate || activation != TT_NO_ACTIVATION)) {
        // After the bias: + dst, then the activation. quick_gelu is swish with alpha 1.702,
        // x · sigmoid(1.702 x); the exact GELU is gelu_erf.
        dnnl_post_ops_t ops;
        if (!(s = dnnl_post_ops_create(&ops))) {
            if (accumulate) s = dnnl_post_ops_append_sum(ops, 1.0f);
            if (!s && activation == TT_QUICK_GELU) s = dnnl_post_ops_append_eltwise(ops, 1.0f, dnnl_eltwise_swish, 1.702f, 0.0f);
            if (!s && activation == TT_GELU) s = dnnl_post_ops_append_eltwise(ops, 1.0f, dnnl_eltwise_gelu_erf, 0.0f, 0.0f);
            if (!s) s = dnnl_primitive_attr_set_post_ops(attr, ops);
            dnnl_post_ops_destroy(ops);
        }
    }
    if (!s) s = dnnl_primitive_desc_create(pd, &desc, attr, engine, NULL);
    dnnl_primitive_attr_destroy(attr);
    return s;
}

const char *implementation_of(const_dnnl_primitive_desc_t pd) {
    const char *name = "unknown";
    dnnl_primitive_desc_query(pd, dnnl_query_impl_info_str, 0, &name);
    return name;
}

// The layout oneDNN's best matmul wants for weights [k, n] in `precision`, and its implementation's
// name, asked with a middling row count (the layout follows the weights' shape and type; primitives
// for other row counts reuse it). -1 with a message when there is no such matmul but the reference.
static int choose_layout(long n, long k, tt_precision precision, dnnl_memory_desc_t *layout, char *implementation,
                         size_t implementation_capacity, char *error, size_t error_capacity) {
    pthread_once(&engine_once, make_engine);
    if (engine_status != dnnl_success) { say(error, error_capacity, "creating the CPU engine", engine_status); return -1; }
    if (!prepare_thread()) { if (error) snprintf(error, error_capacity, "oneDNN: creating a stream failed"); return -1; }
    dnnl_primitive_desc_t pd = NULL;
    int result = -1;
    dnnl_memory_desc_t any;
    dnnl_dims_t dims = {k, n};
    TRY(dnnl_memory_desc_init_by_tag(&any, 2, dims, data_type(precision), dnnl_format_tag_any), "describing the weights");
    dnnl_status_t described = describe(&pd, 256, n, k, k, n, precision, &any, false, true, TT_NO_ACTIVATION);
    if (described == dnnl_unimplemented) {
        if (error) snprintf(error, error_capacity, "oneDNN %s has no %s matmul for this CPU (instruction set %s)",
                            tt_onednn_version(), precision == TT_BF16 ? "bf16" : "f32", tt_onednn_isa());
        goto fail;
    }
    TRY(described, "describing a matmul");
    const char *name = implementation_of(pd);
    if (strncmp(name, "ref", 3) == 0) {
        if (error) snprintf(error, error_capacity, "oneDNN has only its reference %s matmul on this CPU",
                            precision == TT_BF16 ? "bf16" : "f32");
        goto fail;
    }
    if (implementation) snprintf(implementation, implementation_capacity, "%s", name);
    *layout = *dnnl_primitive_desc_query_md(pd, dnnl_query_weights_md, 0);
    result = 0;
fail:
    if (pd) dnnl_primitive_desc_destroy(pd);
    return result;
}

// Whether `layout` is the plain row-major [k, n] float32 one.
static bool is_plain(const dnnl_memory_desc_t *layout, long n, long k) {
    dnnl_memory_desc_t user_md;
    dnnl_dims_t dims = {k, n};
    return dnnl_memory_desc_init_by_tag(&user_md, 2, dims, dnnl_f32, dnnl_ab) == dnnl_success
        && dnnl_memory_desc_equal(&user_md, layout);
}

int tt_packed_weight_layout_is_plain(long n, long k, tt_precision precision, bool *plain, char *error, size_t error_capacity) {
    dnnl_memory_desc_t layout;
    if (choose_layout(n, k, precision, &layout, NULL, 0, error, error_capacity) != 0) return -1;
    *plain = is_plain(&layout, n, k);
    return 0;
}

tt_packed_weight *tt_packed_weight_create(const float *w, long n, long k, long ldw, tt_precision precision,
                                          char *error, size_t error_capacity) {
    tt_packed_weight *weight = calloc(1, sizeof *weight);
    dnnl_primitive_desc_t reorder_pd = NULL;
    dnnl_primitive_t reorder = NULL;
    dnnl_memory_t user = NULL;
    float *transposed = NULL;
    bool packed = false;
    if (!weight) { if (error) snprintf(error, error_capacity, "out of memory"); return NULL; }
    weight->n = n; weight->k = k; weight->precision = precision;
    pthread_mutex_init(&weight->lock, NULL);
    if (choose_layout(n, k, precision, &weight->layout, weight->implementation, sizeof weight->implementation,
                      error, error_capacity) != 0) goto fail;
    TRY(dnnl_memory_create(&weight->memory, &weight->layout, engine, DNNL_MEMORY_ALLOCATE), "allocating packed weights");

    // W [n, k] row-major is the matmul's [k, n] weights transposed. Transpose in tiles (a strided
    // reorder runs oneDNN's reference loop, 14 s for a ViT-B/32), straight into the packed memory
    // when the layout is the plain one (AVX2), else into a staging buffer that a reorder then lays
    // out and converts. The staging buffer is kept across calls: fresh pages cost more than the copy.
    dnnl_memory_desc_t user_md;
    dnnl_dims_t dims = {k, n};
    TRY(dnnl_memory_desc_init_by_tag(&user_md, 2, dims, dnnl_f32, dnnl_ab), "describing the checkpoint weights");
    bool plain = weight->plain = is_plain(&weight->layout, n, k);
    if (plain) {
        TRY(dnnl_memory_get_data_handle(weight->memory, (void **)&transposed), "the packed weights");
    } else {
        size_t need = (size_t)n * (size_t)k;
        if (need > thread_staging_capacity) {
            free(thread_staging);
            thread_staging = aligned_alloc(64, (need * 4 + 63) / 64 * 64);
            thread_staging_capacity = thread_staging ? need : 0;
        }
        transposed = thread_staging;
        if (!transposed) { if (error) snprintf(error, error_capacity, "out of memory"); goto fail; }
    }
    for (long i0 = 0; i0 < k; i0 += 32)
        for (long j0 = 0; j0 < n; j0 += 32)
            for (long j = j0; j < n && j < j0 + 32; j++)
                for (long i = i0; i < k && i < i0 + 32; i++) transposed[i * n + j] = w[j * ldw + i];
    if (plain) { packed = true; goto done; }
    TRY(dnnl_memory_create(&user, &user_md, engine, transposed), "wrapping the checkpoint weights");
    TRY(dnnl_reorder_primitive_desc_create(&reorder_pd, &user_md, engine, &weight->layout, engine, NULL), "a weight reorder");
    TRY(dnnl_primitive_create(&reorder, reorder_pd), "a weight reorder");
    dnnl_exec_arg_t args[2] = {{DNNL_ARG_FROM, user}, {DNNL_ARG_TO, weight->memory}};
    TRY(dnnl_primitive_execute(reorder, thread_stream, 2, args), "reordering the weights");
    TRY(dnnl_stream_wait(thread_stream), "reordering the weights");
    packed = true;
fail:
done:
    if (reorder) dnnl_primitive_destroy(reorder);
    if (reorder_pd) dnnl_primitive_desc_destroy(reorder_pd);
    if (user) dnnl_memory_destroy(user);
    if (packed) return weight;
    tt_packed_weight_destroy(weight);
    return NULL;
}

tt_packed_weight *tt_packed_weight_columns(const tt_packed_weight *whole, long from, long count,
                                           char *error, size_t error_capacity) {
    if (whole->plain) { if (error) snprintf(error, error_capacity, "the weights are laid out plainly"); return NULL; }
    if (!prepare_thread()) { if (error) snprintf(error, error_capacity, "oneDNN: creating a stream failed"); return NULL; }
    tt_packed_weight *view = calloc(1, sizeof *view);
    if (!view) { if (error) snprintf(error, error_capacity, "out of memory"); return NULL; }
    view->n = count; view->k = whole->k; view->precision = whole->precision;
    pthread_mutex_init(&view->lock, NULL);
    bool made = false;
    if (choose_layout(count, whole->k, whole->precision, &view->layout, view->implementation,
                      sizeof view->implementation, error, error_capacity) != 0) goto fail;
    // The view must be the whole's layout cut at a column block: the same blocks, the same strides,
    // and the column blocks outermost, so that its columns are one contiguous run of the whole's memory.
    const dnnl_blocking_desc_t *a = &whole->layout.format_desc.blocking, *b = &view->layout.format_desc.blocking;
    long block = 1;
    bool same = whole->layout.format_kind == dnnl_blocked && view->layout.format_kind == dnnl_blocked
        && strcmp(whole->implementation, view->implementation) == 0
        && a->inner_nblks == b->inner_nblks && a->strides[0] == b->strides[0] && a->strides[1] == b->strides[1]
        && a->strides[1] > a->strides[0] && whole->layout.offset0 == 0 && view->layout.offset0 == 0;
    for (int i = 0; same && i < a->inner_nblks; i++) {
        same = a->inner_blks[i] == b->inner_blks[i] && a->inner_idxs[i] == b->inner_idxs[i];
        if (a->inner_idxs[i] == 1) block *= a->inner_blks[i];
    }
    if (!same || from % block != 0 || from + count > whole->n) {
        if (error) snprintf(error, error_capacity, "columns %ld..<%ld cannot be viewed in this layout", from, from + count);
        goto fail;
    }
    char *base = NULL;
    TRY(dnnl_memory_get_data_handle(whole->memory, (void **)&base), "the packed weights");
    size_t element = whole->precision == TT_BF16 ? 2 : 4;
    TRY(dnnl_memory_create(&view->memory, &view->layout, engine, base + (size_t)(from / block) * (size_t)a->strides[1] * element),
        "a view of the packed weights");
    view->view = true;
    made = true;
fail:
    if (made) return view;
    tt_packed_weight_destroy(view);
    return NULL;
}

void tt_packed_weight_destroy(tt_packed_weight *weight) {
    if (!weight) return;
    for (int i = 0; i < weight->cached; i++) dnnl_primitive_destroy(weight->cache[i].primitive);
    free(weight->cache);
    if (weight->memory) dnnl_memory_destroy(weight->memory);
    pthread_mutex_destroy(&weight->lock);
    free(weight);
}

size_t tt_packed_weight_bytes(const tt_packed_weight *weight) {
    return weight->view ? 0 : dnnl_memory_desc_get_size(&weight->layout);
}

const char *tt_packed_weight_implementation(const tt_packed_weight *weight) { return weight->implementation; }

const float *tt_packed_weight_plain(const tt_packed_weight *weight) {
    void *data = NULL;
    if (!weight->plain || dnnl_memory_get_data_handle(weight->memory, &data) != dnnl_success) return NULL;
    return data;
}

// The primitive for this call's shape, made on first use; a shape oneDNN has only its reference
// loop for is remembered too, with no primitive (the caller then runs on dense copies).
// Returns a copy of the entry, taken under the lock: another thread may grow (move) the cache
// while this one runs the primitive (the workers share a whole-width weight, each with its rows).
// False only when the cache could not grow (out of memory); an entry may hold no primitive.
static bool primitive_for(cached_primitive *entry, tt_packed_weight *weight, long m, long lda, long ldc, bool accumulate, bool bias,
                          tt_activation activation) {
    pthread_mutex_lock(&weight->lock);
    cached_primitive *found = NULL;
    for (int i = 0; i < weight->cached; i++) {
        cached_primitive *c = &weight->cache[i];
        if (c->m == m && c->lda == lda && c->ldc == ldc && c->accumulate == accumulate && c->bias == bias
            && c->activation == activation) { found = c; break; }
    }
    if (!found && weight->cached == weight->capacity) {
        int capacity = weight->capacity ? 2 * weight->capacity : 16;
        cached_primitive *grown = realloc(weight->cache, (size_t)capacity * sizeof *grown);
        if (grown) { weight->cache = grown; weight->capacity = capacity; }
    }
    if (!found && weight->cached < weight->capacity) {
        dnnl_primitive_desc_t pd = NULL;
        dnnl_primitive_t primitive = NULL;
        size_t scratchpad_bytes = 0;
        dnnl_status_t s = describe(&pd, m, weight->n, weight->k, lda, ldc, weight->precision, &weight->layout, accumulate, bias, activation);
        if (s == dnnl_success && strncmp(implementation_of(pd), "ref", 3) == 0) s = dnnl_unimplemented;
        if (s == dnnl_success) s = dnnl_primitive_create(&primitive, pd);
        if (s == dnnl_success) {
            scratchpad_bytes = dnnl_memory_desc_get_size(dnnl_primitive_desc_query_md(pd, dnnl_query_scratchpad_md, 0));
        } else if (primitive) {
            dnnl_primitive_destroy(primitive);
            primitive = NULL;
        }
        if (pd) dnnl_primitive_desc_destroy(pd);
        found = &weight->cache[weight->cached++];
        *found = (cached_primitive){m, lda, ldc, accumulate, bias, activation, primitive, scratchpad_bytes};
    }
    if (found) *entry = *found;
    pthread_mutex_unlock(&weight->lock);
    return found != NULL;
}

// A thread's dense copy of a strided operand: `rows` × `width` floats.
static __thread float *thread_dense[2];
static __thread size_t thread_dense_capacity[2];
static float *dense_buffer(int which, size_t count) {
    if (count > thread_dense_capacity[which]) {
        free(thread_dense[which]);
        thread_dense[which] = aligned_alloc(64, (count * 4 + 63) / 64 * 64);
        thread_dense_capacity[which] = thread_dense[which] ? count : 0;
    }
    return thread_dense[which];
}

uint16_t *thread_bf16_buffer(size_t count) {
    if (count > thread_bf16_capacity) {
        free(thread_bf16);
        thread_bf16 = aligned_alloc(64, (count * 2 + 63) / 64 * 64);
        thread_bf16_capacity = thread_bf16 ? count : 0;
    }
    return thread_bf16;
}

int tt_packed_matmul(const tt_packed_weight *weight_, long m, const float *src, long lda, const float *bias,
                     float *dst, long ldc, bool accumulate, tt_activation activation, char *error, size_t error_capacity) {
    tt_packed_weight *weight = (tt_packed_weight *)weight_;   // only its primitive cache changes
    if (m == 0) return 0;
    if (!prepare_thread()) { if (error) snprintf(error, error_capacity, "oneDNN: creating a stream failed"); return -1; }
    // oneDNN's fast matmuls on blocked weights (brgemm on AVX-512) take dense rows only: a call with
    // strided rows (a slice of the output's columns, a row of a wider input) runs on dense copies.
    long dense_lda = weight->precision == TT_BF16 ? weight->k : lda;   // bf16 rows are converted densely anyway
    cached_primitive entry, *p = primitive_for(&entry, weight, m, dense_lda, ldc, accumulate, bias != NULL, activation) ? &entry : NULL;
    float *wide_dst = NULL;
    long wide_ldc = ldc;
    if (p && !p->primitive && (dense_lda != weight->k || ldc != weight->n)) {
        if (dense_lda != weight->k) {
            float *copy = dense_buffer(0, (size_t)m * (size_t)weight->k);
            if (!copy) { if (error) snprintf(error, error_capacity, "out of memory"); return -1; }
            for (long r = 0; r < m; r++) memcpy(copy + r * weight->k, src + r * lda, (size_t)weight->k * sizeof *src);
            src = copy;
            lda = dense_lda = weight->k;
        }
        if (ldc != weight->n) {
            float *copy = dense_buffer(1, (size_t)m * (size_t)weight->n);
            if (!copy) { if (error) snprintf(error, error_capacity, "out of memory"); return -1; }
            if (accumulate)
                for (long r = 0; r < m; r++) memcpy(copy + r * weight->n, dst + r * ldc, (size_t)weight->n * sizeof *dst);
            wide_dst = dst;
            dst = copy;
            ldc = weight->n;
        }
        p = primitive_for(&entry, weight, m, dense_lda, ldc, accumulate, bias != NULL, activation) ? &entry : NULL;
    }
    if (!p || !p->primitive) {
        if (error) snprintf(error, error_capacity, "oneDNN: no %s matmul for %ld x %ld x %ld in the packed layout",
                            weight->precision == TT_BF16 ? "bf16" : "f32", m, weight->n, weight->k);
        return -1;
    }
    const void *source = src;
    if (weight->precision == TT_BF16) {
        if (!thread_bf16_buffer((size_t)m * (size_t)weight->k)) {
            if (error) snprintf(error, error_capacity, "out of memory");
            return -1;
        }
        for (long r = 0; r < m; r++)
            for (long i = 0; i < weight->k; i++) thread_bf16[r * weight->k + i] = to_bf16(src[r * lda + i]);
        source = thread_bf16;
    }

    dnnl_memory_t memories[4] = {NULL, NULL, NULL, NULL};
    void *scratch = NULL;
    int result = -1;
    const_dnnl_primitive_desc_t pd;
    dnnl_exec_arg_t args[5];
    int count = 0;
    if (dnnl_primitive_get_primitive_desc(p->primitive, &pd) != dnnl_success) goto done;
    const dnnl_memory_desc_t *src_md = dnnl_primitive_desc_query_md(pd, dnnl_query_src_md, 0);
    const dnnl_memory_desc_t *dst_md = dnnl_primitive_desc_query_md(pd, dnnl_query_dst_md, 0);
    if (dnnl_memory_create(&memories[0], src_md, engine, (void *)source) != dnnl_success) goto done;
    if (dnnl_memory_create(&memories[1], dst_md, engine, dst) != dnnl_success) goto done;
    args[count++] = (dnnl_exec_arg_t){DNNL_ARG_SRC, memories[0]};
    args[count++] = (dnnl_exec_arg_t){DNNL_ARG_WEIGHTS, weight->memory};
    args[count++] = (dnnl_exec_arg_t){DNNL_ARG_DST, memories[1]};
    if (bias) {
        const dnnl_memory_desc_t *bias_md = dnnl_primitive_desc_query_md(pd, dnnl_query_weights_md, 1);
        if (dnnl_memory_create(&memories[2], bias_md, engine, (void *)bias) != dnnl_success) goto done;
        args[count++] = (dnnl_exec_arg_t){DNNL_ARG_BIAS, memories[2]};
    }
    if (p->scratchpad_bytes) {
        scratch = aligned_alloc(64, (p->scratchpad_bytes + 63) / 64 * 64);
        const dnnl_memory_desc_t *scratch_md = dnnl_primitive_desc_query_md(pd, dnnl_query_scratchpad_md, 0);
        if (!scratch || dnnl_memory_create(&memories[3], scratch_md, engine, scratch) != dnnl_success) goto done;
        args[count++] = (dnnl_exec_arg_t){DNNL_ARG_SCRATCHPAD, memories[3]};
    }
    if (dnnl_primitive_execute(p->primitive, thread_stream, count, args) == dnnl_success &&
        dnnl_stream_wait(thread_stream) == dnnl_success) result = 0;
    if (result == 0 && wide_dst)
        for (long r = 0; r < m; r++) memcpy(wide_dst + r * wide_ldc, dst + r * weight->n, (size_t)weight->n * sizeof *dst);
done:
    if (result != 0 && error) snprintf(error, error_capacity, "oneDNN: running a matmul failed");
    for (int i = 0; i < 4; i++) if (memories[i]) dnnl_memory_destroy(memories[i]);
    free(scratch);
    return result;
}

static char version_text[32];
static void fill_version(void) {
    const dnnl_version_t *v = dnnl_version();
    snprintf(version_text, sizeof version_text, "%d.%d.%d", v->major, v->minor, v->patch);
}

const char *tt_onednn_version(void) {
    static pthread_once_t once = PTHREAD_ONCE_INIT;
    pthread_once(&once, fill_version);
    return version_text;
}

const char *tt_onednn_isa(void) {
    switch (dnnl_get_effective_cpu_isa()) {
    case dnnl_cpu_isa_sse41: return "sse41";
    case dnnl_cpu_isa_avx: return "avx";
    case dnnl_cpu_isa_avx2: return "avx2";
    case dnnl_cpu_isa_avx512_mic: return "avx512_mic";
    case dnnl_cpu_isa_avx512_mic_4ops: return "avx512_mic_4ops";
    case dnnl_cpu_isa_avx512_core: return "avx512_core";
    case dnnl_cpu_isa_avx512_core_vnni: return "avx512_core_vnni";
    case dnnl_cpu_isa_avx512_core_bf16: return "avx512_core_bf16";
    case dnnl_cpu_isa_avx512_core_amx: return "avx512_core_amx";
    case dnnl_cpu_isa_avx2_vnni: return "avx2_vnni";
    default: return "other";
    }
}

bool tt_onednn_native_bf16(void) {
    unsigned isa = (unsigned)dnnl_get_effective_cpu_isa();
    return (isa & (unsigned)dnnl_cpu_isa_avx512_core_bf16) == (unsigned)dnnl_cpu_isa_avx512_core_bf16;
}
