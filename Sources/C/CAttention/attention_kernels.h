// The attention kernel's body, included by attention.c once per target: TT_TARGET, TT_NAME(name),
// TT_LANES (floats per vector), TT_ROWS (query rows per block) and TT_BLOCK (vectors per block of
// columns), chosen so that TT_ROWS × TT_BLOCK accumulators and a block of operands fit the
// target's registers. The blocks take their sizes as constants (each call below passes literals),
// so the compiler unrolls them and keeps the accumulators in registers.

typedef float TT_NAME(vec) __attribute__((vector_size(TT_LANES * 4), aligned(4), may_alias));
typedef int TT_NAME(ivec) __attribute__((vector_size(TT_LANES * 4), aligned(4), may_alias));
typedef unsigned TT_NAME(uvec) __attribute__((vector_size(TT_LANES * 4), aligned(4), may_alias));
#define TT_VEC TT_NAME(vec)
#define TT_IVEC TT_NAME(ivec)
#define TT_UVEC TT_NAME(uvec)

// x in every lane: −0 + x is x exactly, so this compiles to one broadcast (0 + x would not: −0 + 0 is +0).
static inline __attribute__((always_inline)) TT_TARGET TT_VEC TT_NAME(splat)(float x) { return -(TT_VEC){0} + x; }

// e^x lane by lane: CElementwise's tt_exp (tt_exp_approximation.h) on vectors.
#define TT_VECTOR_CLAMP(x, lo, hi) \
    __builtin_elementwise_min(__builtin_elementwise_max(x, TT_NAME(splat)(lo)), TT_NAME(splat)(hi))
TT_EXP_FUNCTION(TT_NAME(vexp), TT_TARGET, TT_VEC, TT_UVEC, TT_VECTOR_CLAMP)
#undef TT_VECTOR_CLAMP

// Softmax in place of row[0..<length] · scale, zero from length up to `padded` (a multiple of the
// vector): the maximum and the sum in one vector each, then across its lanes.
static inline __attribute__((always_inline)) TT_TARGET void TT_NAME(softmax_row)(float *row, long length, long padded,
                                                                                  float scale) {
    TT_IVEC lane;
    for (int l = 0; l < TT_LANES; l++) lane[l] = l;
    TT_VEC maximum = TT_NAME(splat)(-INFINITY);
    for (long j = 0; j < padded; j += TT_LANES) {
        TT_VEC x = *(TT_VEC *)(row + j) * scale;
        TT_IVEC inside = (lane + (int)j) < (int)length;
        x = (TT_VEC)(((TT_IVEC)x & inside) | ((TT_IVEC)TT_NAME(splat)(-INFINITY) & ~inside));
        *(TT_VEC *)(row + j) = x;
        maximum = __builtin_elementwise_max(maximum, x);
    }
    const float top = __builtin_reduce_max(maximum);
    TT_VEC sum = {0};
    for (long j = 0; j < padded; j += TT_LANES) {
        TT_IVEC inside = (lane + (int)j) < (int)length;
        TT_VEC e = (TT_VEC)((TT_IVEC)TT_NAME(vexp)(*(TT_VEC *)(row + j) - top) & inside);
        *(TT_VEC *)(row + j) = e;
        sum += e;
    }
    // Halves folded onto each other: log₂(lanes) dependent adds instead of one per lane.
    float lanes[TT_LANES];
    __builtin_memcpy(lanes, &sum, sizeof lanes);
    for (int width = TT_LANES / 2; width >= 1; width /= 2)
        for (int l = 0; l < width; l++) lanes[l] += lanes[l + width];
    const float inverse = 1.0f / lanes[0];
    for (long j = 0; j < padded; j += TT_LANES) *(TT_VEC *)(row + j) *= inverse;
}

// out[r, jj·L + l] = Σ_{i < depth} a[r·lda + i] · b[i·ldb + jj·L + l] for r < R and jj < J: the
// scores (a = q, b = kᵀ, depth = head width) and the weighted values (a = probabilities, b = v,
// depth = keys) are both this product.
static inline __attribute__((always_inline)) TT_TARGET void TT_NAME(block_product)(
    float *out, long ldo, const float *a, long lda, const float *b, long ldb, long depth, int R, int J) {
    TT_VEC acc[TT_ROWS][TT_BLOCK];
    for (int r = 0; r < R; r++)
        for (int jj = 0; jj < J; jj++) acc[r][jj] = (TT_VEC){0};
    for (long i = 0; i < depth; i++) {
        TT_VEC row[TT_BLOCK];
        for (int jj = 0; jj < J; jj++) row[jj] = *(const TT_VEC *)(b + i * ldb + jj * TT_LANES);
        for (int r = 0; r < R; r++) {
            TT_VEC factor = TT_NAME(splat)(a[r * lda + i]);
            for (int jj = 0; jj < J; jj++) acc[r][jj] += factor * row[jj];
        }
    }
    for (int r = 0; r < R; r++)
        for (int jj = 0; jj < J; jj++) *(TT_VEC *)(out + r * ldo + jj * TT_LANES) = acc[r][jj];
}

