// oneDNN's convolution on channels-last activations with weights reordered once (see CPackedGEMM.h).
#include "onednn_shared.h"

#include <stdio.h>
#include <stdlib.h>

// One primitive per shape of call: images, input rows, padding, output rows, post-ops.
typedef struct {
    long n, rows_in, pad_top, pad_bottom, rows_out;
    bool accumulate, relu;
    dnnl_primitive_t primitive;
    size_t scratchpad_bytes;
} cached_conv;

struct tt_packed_conv {
    long cin, cout, kernel, stride, pad, height, width, out_height, out_width;
    tt_precision precision;
    dnnl_memory_desc_t layout;      // the packed weights' descriptor
    dnnl_memory_t weights, bias;    // own the packed weights and the bias
    char implementation[64];
    pthread_mutex_t lock;           // guards `cache`
    cached_conv *cache;
    int cached, capacity;
};

#define TRY(call, what)                                                 \
    do {                                                                \
        dnnl_status_t s_ = (call);                                      \
        if (s_ != dnnl_success) { say(error, error_capacity, what, s_); goto fail; } \
    } while (0)

// The convolution of `n` images' input rows (`rows_in` of them, padded by `top` and `bottom`) into
// `rows_out` output rows, channels-last; weights as given (a fixed layout, or any).
static dnnl_status_t describe(dnnl_primitive_desc_t *pd, const tt_packed_conv *c, long n, long rows_in, long top,
                              long bottom, long rows_out, const dnnl_memory_desc_t *weights, bool accumulate, bool relu) {
    dnnl_memory_desc_t src, dst, bias;
    dnnl_dims_t src_dims = {n, c->cin, rows_in, c->width}, dst_dims = {n, c->cout, rows_out, c->out_width};
    dnnl_dims_t bias_dims = {c->cout}, strides = {c->stride, c->stride};
    dnnl_dims_t pad_l = {top, c->pad}, pad_r = {bottom, c->pad};
    dnnl_status_t s;
    if ((s = dnnl_memory_desc_init_by_tag(&src, 4, src_dims, data_type(c->precision), dnnl_nhwc))) return s;
    if ((s = dnnl_memory_desc_init_by_tag(&dst, 4, dst_dims, dnnl_f32, dnnl_nhwc))) return s;
    if ((s = dnnl_memory_desc_init_by_tag(&bias, 1, bias_dims, dnnl_f32, dnnl_a))) return s;
    dnnl_convolution_desc_t desc;
    if ((s = dnnl_convolution_forward_desc_init(&desc, dnnl_forward_inference, dnnl_convolution_direct, &src, weights,
                                                 &bias, &dst, strides, pad_l, pad_r))) return s;
    dnnl_primitive_attr_t attr;
    if ((s = dnnl_primitive_attr_create(&attr))) return s;
    s = dnnl_primitive_attr_set_scratchpad_mode(attr, dnnl_scratchpad_mode_user);
    if (!s && (accumulate || relu)) {
        dnnl_post_ops_t ops;
        if (!(s = dnnl_post_ops_create(&ops))) {
            if (accumulate) s = dnnl_post_ops_append_sum(ops, 1.0f);
            if (!s && relu) s = dnnl_post_ops_append_eltwise(ops, 1.0f, dnnl_eltwise_relu, 0.0f, 0.0f);
            if (!s) s = dnnl_primitive_attr_set_post_ops(attr, ops);
            dnnl_post_ops_destroy(ops);
        }
    }
    if (!s) s = dnnl_primitive_desc_create(pd, &desc, attr, engine, NULL);
    dnnl_primitive_attr_destroy(attr);
    return s;
}

