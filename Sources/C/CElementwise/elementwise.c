#include "CElementwise.h"
#include "tt_exp_approximation.h"

#include <math.h>
#include <stdint.h>
#include <string.h>

// e^x (tt_exp_approximation.h, shared with CAttention's kernel).
TT_EXP_FUNCTION(tt_exp, , float, uint32_t, TT_EXP_CLAMP_SCALAR)

// erf(x): Abramowitz & Stegun 7.1.26 (absolute error < 1.5e-7 in exact arithmetic), odd.
static inline __attribute__((always_inline)) float tt_erf(float x) {
    float a = fabsf(x);
    float t = 1.0f / (1.0f + 0.3275911f * a);
    float p = 1.061405429f;
    p = p * t - 1.453152027f;
    p = p * t + 1.421413741f;
    p = p * t - 0.284496736f;
    p = p * t + 0.254829592f;
    float y = 1.0f - p * t * tt_exp(-a * a);
    return copysignf(y, x);
}

#define TT_TARGET
#define TT_NAME(name) name##_portable
#include "elementwise_kernels.h"
#undef TT_TARGET
#undef TT_NAME

#if defined(__x86_64__)
#define TT_TARGET __attribute__((target("avx2,fma")))
#define TT_NAME(name) name##_avx2
#include "elementwise_kernels.h"
#undef TT_TARGET
#undef TT_NAME

static bool detect_avx2(void) {
    __builtin_cpu_init();
    return __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
}
#else
static bool detect_avx2(void) { return false; }
#endif

bool tt_elementwise_uses_avx2(void) {
    static _Atomic int state = -1;   // -1: not asked yet (every thread would compute the same answer)
    if (state < 0) state = detect_avx2() ? 1 : 0;
    return state == 1;
}

#if defined(__x86_64__)
#define TT_DISPATCH(name, ...) \
    do { if (tt_elementwise_uses_avx2()) name##_avx2(__VA_ARGS__); else name##_portable(__VA_ARGS__); } while (0)
#else
#define TT_DISPATCH(name, ...) name##_portable(__VA_ARGS__)
#endif

void tt_quick_gelu_forward(float *x, long count) { TT_DISPATCH(tt_quick_gelu_forward, x, count); }
void tt_quick_gelu_backward(float *dinp, const float *dout, const float *inp, long count) {
    TT_DISPATCH(tt_quick_gelu_backward, dinp, dout, inp, count);
}
void tt_gelu_forward(float *x, long count) { TT_DISPATCH(tt_gelu_forward, x, count); }
void tt_gelu_backward(float *dinp, const float *dout, const float *inp, long count) {
    TT_DISPATCH(tt_gelu_backward, dinp, dout, inp, count);
}
void tt_softmax_row(float *row, long length, long width) { TT_DISPATCH(tt_softmax_row, row, length, width); }
