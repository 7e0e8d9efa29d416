// Transformer kernels in portable C: activations, softmax, one head's
// attention, for the portable table (AVX2 and AVX-512 have their own forms).

#include "kernels_internal.h"
#include "kernels_math.h"

void mms_portable_activation_f32(float *x, size_t n, int activation) {
    if (activation == MMS_ACTIVATION_NONE) return;
    for (size_t i = 0; i < n; i++) x[i] = mms_activate_scalar(x[i], activation);
}

void mms_portable_softmax_f32(float *x, size_t n) {
    if (n == 0) return;
    float maximum = x[0];
    for (size_t i = 1; i < n; i++) maximum = x[i] > maximum ? x[i] : maximum;
    float sum = 0;
    for (size_t i = 0; i < n; i++) {
        const float e = mms_exp_scalar(x[i] - maximum);
        x[i] = e;
        sum += e;
    }
    const float inverse = 1.0f / sum;
    for (size_t i = 0; i < n; i++) x[i] *= inverse;
}

void mms_portable_attention_f32(const float *q, const float *k, const float *v, size_t stride, size_t n, size_t d,
                                float scale, int causal, float *scratch, float *out, size_t ldo) {
    float *scores = scratch;
    for (size_t i = 0; i < n; i++) {
        const size_t limit = causal ? i + 1 : n;
        const float *qi = q + i * stride;
        for (size_t j = 0; j < limit; j++) {
            const float *kj = k + j * stride;
            float dot = 0;
            for (size_t c = 0; c < d; c++) dot += qi[c] * kj[c];
            scores[j] = scale * dot;
        }
        mms_portable_softmax_f32(scores, limit);
        float *o = out + i * ldo;
        for (size_t c = 0; c < d; c++) o[c] = 0;
        for (size_t j = 0; j < limit; j++) {
            const float p = scores[j];
            const float *vj = v + j * stride;
            for (size_t c = 0; c < d; c++) o[c] += p * vj[c];
        }
    }
}