tt_packed_conv *tt_packed_conv_create(const float *w, const float *bias, long cin, long cout, long kernel, long stride,
                                      long pad, long height, long width, tt_precision precision,
                                      char *error, size_t error_capacity) {
    pthread_once(&engine_once, make_engine);
    if (engine_status != dnnl_success) { say(error, error_capacity, "creating the CPU engine", engine_status); return NULL; }
    if (!prepare_thread()) { if (error) snprintf(error, error_capacity, "oneDNN: creating a stream failed"); return NULL; }
    tt_packed_conv *c = calloc(1, sizeof *c);
    if (!c) { if (error) snprintf(error, error_capacity, "out of memory"); return NULL; }
    dnnl_primitive_desc_t pd = NULL, reorder_pd = NULL;
    dnnl_primitive_t reorder = NULL;
    dnnl_memory_t user = NULL;
    bool packed = false;
    *c = (tt_packed_conv){cin, cout, kernel, stride, pad, height, width,
                          (height + 2 * pad - kernel) / stride + 1, (width + 2 * pad - kernel) / stride + 1, precision};
    pthread_mutex_init(&c->lock, NULL);
    if (c->out_height < 1 || c->out_width < 1) { if (error) snprintf(error, error_capacity, "the kernel is larger than the padded input"); goto fail; }

    // The layout oneDNN's best convolution wants for these weights, asked for a band of two output
    // rows inside the image, the shape the workers mostly run (it follows the weights' shape, type,
    // the instruction set, and on AVX-512 the spatial shape too: brgconv may pick a layout for a
    // whole image that it has no band kernel for). Other shapes reuse it; see convolve().
    dnnl_memory_desc_t any, user_md;
    dnnl_dims_t dims = {cout, cin, kernel, kernel};
    TRY(dnnl_memory_desc_init_by_tag(&any, 4, dims, data_type(precision), dnnl_format_tag_any), "describing the weights");
    long band_in = stride + kernel;   // input rows of two output rows
    bool banded = c->out_height > 2 && band_in + pad <= height;
    dnnl_status_t described = banded ? describe(&pd, c, 1, band_in, 0, 0, 2, &any, false, false)
                                     : describe(&pd, c, 1, height, pad, pad, c->out_height, &any, false, false);
    const char *name = described == dnnl_success ? implementation_of(pd) : "ref";
    if (described == dnnl_unimplemented || strncmp(name, "ref", 3) == 0) {
        if (error) snprintf(error, error_capacity, "oneDNN %s has no fast %s convolution for %ldx%ld kernels on this CPU (instruction set %s)",
                            tt_onednn_version(), precision == TT_BF16 ? "bf16" : "f32", kernel, kernel, tt_onednn_isa());
        goto fail;
    }
    TRY(described, "describing a convolution");
    snprintf(c->implementation, sizeof c->implementation, "%s", name);
    c->layout = *dnnl_primitive_desc_query_md(pd, dnnl_query_weights_md, 0);
    TRY(dnnl_memory_create(&c->weights, &c->layout, engine, DNNL_MEMORY_ALLOCATE), "allocating packed weights");
    TRY(dnnl_memory_desc_init_by_tag(&user_md, 4, dims, dnnl_f32, dnnl_oihw), "describing the checkpoint weights");
    TRY(dnnl_memory_create(&user, &user_md, engine, (void *)w), "wrapping the checkpoint weights");
    TRY(dnnl_reorder_primitive_desc_create(&reorder_pd, &user_md, engine, &c->layout, engine, NULL), "a weight reorder");
    TRY(dnnl_primitive_create(&reorder, reorder_pd), "a weight reorder");
    dnnl_exec_arg_t args[2] = {{DNNL_ARG_FROM, user}, {DNNL_ARG_TO, c->weights}};
    TRY(dnnl_primitive_execute(reorder, thread_stream, 2, args), "reordering the weights");
    TRY(dnnl_stream_wait(thread_stream), "reordering the weights");

    dnnl_memory_desc_t bias_md;
    dnnl_dims_t bias_dims = {cout};
    TRY(dnnl_memory_desc_init_by_tag(&bias_md, 1, bias_dims, dnnl_f32, dnnl_a), "describing the bias");
    TRY(dnnl_memory_create(&c->bias, &bias_md, engine, DNNL_MEMORY_ALLOCATE), "allocating the bias");
    float *b = NULL;
    TRY(dnnl_memory_get_data_handle(c->bias, (void **)&b), "the bias");
    for (long i = 0; i < cout; i++) b[i] = bias ? bias[i] : 0;
    packed = true;
fail:
    if (reorder) dnnl_primitive_destroy(reorder);
    if (reorder_pd) dnnl_primitive_desc_destroy(reorder_pd);
    if (user) dnnl_memory_destroy(user);
    if (pd) dnnl_primitive_desc_destroy(pd);
    if (packed) return c;
    tt_packed_conv_destroy(c);
    return NULL;
}

void tt_packed_conv_destroy(tt_packed_conv *c) {
    if (!c) return;
    for (int i = 0; i < c->cached; i++) dnnl_primitive_destroy(c->cache[i].primitive);
    free(c->cache);
    if (c->weights) dnnl_memory_destroy(c->weights);
    if (c->bias) dnnl_memory_destroy(c->bias);
    pthread_mutex_destroy(&c->lock);
    free(c);
}

