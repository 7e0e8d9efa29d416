// Portable variants: plain C that any compiler for any CPU accepts. Each
// reduction keeps LANES independent partial sums, which a compiler turns into
// vector registers (SSE2 on baseline x86-64, NEON on arm64) without needing
// permission to reassociate floating-point addition.

#include <math.h>
#include <string.h>
#include "kernels_internal.h"

#define LANES 16

static float portable_dot_f32(const float *a, const float *b, size_t n) {
    float acc[LANES] = {0};
    size_t i = 0;
    for (; i + LANES <= n; i += LANES) {
        for (size_t j = 0; j < LANES; j++) acc[j] += a[i + j] * b[i + j];
    }
    float total = 0;
    for (size_t j = 0; j < LANES; j++) total += acc[j];
    for (; i < n; i++) total += a[i] * b[i];
    return total;
}

static float portable_l2sq_f32(const float *a, const float *b, size_t n) {
    float acc[LANES] = {0};
    size_t i = 0;
    for (; i + LANES <= n; i += LANES) {
        for (size_t j = 0; j < LANES; j++) {
            const float d = a[i + j] - b[i + j];
            acc[j] += d * d;
        }
    }
    float total = 0;
    for (size_t j = 0; j < LANES; j++) total += acc[j];
    for (; i < n; i++) {
        const float d = a[i] - b[i];
        total += d * d;
    }
    return total;
}

static float portable_sumsq_f32(const float *x, size_t n) { return portable_dot_f32(x, x, n); }

static float portable_cosine_f32(const float *a, const float *b, size_t n) {
    return mms_cosine_from_parts(portable_dot_f32(a, b, n), portable_dot_f32(a, a, n), portable_dot_f32(b, b, n));
}

static float portable_sum_f32(const float *x, size_t n) {
    float acc[LANES] = {0};
    size_t i = 0;
    for (; i + LANES <= n; i += LANES) {
        for (size_t j = 0; j < LANES; j++) acc[j] += x[i + j];
    }
    float total = 0;
    for (size_t j = 0; j < LANES; j++) total += acc[j];
    for (; i < n; i++) total += x[i];
    return total;
}

static float portable_maxabs_f32(const float *x, size_t n) {
    float best = 0;
    for (size_t i = 0; i < n; i++) {
        const float v = fabsf(x[i]);
        if (v != v) return v;
        if (v > best) best = v;
    }
    return best;
}

static void portable_dot_f32_many(const float *q, const float *rows, size_t stride, size_t count, size_t n,
                                  float *out) {
    for (size_t r = 0; r < count; r++) out[r] = portable_dot_f32(q, rows + r * stride, n);
}

static void portable_l2sq_f32_many(const float *q, const float *rows, size_t stride, size_t count, size_t n,
                                   float *out) {
    for (size_t r = 0; r < count; r++) out[r] = portable_l2sq_f32(q, rows + r * stride, n);
}

static void portable_cosine_f32_many(const float *q, const float *rows, size_t stride, size_t count, size_t n,
                                     float *out) {
    const float qq = portable_dot_f32(q, q, n);
    for (size_t r = 0; r < count; r++) {
        const float *row = rows + r * stride;
        out[r] = mms_cosine_from_parts(portable_dot_f32(q, row, n), qq, portable_dot_f32(row, row, n));
    }
}

// Halves are widened a block at a time into a small buffer, then reduced by
// the float kernel: the conversion is the costly part without F16C.
#define HALF_BLOCK 256

static float portable_dot_f32_f16(const float *a, const uint16_t *b, size_t n) {
    float wide[HALF_BLOCK];
    float total = 0;
    for (size_t i = 0; i < n; i += HALF_BLOCK) {
        const size_t m = n - i < HALF_BLOCK ? n - i : HALF_BLOCK;
        for (size_t j = 0; j < m; j++) wide[j] = mms_f16_to_f32_scalar(b[i + j]);
        total += portable_dot_f32(a + i, wide, m);
    }
    return total;
}

