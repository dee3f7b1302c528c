#ifndef CPACKEDGEMM_H
#define CPACKEDGEMM_H

// A weight matrix reordered once into the layout oneDNN's matmul picks for this CPU (blocked for
// its brgemm kernels on AVX-512, plain on AVX2), in float32 or bfloat16, and the product
//   dst[m, 0..<n] (+)= src[m, 0..<k] · Wᵀ + bias
// with W in PyTorch's layout [n, k]. One call runs on the calling thread only: the engine splits
// products over its own workers (see PackedWeight.swift), so oneDNN's OpenMP team is kept at one.
//
// Primitives are made on first use for each (rows, strides, accumulation) and kept; errors come
// back as a status and a message, never as an abort.

#include <stddef.h>
#include <stdint.h>
#include <stdbool.h>

#include "CElementwise.h"   // tt_activation

typedef struct tt_packed_weight tt_packed_weight;

typedef enum { TT_F32 = 0, TT_BF16 = 1 } tt_precision;

// Reorders w [n, k] (row stride ldw) into a new packed weight. Returns NULL and writes a message
// into `error` when oneDNN has no matmul for this precision on this CPU.
tt_packed_weight *tt_packed_weight_create(const float *w, long n, long k, long ldw, tt_precision precision,
                                          char *error, size_t error_capacity);
void tt_packed_weight_destroy(tt_packed_weight *weight);
// Whether weights [n, k] in `precision` would be laid out plainly (as tt_packed_weight_plain returns
// them) without packing any: 0, or -1 with the message tt_packed_weight_create would give.
int tt_packed_weight_layout_is_plain(long n, long k, tt_precision precision, bool *plain, char *error,
                                     size_t error_capacity);
// Columns [from, from + count) of W (its rows, in PyTorch's layout) as a weight of their own that
// shares `whole`'s memory: possible where the layout is blocked with the column blocks outermost
// (oneDNN's brgemm layouts) and `from` is on a block edge; NULL with a message otherwise. Destroy
// every view before `whole`.
tt_packed_weight *tt_packed_weight_columns(const tt_packed_weight *whole, long from, long count,
                                           char *error, size_t error_capacity);
// Bytes the packed weights hold (0 for a view).
size_t tt_packed_weight_bytes(const tt_packed_weight *weight);
// The oneDNN implementation the weights were laid out for, e.g. "brg:avx512_core" or "gemm:jit".
const char *tt_packed_weight_implementation(const tt_packed_weight *weight);

// The packed weights as a plain row-major Wᵀ [k, n] when that is the layout oneDNN chose (AVX2 and
// below), so that OpenBLAS can run on the same memory where it is faster; NULL otherwise.
const float *tt_packed_weight_plain(const tt_packed_weight *weight);

// dst[r, j] = act((accumulate ? dst[r, j] : 0) + Σ_i src[r, i] · W[j, i] + (bias ? bias[j] : 0))
// for r < m, j < n, where act is x · σ(1.702 x) (TT_QUICK_GELU), x · Φ(x) (TT_GELU) or none.
// Returns 0, or -1 with a message in `error`.
int tt_packed_matmul(const tt_packed_weight *weight, long m, const float *src, long lda, const float *bias,
                     float *dst, long ldc, bool accumulate, tt_activation activation, char *error,
                     size_t error_capacity);

// The library: its version ("2.6.3") and the instruction set its kernels use ("avx2", "avx512_core_bf16").
// A 2-D convolution on channels-last (NHWC) float32 activations of a fixed height and width, with
// weights w [cout, cin, kernel, kernel] (PyTorch's OIHW) and bias [cout] (NULL: zero) reordered once
// into the layout oneDNN's convolution picks for this CPU and precision. NULL when oneDNN has only
// its reference convolution for it (the message says why).
typedef struct tt_packed_conv tt_packed_conv;
tt_packed_conv *tt_packed_conv_create(const float *w, const float *bias, long cin, long cout, long kernel, long stride,
                                      long pad, long height, long width, tt_precision precision,
                                      char *error, size_t error_capacity);
void tt_packed_conv_destroy(tt_packed_conv *conv);
size_t tt_packed_conv_bytes(const tt_packed_conv *conv);
const char *tt_packed_conv_implementation(const tt_packed_conv *conv);
// Output rows [row0, row1) of `n` images: dst = relu?(conv(src) + bias (+ dst when accumulate)).
// src and dst point at the first image of whole NHWC tensors. Runs on the calling thread (one
// primitive per shape of call, made on first use); 0 on success.
// Floats of one image's input (false) or output (true).
long tt_packed_conv_image_floats(const tt_packed_conv *conv, bool output);
int tt_packed_conv_forward(const tt_packed_conv *conv, long n, long row0, long row1, const float *src, float *dst,
                           bool accumulate, bool relu, char *error, size_t error_capacity);

const char *tt_onednn_version(void);
const char *tt_onednn_isa(void);
// Whether this CPU runs bfloat16 matmuls natively (AVX512_BF16 or AMX), not emulated.
bool tt_onednn_native_bf16(void);

#endif
