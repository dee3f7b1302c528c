#include "CElementwise.h"

#include <math.h>
#include <stdint.h>
#include <string.h>

// e^x: Cody-Waite range reduction to |r| <= ln2/2 and a degree-6 polynomial (relative error
// < 2e-7); rounding and 2^n through the float "magic number", so the loop stays branch-free.
static inline __attribute__((always_inline)) float tt_exp(float x) {
    x = x < -87.3f ? -87.3f : (x > 88.37f ? 88.37f : x);
    const float magic = 12582912.0f + 127.0f;      // 1.5 * 2^23 + bias: low mantissa bits = round(x log2 e) + 127
    float t = x * 1.44269504f + magic;
    float n = t - magic;
    float r = x - n * 0.693359375f;
    r = r + n * 2.1219444e-4f;
    float p = 1.98756915e-4f;
    p = p * r + 1.39819995e-3f;
    p = p * r + 8.3334519e-3f;
    p = p * r + 4.16657959e-2f;
    p = p * r + 1.66666655e-1f;
    p = p * r + 5.00000012e-1f;
    p = p * r * r + r + 1.0f;
    uint32_t bits;
    memcpy(&bits, &t, sizeof bits);
    bits <<= 23;
    float twoToN;
    memcpy(&twoToN, &bits, sizeof twoToN);
    return p * twoToN;
}

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
