#ifndef TT_EXP_APPROXIMATION_H
#define TT_EXP_APPROXIMATION_H

// e^x for the engine's C kernels: Cody-Waite range reduction to |r| <= ln2/2 and a degree-6
// polynomial (relative error < 2e-7); rounding and 2^n through the float "magic number", so the
// code stays branch-free. One body for two operand types: a float (CElementwise's loops, which the
// compiler vectorises) and a vector of floats (CAttention's kernel, written with vectors), so that
// the two cannot drift apart.
//
// TT_EXP_FUNCTION(name, attributes, T, U, CLAMP) defines `static inline T name(T x)`, where U is an
// unsigned integer type as wide as T and CLAMP(x, lo, hi) clamps x to [lo, hi] (NaN stays NaN in the
// scalar one).
#define TT_EXP_FUNCTION(name, attributes, T, U, CLAMP)                                                  \
    static inline __attribute__((always_inline)) attributes T name(T x) {                              \
        x = CLAMP(x, -87.3f, 88.37f);                                                                  \
        const float magic = 12582912.0f + 127.0f; /* 1.5·2^23 + bias: low bits = round(x log2 e) + 127 */ \
        T t = x * 1.44269504f + magic;                                                                 \
        T n = t - magic;                                                                               \
        T r = x - n * 0.693359375f;                                                                    \
        r = r + n * 2.1219444e-4f;                                                                     \
        T p = 1.98756915e-4f * r + 1.39819995e-3f;                                                     \
        p = p * r + 8.3334519e-3f;                                                                     \
        p = p * r + 4.16657959e-2f;                                                                    \
        p = p * r + 1.66666655e-1f;                                                                    \
        p = p * r + 5.00000012e-1f;                                                                    \
        p = p * r * r + r + 1.0f;                                                                      \
        U bits;                                                                                        \
        __builtin_memcpy(&bits, &t, sizeof bits);                                                      \
        bits <<= 23;                                                                                   \
        T twoToN;                                                                                      \
        __builtin_memcpy(&twoToN, &bits, sizeof twoToN);                                               \
        return p * twoToN;                                                                             \
    }

// The scalar clamp: NaN compares false both ways and passes through.
#define TT_EXP_CLAMP_SCALAR(x, lo, hi) ((x) < (lo) ? (lo) : ((x) > (hi) ? (hi) : (x)))

#endif
