// The panel product (see CPanelGEMM.h), AVX-512 only: the forward of every packed weight on CPUs
// that have it. CPUs without AVX-512 keep oneDNN's and OpenBLAS's kernels (PackedWeight.swift).
#include "CPanelGEMM.h"

#include <stdint.h>

#if defined(__x86_64__)
#include <immintrin.h>

#define TT_AVX512 __attribute__((target("avx512f,fma")))
enum { ROWS = 6, LINES_PER_PANEL_ROW = TT_PANEL_WIDTH * 4 / 64 };

// Rows 0 ..< R (R ≤ 6, a constant in each caller) of a times one panel, into out's 64 columns of
// which `mask` says which exist. Over its k steps the block also prefetches lines [from, to) of
// `next` (the next panel) into L2, evenly spaced: a 16.16 fixed-point position, no division.
static inline __attribute__((always_inline)) TT_AVX512 void block(
    float *out, long ldc, const float *a, long lda, const float *panel, long k, int R, const __mmask16 mask[4],
    const float *bias, bool accumulate, const char *next, long from, long to) {
    __m512 acc[ROWS][4];
    for (int r = 0; r < R; r++)
        for (int j = 0; j < 4; j++) acc[r][j] = _mm512_setzero_ps();
    uint64_t position = (uint64_t)from << 16;
    const uint64_t step = next && k > 0 ? ((uint64_t)(to - from) << 16) / (uint64_t)k : 0;
    for (long i = 0; i < k; i++) {
        if (next) _mm_prefetch(next + (position >> 16) * 64, _MM_HINT_T1);
        position += step;
        const float *row = panel + i * TT_PANEL_WIDTH;
        __m512 b0 = _mm512_load_ps(row), b1 = _mm512_load_ps(row + 16);
        __m512 b2 = _mm512_load_ps(row + 32), b3 = _mm512_load_ps(row + 48);
        for (int r = 0; r < R; r++) {
            __m512 x = _mm512_set1_ps(a[r * lda + i]);
            acc[r][0] = _mm512_fmadd_ps(x, b0, acc[r][0]);
            acc[r][1] = _mm512_fmadd_ps(x, b1, acc[r][1]);
            acc[r][2] = _mm512_fmadd_ps(x, b2, acc[r][2]);
            acc[r][3] = _mm512_fmadd_ps(x, b3, acc[r][3]);
        }
    }
    __m512 b[4];
    for (int j = 0; j < 4; j++) b[j] = bias ? _mm512_maskz_loadu_ps(mask[j], bias + 16 * j) : _mm512_setzero_ps();
    for (int r = 0; r < R; r++)
        for (int j = 0; j < 4; j++) {
            float *o = out + r * ldc + 16 * j;
            __m512 v = _mm512_add_ps(acc[r][j], b[j]);
            if (accumulate) v = _mm512_add_ps(_mm512_maskz_loadu_ps(mask[j], o), v);
            _mm512_mask_storeu_ps(o, mask[j], v);
        }
}

// Rows per chunk: where a's rows are more than L2 holds beside a panel (2 MiB of them), they go in
// chunks of about 512 KiB, which stay in L2 while every panel passes, so that a panel is read once
// per chunk, not once per block of rows. Fewer rows go in one chunk: there each extra chunk would
// read the panels again, from memory at batch 1. Chosen by measurement (ViT-B/16 at batch 8 and 32,
// 2 threads: 512 KiB chunks 2-4% ahead of none, 256 KiB 4% behind; chunks at batch 1 cost ViT-B/32
// 10%), see docs/BENCHMARKS.md.
static long chunk_rows(long m, long k) {
    if ((size_t)m * (size_t)k * 4 <= (size_t)2 << 20) return m;
    long rows = (512L << 10) / (4 * k) / ROWS * ROWS;
    return rows < ROWS ? ROWS : rows;
}