size_t tt_packed_conv_bytes(const tt_packed_conv *c) { return dnnl_memory_desc_get_size(&c->layout) + 4 * (size_t)c->cout; }

const char *tt_packed_conv_implementation(const tt_packed_conv *c) { return c->implementation; }

long tt_packed_conv_image_floats(const tt_packed_conv *c, bool output) {
    return output ? c->out_height * c->out_width * c->cout : c->height * c->width * c->cin;
}

// The primitive for this call's shape, made on first use; a shape oneDNN has only its reference
// loop for is remembered too, with no primitive (convolve() then splits the call).
// Returns a copy of the entry, taken under the lock: workers share a convolution (one image each)
// and another may grow (move) the cache while this one runs. False only when it could not grow.
static bool primitive_for(cached_conv *entry, tt_packed_conv *c, long n, long rows_in, long top, long bottom, long rows_out,
                                  bool accumulate, bool relu) {
    pthread_mutex_lock(&c->lock);
    cached_conv *found = NULL;
    for (int i = 0; i < c->cached; i++) {
        cached_conv *e = &c->cache[i];
        if (e->n == n && e->rows_in == rows_in && e->pad_top == top && e->pad_bottom == bottom && e->rows_out == rows_out
            && e->accumulate == accumulate && e->relu == relu) { found = e; break; }
    }
    if (!found && c->cached == c->capacity) {
        int capacity = c->capacity ? 2 * c->capacity : 8;
        cached_conv *grown = realloc(c->cache, (size_t)capacity * sizeof *grown);
        if (grown) { c->cache = grown; c->capacity = capacity; }
    }
    if (!found && c->cached < c->capacity) {
        dnnl_primitive_desc_t pd = NULL;
        dnnl_primitive_t primitive = NULL;
        size_t scratchpad_bytes = 0;
        dnnl_status_t s = describe(&pd, c, n, rows_in, top, bottom, rows_out, &c->layout, accumulate, relu);
        if (s == dnnl_success && strncmp(implementation_of(pd), "ref", 3) == 0) s = dnnl_unimplemented;
        if (s == dnnl_success) s = dnnl_primitive_create(&primitive, pd);
        if (s == dnnl_success) {
            scratchpad_bytes = dnnl_memory_desc_get_size(dnnl_primitive_desc_query_md(pd, dnnl_query_scratchpad_md, 0));
        } else if (primitive) {
            dnnl_primitive_destroy(primitive);
            primitive = NULL;
        }
        if (pd) dnnl_primitive_desc_destroy(pd);
        found = &c->cache[c->cached++];
        *found = (cached_conv){n, rows_in, top, bottom, rows_out, accumulate, relu, primitive, scratchpad_bytes};
    }
    if (found) *entry = *found;
    pthread_mutex_unlock(&c->lock);
    return found != NULL;
}

// One primitive call: `n` images whose input rows start at `src` (image stride = a whole image),
// writing output rows starting at `dst`.
static int run(tt_packed_conv *c, cached_conv *p, long n, long rows_in, const float *src, float *dst,
               char *error, size_t error_capacity) {
    const void *source = src;
    if (c->precision == TT_BF16) {
        size_t per_image = (size_t)rows_in * c->width * c->cin;
        uint16_t *staged = thread_bf16_buffer((size_t)n * per_image);
        if (!staged) { if (error) snprintf(error, error_capacity, "out of memory"); return -1; }
        for (long i = 0; i < n; i++) {
            const float *from = src + i * c->height * c->width * c->cin;
            for (size_t j = 0; j < per_image; j++) staged[i * per_image + j] = to_bf16(from[j]);
        }
        source = staged;
    }
    dnnl_memory_t memories[3] = {NULL, NULL, NULL};
    void *scratch = NULL;
    int result = -1, count = 0;
    const_dnnl_primitive_desc_t pd;
    dnnl_exec_arg_t args[5];
    if (dnnl_primitive_get_primitive_desc(p->primitive, &pd) != dnnl_success) goto done;
    if (dnnl_memory_create(&memories[0], dnnl_primitive_desc_query_md(pd, dnnl_query_src_md, 0), engine, (void *)source)) goto done;
    if (dnnl_memory_create(&memories[1], dnnl_primitive_desc_query_md(pd, dnnl_query_dst_md, 0), engine, dst)) goto done;
    args[count++] = (dnnl_exec_arg_t){DNNL_ARG_SRC, memories[0]};
    args[count++] = (dnnl_exec_arg_t){DNNL_ARG_WEIGHTS, c->weights};
    args[count++] = (dnnl_exec_arg_t){DNNL_ARG_BIAS, c->bias};
    args[count++] = (dnnl_exec_arg_t){DNNL_ARG_DST, memories[1]};
    if (p->scratchpad_bytes) {
        scratch = aligned_alloc(64, (p->scratchpad_bytes + 63) / 64 * 64);
        const dnnl_memory_desc_t *scratch_md = dnnl_primitive_desc_query_md(pd, dnnl_query_scratchpad_md, 0);
        if (!scratch || dnnl_memory_create(&memories[2], scratch_md, engine, scratch) != dnnl_success) goto done;
        args[count++] = (dnnl_exec_arg_t){DNNL_ARG_SCRATCHPAD, memories[2]};
    }
    if (dnnl_primitive_execute(p->primitive, thread_stream, count, args) == dnnl_success &&
        dnnl_stream_wait(thread_stream) == dnnl_success) result = 0;
done:
    if (result != 0 && error) snprintf(error, error_capacity, "oneDNN: running a convolution failed");
    for (int i = 0; i < 3; i++) if (memories[i]) dnnl_memory_destroy(memories[i]);
    free(scratch);
    return result;
}