// The block product above for `rows` rows (1 … TT_ROWS ≤ 6), each with its own constant.
#define TT_FOR_ROWS(rows, call, ...) \
    switch (rows) { \
    case 1: call(__VA_ARGS__, 1, TT_BLOCK_ARG); break; \
    case 2: call(__VA_ARGS__, 2, TT_BLOCK_ARG); break; \
    case 3: call(__VA_ARGS__, 3, TT_BLOCK_ARG); break; \
    case 4: call(__VA_ARGS__, 4, TT_BLOCK_ARG); break; \
    TT_ROWS_5(call, __VA_ARGS__) \
    TT_ROWS_6(call, __VA_ARGS__) \
    }
#if TT_ROWS >= 5
#define TT_ROWS_5(call, ...) case 5: call(__VA_ARGS__, 5, TT_BLOCK_ARG); break;
#else
#define TT_ROWS_5(call, ...)
#endif
#if TT_ROWS >= 6
#define TT_ROWS_6(call, ...) case 6: call(__VA_ARGS__, 6, TT_BLOCK_ARG); break;
#else
#define TT_ROWS_6(call, ...)
#endif

TT_TARGET void TT_NAME(tt_attention_head)(float *out, long ldo, float *probs, const float *q, const float *k,
                                          const float *v, long ld, long t, long hd, float scale, bool causal,
                                          float *scratch) {
    const long padded = (t + TT_LANES - 1) / TT_LANES * TT_LANES;
    float *kt = scratch;                      // kᵀ [hd, padded], zero past t
    float *scores = scratch + hd * padded;    // one block's scores [TT_ROWS, padded]
    for (long j = 0; j < t; j++)
#pragma clang loop vectorize(disable)   // vectorised, this loop becomes scatters, several times slower
        for (long d = 0; d < hd; d++) kt[d * padded + j] = k[j * ld + d];
    for (long d = 0; d < hd; d++)
        for (long j = t; j < padded; j++) kt[d * padded + j] = 0;

    const long wide = TT_BLOCK * TT_LANES;
    for (long i0 = 0; i0 < t; i0 += TT_ROWS) {
        const int rows = t - i0 < TT_ROWS ? (int)(t - i0) : TT_ROWS;
        const long keys = causal ? i0 + rows : t;   // the keys any row of this block attends to
        const long keyColumns = (keys + TT_LANES - 1) / TT_LANES * TT_LANES;

        long j0 = 0;
#define TT_BLOCK_ARG TT_BLOCK
        for (; j0 + wide <= keyColumns; j0 += wide)
            TT_FOR_ROWS(rows, TT_NAME(block_product), scores + j0, padded, q + i0 * ld, ld, kt + j0, padded, hd)
#undef TT_BLOCK_ARG
#define TT_BLOCK_ARG 1
        for (; j0 < keyColumns; j0 += TT_LANES)
            TT_FOR_ROWS(rows, TT_NAME(block_product), scores + j0, padded, q + i0 * ld, ld, kt + j0, padded, hd)
#undef TT_BLOCK_ARG

        for (int r = 0; r < rows; r++) {
            const long i = i0 + r;
            float *row = scores + r * padded;
            TT_NAME(softmax_row)(row, causal ? i + 1 : t, keyColumns, scale);
            for (long j = 0; j < t; j++) probs[i * t + j] = j < keyColumns ? row[j] : 0;
        }

        const float *p = scores;
        float *o = out + i0 * ldo;
        long c0 = 0;
#define TT_BLOCK_ARG TT_BLOCK
        for (; c0 + wide <= hd; c0 += wide)
            TT_FOR_ROWS(rows, TT_NAME(block_product), o + c0, ldo, p, padded, v + c0, ld, keys)
#undef TT_BLOCK_ARG
#define TT_BLOCK_ARG 1
        for (; c0 + TT_LANES <= hd; c0 += TT_LANES)
            TT_FOR_ROWS(rows, TT_NAME(block_product), o + c0, ldo, p, padded, v + c0, ld, keys)
#undef TT_BLOCK_ARG
        for (; c0 < hd; c0++)   // a head narrower than a vector, or its last channels
            for (int r = 0; r < rows; r++) {
                float sum = 0;
                for (long j = 0; j < keys; j++) sum += p[r * padded + j] * v[j * ld + c0];
                o[r * ldo + c0] = sum;
            }
    }
}

#undef TT_FOR_ROWS
#undef TT_ROWS_5
#undef TT_ROWS_6
#undef TT_VEC
#undef TT_IVEC
#undef TT_UVEC