static TT_AVX512 void panel_gemm(float *out, long ldc, const float *a, long lda, const float *panels, long m, long n,
                                 long k, long panel0, long panel1, const float *bias, bool accumulate,
                                 tt_activation activation) {
    const long lines = k * LINES_PER_PANEL_ROW, chunk = chunk_rows(m, k);
    for (long c0 = 0; c0 < m; c0 += chunk) {
        const long rows_here = m - c0 < chunk ? m - c0 : chunk, blocks = (rows_here + ROWS - 1) / ROWS;
        for (long p = panel0; p < panel1; p++) {
            const long column = p * TT_PANEL_WIDTH, width = n - column < TT_PANEL_WIDTH ? n - column : TT_PANEL_WIDTH;
            __mmask16 mask[4];
            for (int j = 0; j < 4; j++) {
                long valid = width - 16 * j;
                mask[j] = valid >= 16 ? (__mmask16)0xFFFF : valid <= 0 ? 0 : (__mmask16)((1u << valid) - 1);
            }
            const float *panel = panels + p * k * TT_PANEL_WIDTH;
            // The panel read next: the following one, or the first again for the next chunk.
            const long following = p + 1 < panel1 ? p + 1 : c0 + chunk < m ? panel0 : -1;
            const char *next = following >= 0 ? (const char *)(panels + following * k * TT_PANEL_WIDTH) : NULL;
            for (long block_index = 0; block_index < blocks; block_index++) {
                const long r0 = c0 + block_index * ROWS;
                const int rows = m - r0 < ROWS ? (int)(m - r0) : ROWS;
                float *o = out + r0 * ldc + column;
                const float *x = a + r0 * lda;
                const float *c = bias ? bias + column : NULL;
                const long from = lines * block_index / blocks, to = lines * (block_index + 1) / blocks;
                switch (rows) {
                case 1: block(o, ldc, x, lda, panel, k, 1, mask, c, accumulate, next, from, to); break;
                case 2: block(o, ldc, x, lda, panel, k, 2, mask, c, accumulate, next, from, to); break;
                case 3: block(o, ldc, x, lda, panel, k, 3, mask, c, accumulate, next, from, to); break;
                case 4: block(o, ldc, x, lda, panel, k, 4, mask, c, accumulate, next, from, to); break;
                case 5: block(o, ldc, x, lda, panel, k, 5, mask, c, accumulate, next, from, to); break;
                default: block(o, ldc, x, lda, panel, k, 6, mask, c, accumulate, next, from, to); break;
                }
                if (activation != TT_NO_ACTIVATION)
                    for (int r = 0; r < rows; r++) {
                        if (activation == TT_QUICK_GELU) tt_quick_gelu_forward(o + r * ldc, width);
                        else tt_gelu_forward(o + r * ldc, width);
                    }
            }
        }
    }
}
#endif

bool tt_panel_gemm_supported(void) {
#if defined(__x86_64__)
    __builtin_cpu_init();
    return __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("fma");
#else
    return false;
#endif
}

size_t tt_panel_floats(long n, long k) {
    return (size_t)((n + TT_PANEL_WIDTH - 1) / TT_PANEL_WIDTH) * (size_t)k * TT_PANEL_WIDTH;
}

void tt_panel_pack(float *panels, const float *w, long n, long k, long ldw) {
    const long count = (n + TT_PANEL_WIDTH - 1) / TT_PANEL_WIDTH;
    for (long p = 0; p < count; p++) {
        float *panel = panels + p * k * TT_PANEL_WIDTH;
        // Tiles of 32 steps of i: W's rows are read 32 floats at a time, not one.
        for (long i0 = 0; i0 < k; i0 += 32)
            for (long jj = 0; jj < TT_PANEL_WIDTH; jj++) {
                const long j = p * TT_PANEL_WIDTH + jj;
                for (long i = i0; i < k && i < i0 + 32; i++) panel[i * TT_PANEL_WIDTH + jj] = j < n ? w[j * ldw + i] : 0;
            }
    }
}

void tt_panel_gemm(float *out, long ldc, const float *a, long lda, const float *panels, long m, long n, long k,
                   long panel0, long panel1, const float *bias, bool accumulate, tt_activation activation) {
#if defined(__x86_64__)
    if (m > 0) panel_gemm(out, ldc, a, lda, panels, m, n, k, panel0, panel1, bias, accumulate, activation);
#endif
}