// Output rows [row0, row1) of `n` images. A shape oneDNN has no fast kernel for in the packed
// layout is split: several images into one each, then the rows into halves, down to single rows.
static int convolve(tt_packed_conv *c, long n, long row0, long row1, const float *src, float *dst,
                    bool accumulate, bool relu, char *error, size_t error_capacity) {
    // The input rows these output rows read, and the padding left above and below them.
    long first = row0 * c->stride - c->pad, last = (row1 - 1) * c->stride - c->pad + c->kernel;   // [first, last)
    long top = first < 0 ? -first : 0, bottom = last > c->height ? last - c->height : 0;
    long from = first < 0 ? 0 : first, rows_in = (last > c->height ? c->height : last) - from;
    const float *in = src + from * c->width * c->cin;
    float *out = dst + row0 * c->out_width * c->cout;
    long in_image = c->height * c->width * c->cin, out_image = c->out_height * c->out_width * c->cout;
    // All rows: the images are dense and go in one call; some rows: one call per image.
    bool whole = row0 == 0 && row1 == c->out_height;
    cached_conv entry, *p = primitive_for(&entry, c, whole ? n : 1, rows_in, top, bottom, row1 - row0, accumulate, relu)
        ? &entry : NULL;
    if (p && p->primitive) {
        if (whole) return run(c, p, n, rows_in, in, out, error, error_capacity);
        for (long i = 0; i < n; i++)
            if (run(c, p, 1, rows_in, in + i * in_image, out + i * out_image, error, error_capacity)) return -1;
        return 0;
    }
    if (whole && n > 1) {
        for (long i = 0; i < n; i++)
            if (convolve(c, 1, row0, row1, src + i * in_image, dst + i * out_image, accumulate, relu, error, error_capacity)) return -1;
        return 0;
    }
    if (row1 - row0 > 1) {
        long middle = (row0 + row1) / 2;
        if (convolve(c, n, row0, middle, src, dst, accumulate, relu, error, error_capacity)) return -1;
        return convolve(c, n, middle, row1, src, dst, accumulate, relu, error, error_capacity);
    }
    if (error) snprintf(error, error_capacity, "oneDNN: no %s convolution for output row %ld in the packed layout",
                        c->precision == TT_BF16 ? "bf16" : "f32", row0);
    return -1;
}

int tt_packed_conv_forward(const tt_packed_conv *c_, long n, long row0, long row1, const float *src, float *dst,
                           bool accumulate, bool relu, char *error, size_t error_capacity) {
    tt_packed_conv *c = (tt_packed_conv *)c_;   // only its primitive cache changes
    if (n == 0 || row1 <= row0) return 0;
    if (row0 < 0 || row1 > c->out_height) { if (error) snprintf(error, error_capacity, "output rows out of range"); return -1; }
    if (!prepare_thread()) { if (error) snprintf(error, error_capacity, "oneDNN: creating a stream failed"); return -1; }
    return convolve(c, n, row0, row1, src, dst, accumulate, relu, error, error_capacity);
}
