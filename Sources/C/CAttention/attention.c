#include "CAttention.h"
#include "tt_exp_approximation.h"   // CElementwise's, shared with its tt_exp

#include <math.h>
#include <string.h>

// The largest vector (16 floats) and row block (8) of any variant bound the scratch.
long tt_attention_scratch_floats(long t, long hd) {
    long padded = (t + 15) / 16 * 16;
    return (hd + 8) * padded;
}

#if defined(__x86_64__)
#define TT_TARGET __attribute__((target("avx2,fma")))
#define TT_NAME(name) name##_avx2
#define TT_LANES 8
#define TT_ROWS 5
#define TT_BLOCK 2
#include "attention_kernels.h"
#undef TT_TARGET
#undef TT_NAME
#undef TT_LANES
#undef TT_ROWS
#undef TT_BLOCK

#define TT_TARGET __attribute__((target("avx512f,fma")))
#define TT_NAME(name) name##_avx512
#define TT_LANES 16
#define TT_ROWS 6
#define TT_BLOCK 4
#include "attention_kernels.h"
#undef TT_TARGET
#undef TT_NAME
#undef TT_LANES
#undef TT_ROWS
#undef TT_BLOCK
#endif

bool tt_attention_cpu_supports(const char *variant) {
#if defined(__x86_64__)
    __builtin_cpu_init();
    if (strcmp(variant, "avx2") == 0) return __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
    if (strcmp(variant, "avx512") == 0) return __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("fma");
#endif
    return false;
}

// 0 none, 1 AVX2, 2 AVX-512; -1 until first asked (every thread would compute the same answer).
static int variant(void) {
    static _Atomic int state = -1;
    if (state < 0) state = tt_attention_cpu_supports("avx512") ? 2 : tt_attention_cpu_supports("avx2") ? 1 : 0;
    return state;
}

const char *tt_attention_variant(void) {
    static const char *names[] = {"none", "avx2", "avx512"};
    return names[variant()];
}

bool tt_attention_head(float *out, long ldo, float *probs, const float *q, const float *k, const float *v,
                       long ld, long t, long hd, float scale, bool causal, float *scratch) {
#if defined(__x86_64__)
    switch (variant()) {
    case 2: tt_attention_head_avx512(out, ldo, probs, q, k, v, ld, t, hd, scale, causal, scratch); return true;
    case 1: tt_attention_head_avx2(out, ldo, probs, q, k, v, ld, t, hd, scale, causal, scratch); return true;
    default: break;
    }
#endif
    return false;
}
