#ifndef CPANELGEMM_H
#define CPANELGEMM_H

// The engine's own float32 weight product, for weights packed once at load into panels of 64 columns:
//   out[r, j] = act((accumulate ? out[r, j] : 0) + Σ_i a[r, i] · W[j, i] + (bias ? bias[j] : 0))
// with W in PyTorch's layout [n, k]. Panel p holds columns 64p ..< 64p + 64 of Wᵀ as k rows of 64
// floats (zeros past n), so the kernel reads each panel front to back.
//
// The kernel keeps 6 rows × 64 columns of sums in AVX-512 registers and, while it works on one
// panel, prefetches the next into L2: at batch 1 every weight comes from memory once per image, and
// oneDNN 2.6's brgemm kernels stalled on it (a probe, one thread, 50 × 768 × 768 with the weights
// cold: 110 GFLOP/s for oneDNN, 147 for this kernel; warm, 150 and 167). Each output is summed over
// i in order, whatever the rows beside it or the split of the work: a row gets the same bits alone
// or in a batch.

#include <stdbool.h>
#include <stddef.h>

#include "CElementwise.h"   // tt_activation

enum { TT_PANEL_WIDTH = 64 };

// Whether this CPU has the kernel's instructions (AVX-512 F).
bool tt_panel_gemm_supported(void);

// Floats the panels of W [n, k] take: ⌈n / 64⌉ · k · 64.
size_t tt_panel_floats(long n, long k);

// Packs W [n, k] (row stride ldw) into `panels`, tt_panel_floats(n, k) floats aligned to 64 bytes.
void tt_panel_pack(float *panels, const float *w, long n, long k, long ldw);

// Columns 64·panel0 ..< min(n, 64·panel1) of the product, rows 0 ..< m, on the calling thread.
// `out` and `bias` are indexed by the product's columns (out[r·ldc + j], bias[j]) from column 0;
// a is [m, k] with row stride lda. Needs tt_panel_gemm_supported().
void tt_panel_gemm(float *out, long ldc, const float *a, long lda, const float *panels, long m, long n, long k,
                   long panel0, long panel1, const float *bias, bool accumulate, tt_activation activation);

#endif
