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

typedef struct tt_packed_weight tt_packed_weight;

typedef enum { TT_F32 = 0, TT_BF16 = 1 } tt_precision;

// Reorders w [n, k] (row stride ldw) into a new packed weight. Returns NULL and writes a message
// into `error` when oneDNN has no matmul for this precision on this CPU.
tt_packed_weight *tt_packed_weight_create(const float *w, long n, long k, long ldw, tt_precision precision,
                                          char *error, size_t error_capacity);
void tt_packed_weight_destroy(tt_packed_weight *weight);
// Bytes the packed weights hold.
size_t tt_packed_weight_bytes(const tt_packed_weight *weight);
// The oneDNN implementation the weights were laid out for, e.g. "brg:avx512_core" or "gemm:jit".
const char *tt_packed_weight_implementation(const tt_packed_weight *weight);

// The packed weights as a plain row-major Wᵀ [k, n] when that is the layout oneDNN chose (AVX2 and
// below), so that OpenBLAS can run on the same memory where it is faster; NULL otherwise.
const float *tt_packed_weight_plain(const tt_packed_weight *weight);

// dst[r, j] = (accumulate ? dst[r, j] : 0) + Σ_i src[r, i] · W[j, i] + (bias ? bias[j] : 0)
// for r < m, j < n. Returns 0, or -1 with a message in `error`.
int tt_packed_matmul(const tt_packed_weight *weight, long m, const float *src, long lda, const float *bias,
                     float *dst, long ldc, bool accumulate, char *error, size_t error_capacity);

// The library: its version ("2.6.3") and the instruction set its kernels use ("avx2", "avx512_core_bf16").
const char *tt_onednn_version(void);
const char *tt_onednn_isa(void);
// Whether this CPU runs bfloat16 matmuls natively (AVX512_BF16 or AMX), not emulated.
bool tt_onednn_native_bf16(void);

#endif
