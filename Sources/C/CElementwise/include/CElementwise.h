#ifndef CELEMENTWISE_H
#define CELEMENTWISE_H

// The transcendental element-wise kernels of the transformer (GELU variants and the softmax's
// exponentials), in C so that one source is compiled twice: for the baseline x86-64 (SSE2) and for
// x86-64-v3 (AVX2 + FMA), chosen once at run time. Swift's SIMD types compile to the baseline only,
// where these loops cost 3-4x more.
//
// Each entry point dispatches; the `_portable` and `_avx2` variants are exported so tests can check
// both against each other on a machine that has AVX2.

#include <stdbool.h>

// An MLP activation that a product applies to its output as it writes it (CPackedGEMM, CPanelGEMM).
typedef enum { TT_NO_ACTIVATION = 0, TT_QUICK_GELU = 1, TT_GELU = 2 } tt_activation;

// x[i] = x[i] * sigmoid(1.702 x[i])   (OpenAI's quick_gelu), in place.
void tt_quick_gelu_forward(float *x, long count);
// dinp[i] += dout[i] * d/dx quick_gelu(inp[i]).
void tt_quick_gelu_backward(float *dinp, const float *dout, const float *inp, long count);
// x[i] = x[i]/2 * (1 + erf(x[i]/sqrt 2))   (exact GELU), in place.
void tt_gelu_forward(float *x, long count);
// dinp[i] += dout[i] * d/dx gelu(inp[i]).
void tt_gelu_backward(float *dinp, const float *dout, const float *inp, long count);
// Softmax of row[0..<length] in place (maximum subtracted first); row[length..<width] = 0.
void tt_softmax_row(float *row, long length, long width);

// Whether the AVX2 variants are the ones in use.
bool tt_elementwise_uses_avx2(void);

void tt_quick_gelu_forward_portable(float *x, long count);
void tt_quick_gelu_backward_portable(float *dinp, const float *dout, const float *inp, long count);
void tt_gelu_forward_portable(float *x, long count);
void tt_gelu_backward_portable(float *dinp, const float *dout, const float *inp, long count);
void tt_softmax_row_portable(float *row, long length, long width);
#if defined(__x86_64__)
void tt_quick_gelu_forward_avx2(float *x, long count);
void tt_quick_gelu_backward_avx2(float *dinp, const float *dout, const float *inp, long count);
void tt_gelu_forward_avx2(float *x, long count);
void tt_gelu_backward_avx2(float *dinp, const float *dout, const float *inp, long count);
void tt_softmax_row_avx2(float *row, long length, long width);
#endif

#endif
