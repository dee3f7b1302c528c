// The attention kernel's body, included by attention.c once per target: TT_TARGET, TT_NAME(name),
// TT_LANES (floats per vector), TT_ROWS (query rows per block) and TT_BLOCK (vectors per block of
// columns), chosen so that TT_ROWS × TT_BLOCK accumulators and a block of operands fit the
// target's registers. The blocks take their sizes as constants (each call below passes literals),
// so the compiler unrolls them and keeps the accumulators in registers.

typedef float TT_NAME(vec) __attribute__((vector_size(TT_LANES * 4), aligned(4), may_alias));
typedef int TT_NAME(ivec) __attribute__((vector_size(TT_LANES * 4), aligned(4), may_alias));
#define TT_VEC TT_NAME(vec)
#define TT_IVEC TT_NAME(ivec)

// x in every lane: −0 + x is x exactly, so this compiles to one broadcast (0 + x would not: −0 + 0 is +0).
static inline __attribute__((always_inline)) TT_TARGET TT_VEC TT_NAME(splat)(float x) { return -(TT_VEC){0} + x; }

// e^x lane by lane, the same range reduction and polynomial as CElementwise's tt_exp.
static inline __attribute__((always_inline)) TT_TARGET TT_VEC TT_NAME(vexp)(TT_VEC x) {
    x = __builtin_elementwise_min(__builtin_elementwise_max(x, TT_NAME(splat)(-87.3f)), TT_NAME(splat)(88.37f));
    const float magic = 12582912.0f + 127.0f;
    TT_VEC t = x * 1.44269504f + magic;
    TT_VEC n = t - magic;
    TT_VEC r = x - n * 0.693359375f;
    r = r + n * 2.1219444e-4f;
    TT_VEC p = TT_NAME(splat)(1.98756915e-4f);
    p = p * r + 1.39819995e-3f;
    p = p * r + 8.3334519e-3f;
    p = p * r + 4.16657959e-2f;
    p = p * r + 1.66666655e-1f;
    p = p * r + 5.00000012e-1f;
    p = p * r * r + r + 1.0f;
    TT_IVEC bits = (TT_IVEC)t << 23;
    return p * (TT_VEC)bits;
}

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

// scores[r, jj·L + l] = Σ_d q[r, d] · kt[d, jj·L + l] for r < R and jj < J (kt is kᵀ, ldk apart).
static inline __attribute__((always_inline)) TT_TARGET void TT_NAME(scores_block)(
    float *scores, long lds, const float *q, long ld, const float *kt, long ldk, long hd, int R, int J) {
    TT_VEC acc[TT_ROWS][TT_BLOCK];
    for (int r = 0; r < R; r++)
        for (int jj = 0; jj < J; jj++) acc[r][jj] = (TT_VEC){0};
    for (long d = 0; d < hd; d++) {
        TT_VEC keys[TT_BLOCK];
        for (int jj = 0; jj < J; jj++) keys[jj] = *(const TT_VEC *)(kt + d * ldk + jj * TT_LANES);
        for (int r = 0; r < R; r++) {
            TT_VEC query = TT_NAME(splat)(q[r * ld + d]);
            for (int jj = 0; jj < J; jj++) acc[r][jj] += query * keys[jj];
        }
    }
    for (int r = 0; r < R; r++)
        for (int jj = 0; jj < J; jj++) *(TT_VEC *)(scores + r * lds + jj * TT_LANES) = acc[r][jj];
}

// out[r, jj·L + l] = Σ_{j < keys} p[r, j] · v[j, jj·L + l] for r < R and jj < J.
static inline __attribute__((always_inline)) TT_TARGET void TT_NAME(values_block)(
    float *out, long ldo, const float *p, long ldp, const float *v, long ld, long keys, int R, int J) {
    TT_VEC acc[TT_ROWS][TT_BLOCK];
    for (int r = 0; r < R; r++)
        for (int jj = 0; jj < J; jj++) acc[r][jj] = (TT_VEC){0};
    for (long j = 0; j < keys; j++) {
        TT_VEC values[TT_BLOCK];
        for (int jj = 0; jj < J; jj++) values[jj] = *(const TT_VEC *)(v + j * ld + jj * TT_LANES);
        for (int r = 0; r < R; r++) {
            TT_VEC weight = TT_NAME(splat)(p[r * ldp + j]);
            for (int jj = 0; jj < J; jj++) acc[r][jj] += weight * values[jj];
        }
    }
    for (int r = 0; r < R; r++)
        for (int jj = 0; jj < J; jj++) *(TT_VEC *)(out + r * ldo + jj * TT_LANES) = acc[r][jj];
}

// The block functions above for `rows` rows (1 … TT_ROWS ≤ 6), each with its own constant.
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
            TT_FOR_ROWS(rows, TT_NAME(scores_block), scores + j0, padded, q + i0 * ld, ld, kt + j0, padded, hd)
#undef TT_BLOCK_ARG
#define TT_BLOCK_ARG 1
        for (; j0 < keyColumns; j0 += TT_LANES)
            TT_FOR_ROWS(rows, TT_NAME(scores_block), scores + j0, padded, q + i0 * ld, ld, kt + j0, padded, hd)
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
            TT_FOR_ROWS(rows, TT_NAME(values_block), o + c0, ldo, p, padded, v + c0, ld, keys)
#undef TT_BLOCK_ARG
#define TT_BLOCK_ARG 1
        for (; c0 + TT_LANES <= hd; c0 += TT_LANES)
            TT_FOR_ROWS(rows, TT_NAME(values_block), o + c0, ldo, p, padded, v + c0, ld, keys)
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
