// The kernels' bodies, included by elementwise.c once per target (TT_TARGET, TT_NAME).
// Written as plain loops over inline scalar helpers so the compiler vectorises them for each
// target; the reductions keep 8 partial results so their order does not depend on the target.

TT_TARGET void TT_NAME(tt_quick_gelu_forward)(float *x, long count) {
    for (long i = 0; i < count; i++) {
        float v = x[i];
        x[i] = v / (1.0f + tt_exp(-1.702f * v));
    }
}

TT_TARGET void TT_NAME(tt_quick_gelu_backward)(float *dinp, const float *dout, const float *inp, long count) {
    for (long i = 0; i < count; i++) {
        float v = inp[i];
        float s = 1.0f / (1.0f + tt_exp(-1.702f * v));
        dinp[i] += dout[i] * (s + 1.702f * v * s * (1.0f - s));
    }
}

TT_TARGET void TT_NAME(tt_gelu_forward)(float *x, long count) {
    for (long i = 0; i < count; i++) {
        float v = x[i];
        x[i] = 0.5f * v * (1.0f + tt_erf(v * 0.70710678118654752f));
    }
}

TT_TARGET void TT_NAME(tt_gelu_backward)(float *dinp, const float *dout, const float *inp, long count) {
    for (long i = 0; i < count; i++) {
        float v = inp[i];
        float cdf = 0.5f * (1.0f + tt_erf(v * 0.70710678118654752f));
        float pdf = tt_exp(-0.5f * v * v) * 0.39894228040143268f;
        dinp[i] += dout[i] * (cdf + v * pdf);
    }
}

TT_TARGET void TT_NAME(tt_softmax_row)(float *row, long length, long width) {
    float lanes[8] = {-INFINITY, -INFINITY, -INFINITY, -INFINITY, -INFINITY, -INFINITY, -INFINITY, -INFINITY};
    long i = 0;
    for (; i + 8 <= length; i += 8)
        for (int j = 0; j < 8; j++) lanes[j] = row[i + j] > lanes[j] ? row[i + j] : lanes[j];
    float maximum = -INFINITY;
    for (int j = 0; j < 8; j++) maximum = lanes[j] > maximum ? lanes[j] : maximum;
    for (; i < length; i++) maximum = row[i] > maximum ? row[i] : maximum;

    for (long k = 0; k < length; k++) row[k] = tt_exp(row[k] - maximum);

    float sums[8] = {0, 0, 0, 0, 0, 0, 0, 0};
    for (i = 0; i + 8 <= length; i += 8)
        for (int j = 0; j < 8; j++) sums[j] += row[i + j];
    float sum = 0;
    for (int j = 0; j < 8; j++) sum += sums[j];
    for (; i < length; i++) sum += row[i];

    float inverse = 1.0f / sum;
    for (long k = 0; k < length; k++) row[k] *= inverse;
    for (long k = length; k < width; k++) row[k] = 0;
}
