#ifndef CATTENTION_H
#define CATTENTION_H

// One head of scaled dot-product attention for one sequence, its two products written out here
// instead of called from BLAS: at a head's size (tokens × 64) a library GEMM spends much of its
// time packing, and Debian's OpenBLAS 0.3.21 runs its SSE3 kernels on CPUs it does not know (or
// AVX2 ones under OPENBLAS_CORETYPE=Haswell). One source is compiled for AVX2 + FMA and for
// AVX-512, chosen once at run time; without either the engine keeps OpenBLAS.
//
// Each score is summed over the head's channels in order and each output over the keys in order,
// whatever the batch, so an image gives the same bits alone or in a batch.

#include <stdbool.h>

// For i < t: probs[i, :] = softmax(scale · q_i · k_jᵀ over the keys j < t, or j ≤ i when causal),
// zero past the keys; out[i, 0..<hd] = Σ_j probs[i, j] · v_j.
// q, k and v are rows of hd floats, `ld` floats apart (a fused qkv buffer); out rows are `ldo`
// apart; probs is [t, t], dense. scratch holds tt_attention_scratch_floats(t, hd) floats.
// Returns false, doing nothing, on a CPU without AVX2 (tt_attention_variant() is "none").
bool tt_attention_head(float *out, long ldo, float *probs, const float *q, const float *k, const float *v,
                       long ld, long t, long hd, float scale, bool causal, float *scratch);

// Floats of scratch one call of tt_attention_head needs (the keys transposed, one block of scores).
long tt_attention_scratch_floats(long t, long hd);

// The variant in use: "avx512", "avx2" or "none".
const char *tt_attention_variant(void);

// Whether this CPU runs a variant ("avx512" or "avx2").
bool tt_attention_cpu_supports(const char *variant);

// The variants, exported so tests can check each one where the CPU has it.
#if defined(__x86_64__)
void tt_attention_head_avx2(float *out, long ldo, float *probs, const float *q, const float *k, const float *v,
                            long ld, long t, long hd, float scale, bool causal, float *scratch);
void tt_attention_head_avx512(float *out, long ldo, float *probs, const float *q, const float *k, const float *v,
                              long ld, long t, long hd, float scale, bool causal, float *scratch);
#endif

#endif