static float portable_l2sq_f32_f16(const float *a, const uint16_t *b, size_t n) {
    float wide[HALF_BLOCK];
    float total = 0;
    for (size_t i = 0; i < n; i += HALF_BLOCK) {
        const size_t m = n - i < HALF_BLOCK ? n - i : HALF_BLOCK;
        for (size_t j = 0; j < m; j++) wide[j] = mms_f16_to_f32_scalar(b[i + j]);
        total += portable_l2sq_f32(a + i, wide, m);
    }
    return total;
}

static void portable_dot_f32_f16_many(const float *q, const uint16_t *rows, size_t stride, size_t count, size_t n,
                                      float *out) {
    for (size_t r = 0; r < count; r++) out[r] = portable_dot_f32_f16(q, rows + r * stride, n);
}

static int32_t portable_dot_i8(const int8_t *a, const int8_t *b, size_t n) {
    // Unsigned arithmetic wraps where int32 would overflow; the true result
    // fits in int32 for n < 2^17, so the wrapped sum is exact.
    uint32_t acc[LANES] = {0};
    size_t i = 0;
    for (; i + LANES <= n; i += LANES) {
        for (size_t j = 0; j < LANES; j++) acc[j] += (uint32_t)((int32_t)a[i + j] * (int32_t)b[i + j]);
    }
    uint32_t total = 0;
    for (size_t j = 0; j < LANES; j++) total += acc[j];
    for (; i < n; i++) total += (uint32_t)((int32_t)a[i] * (int32_t)b[i]);
    return (int32_t)total;
}

static void portable_dot_i8_many(const int8_t *q, const int8_t *rows, size_t stride, size_t count, size_t n,
                                 int32_t *out) {
    for (size_t r = 0; r < count; r++) out[r] = portable_dot_i8(q, rows + r * stride, n);
}

static void portable_f32_to_f16(const float *src, uint16_t *dst, size_t n) {
    for (size_t i = 0; i < n; i++) dst[i] = mms_f32_to_f16_scalar(src[i]);
}

static void portable_f16_to_f32(const uint16_t *src, float *dst, size_t n) {
    for (size_t i = 0; i < n; i++) dst[i] = mms_f16_to_f32_scalar(src[i]);
}

static void portable_quantize_i8(const float *src, size_t n, float inverse_scale, int8_t *dst) {
    for (size_t i = 0; i < n; i++) {
        dst[i] = mms_quantize_one(src[i], inverse_scale);
    }
}

static void portable_dequantize_i8(const int8_t *src, size_t n, float scale, float *dst) {
    for (size_t i = 0; i < n; i++) dst[i] = (float)src[i] * scale;
}

const mms_kernel_table mms_portable_table = {
    .level = MMS_KERNEL_PORTABLE,
    .name = "portable",
    .dot_f32 = portable_dot_f32,
    .l2sq_f32 = portable_l2sq_f32,
    .cosine_f32 = portable_cosine_f32,
    .sum_f32 = portable_sum_f32,
    .sumsq_f32 = portable_sumsq_f32,
    .maxabs_f32 = portable_maxabs_f32,
    .dot_f32_many = portable_dot_f32_many,
    .l2sq_f32_many = portable_l2sq_f32_many,
    .cosine_f32_many = portable_cosine_f32_many,
    .dot_f32_f16 = portable_dot_f32_f16,
    .dot_f32_f16_many = portable_dot_f32_f16_many,
    .l2sq_f32_f16 = portable_l2sq_f32_f16,
    .dot_i8 = portable_dot_i8,
    .dot_i8_many = portable_dot_i8_many,
    .f32_to_f16 = portable_f32_to_f16,
    .f16_to_f32 = portable_f16_to_f32,
    .quantize_i8 = portable_quantize_i8,
    .dequantize_i8 = portable_dequantize_i8,
    .activation_f32 = mms_portable_activation_f32,
    .softmax_f32 = mms_portable_softmax_f32,
    .attention_f32 = mms_portable_attention_f32,
};
