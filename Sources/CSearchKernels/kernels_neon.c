// arm64 variants: NEON (Advanced SIMD, part of every arm64 CPU's baseline, so
// these functions need no target attribute), and NEON with the dot-product
// extension, whose int8 kernels carry it in a target attribute and run only
// where the dispatcher found SDOT. The two tables share everything but int8.
//
// Half precision uses the base conversions (FCVTL/FCVTN): exact widening, and
// narrowing under the default rounding mode (nearest, ties to even) with NaNs
// quieted and their top payload bits kept — the scalar code's results, bit
// for bit. Quantisation uses FCVTNS, which rounds ties to even and turns NaN
// into 0, as the definition asks.

#if defined(__aarch64__)

#include <arm_neon.h>
#include <math.h>
#include "kernels_internal.h"

// MARK: - Float reductions

static float neon_dot_f32(const float *a, const float *b, size_t n) {
    float32x4_t acc0 = vdupq_n_f32(0), acc1 = vdupq_n_f32(0), acc2 = vdupq_n_f32(0), acc3 = vdupq_n_f32(0);
    size_t i = 0;
    for (; i + 16 <= n; i += 16) {
        acc0 = vfmaq_f32(acc0, vld1q_f32(a + i), vld1q_f32(b + i));
        acc1 = vfmaq_f32(acc1, vld1q_f32(a + i + 4), vld1q_f32(b + i + 4));
        acc2 = vfmaq_f32(acc2, vld1q_f32(a + i + 8), vld1q_f32(b + i + 8));
        acc3 = vfmaq_f32(acc3, vld1q_f32(a + i + 12), vld1q_f32(b + i + 12));
    }
    for (; i + 4 <= n; i += 4) acc0 = vfmaq_f32(acc0, vld1q_f32(a + i), vld1q_f32(b + i));
    float total = vaddvq_f32(vaddq_f32(vaddq_f32(acc0, acc1), vaddq_f32(acc2, acc3)));
    for (; i < n; i++) total += a[i] * b[i];
    return total;
}

static float neon_l2sq_f32(const float *a, const float *b, size_t n) {
    float32x4_t acc0 = vdupq_n_f32(0), acc1 = vdupq_n_f32(0), acc2 = vdupq_n_f32(0), acc3 = vdupq_n_f32(0);
    size_t i = 0;
    for (; i + 16 <= n; i += 16) {
        const float32x4_t d0 = vsubq_f32(vld1q_f32(a + i), vld1q_f32(b + i));
        const float32x4_t d1 = vsubq_f32(vld1q_f32(a + i + 4), vld1q_f32(b + i + 4));
        const float32x4_t d2 = vsubq_f32(vld1q_f32(a + i + 8), vld1q_f32(b + i + 8));
        const float32x4_t d3 = vsubq_f32(vld1q_f32(a + i + 12), vld1q_f32(b + i + 12));
        acc0 = vfmaq_f32(acc0, d0, d0);
        acc1 = vfmaq_f32(acc1, d1, d1);
        acc2 = vfmaq_f32(acc2, d2, d2);
        acc3 = vfmaq_f32(acc3, d3, d3);
    }
    for (; i + 4 <= n; i += 4) {
        const float32x4_t d = vsubq_f32(vld1q_f32(a + i), vld1q_f32(b + i));
        acc0 = vfmaq_f32(acc0, d, d);
    }
    float total = vaddvq_f32(vaddq_f32(vaddq_f32(acc0, acc1), vaddq_f32(acc2, acc3)));
    for (; i < n; i++) {
        const float d = a[i] - b[i];
        total += d * d;
    }
    return total;
}

static float neon_sumsq_f32(const float *x, size_t n) { return neon_dot_f32(x, x, n); }

/// a·b, a·a and b·b in one pass over both vectors.
static void dot_and_norms(const float *a, const float *b, size_t n, float *ab_out, float *aa_out, float *bb_out) {
    // Two sets of accumulators, so each FMA chain waits on its own result only every other step.
    float32x4_t ab0 = vdupq_n_f32(0), aa0 = vdupq_n_f32(0), bb0 = vdupq_n_f32(0);
    float32x4_t ab1 = vdupq_n_f32(0), aa1 = vdupq_n_f32(0), bb1 = vdupq_n_f32(0);
    size_t i = 0;
    for (; i + 8 <= n; i += 8) {
        const float32x4_t va0 = vld1q_f32(a + i), vb0 = vld1q_f32(b + i);
        const float32x4_t va1 = vld1q_f32(a + i + 4), vb1 = vld1q_f32(b + i + 4);
        ab0 = vfmaq_f32(ab0, va0, vb0);
        aa0 = vfmaq_f32(aa0, va0, va0);
        bb0 = vfmaq_f32(bb0, vb0, vb0);
        ab1 = vfmaq_f32(ab1, va1, vb1);
        aa1 = vfmaq_f32(aa1, va1, va1);
        bb1 = vfmaq_f32(bb1, vb1, vb1);
    }
    if (i + 4 <= n) {
        const float32x4_t va = vld1q_f32(a + i), vb = vld1q_f32(b + i);
        ab0 = vfmaq_f32(ab0, va, vb);
        aa0 = vfmaq_f32(aa0, va, va);
        bb0 = vfmaq_f32(bb0, vb, vb);
        i += 4;
    }
    float ab = vaddvq_f32(vaddq_f32(ab0, ab1)), aa = vaddvq_f32(vaddq_f32(aa0, aa1)), bb = vaddvq_f32(vaddq_f32(bb0, bb1));
    for (; i < n; i++) {
        ab += a[i] * b[i];
        aa += a[i] * a[i];
        bb += b[i] * b[i];
    }
    *ab_out = ab;
    *aa_out = aa;
    *bb_out = bb;
}

static float neon_cosine_f32(const float *a, const float *b, size_t n) {
    float ab, aa, bb;
    dot_and_norms(a, b, n, &ab, &aa, &bb);
    return mms_cosine_from_parts(ab, aa, bb);
}

static float neon_sum_f32(const float *x, size_t n) {
    float32x4_t acc0 = vdupq_n_f32(0), acc1 = vdupq_n_f32(0), acc2 = vdupq_n_f32(0), acc3 = vdupq_n_f32(0);
    size_t i = 0;
    for (; i + 16 <= n; i += 16) {
        acc0 = vaddq_f32(acc0, vld1q_f32(x + i));
        acc1 = vaddq_f32(acc1, vld1q_f32(x + i + 4));
        acc2 = vaddq_f32(acc2, vld1q_f32(x + i + 8));
        acc3 = vaddq_f32(acc3, vld1q_f32(x + i + 12));
    }
    for (; i + 4 <= n; i += 4) acc0 = vaddq_f32(acc0, vld1q_f32(x + i));
    float total = vaddvq_f32(vaddq_f32(vaddq_f32(acc0, acc1), vaddq_f32(acc2, acc3)));
    for (; i < n; i++) total += x[i];
    return total;
}

static float neon_maxabs_f32(const float *x, size_t n) {
    // FMAX returns NaN when either operand is NaN, so one NaN anywhere reaches the result.
    float32x4_t best0 = vdupq_n_f32(0), best1 = vdupq_n_f32(0);
    size_t i = 0;
    for (; i + 8 <= n; i += 8) {
        best0 = vmaxq_f32(best0, vabsq_f32(vld1q_f32(x + i)));
        best1 = vmaxq_f32(best1, vabsq_f32(vld1q_f32(x + i + 4)));
    }
    float result = vmaxvq_f32(vmaxq_f32(best0, best1));
    if (result != result) return NAN;
    for (; i < n; i++) {
        const float v = fabsf(x[i]);
        if (v != v) return v;
        if (v > result) result = v;
    }
    return result;
}

// MARK: - One query against many rows

static void neon_dot_f32_many(const float *q, const float *rows, size_t stride, size_t count, size_t n, float *out) {
    for (size_t r = 0; r < count; r++) {
        if (r + 1 < count) mms_prefetch(rows + (r + 1) * stride, n * sizeof(float) < 256 ? n * sizeof(float) : 256);
        out[r] = neon_dot_f32(q, rows + r * stride, n);
    }
}

static void neon_l2sq_f32_many(const float *q, const float *rows, size_t stride, size_t count, size_t n, float *out) {
    for (size_t r = 0; r < count; r++) {
        if (r + 1 < count) mms_prefetch(rows + (r + 1) * stride, n * sizeof(float) < 256 ? n * sizeof(float) : 256);
        out[r] = neon_l2sq_f32(q, rows + r * stride, n);
    }
}

static void neon_cosine_f32_many(const float *q, const float *rows, size_t stride, size_t count, size_t n,
                                 float *out) {
    const float qq = neon_dot_f32(q, q, n);
    for (size_t r = 0; r < count; r++) {
        const float *row = rows + r * stride;
        // The query's norm is known: one pass for q·row and row·row.
        float32x4_t ab0 = vdupq_n_f32(0), bb0 = vdupq_n_f32(0), ab1 = vdupq_n_f32(0), bb1 = vdupq_n_f32(0);
        size_t i = 0;
        for (; i + 8 <= n; i += 8) {
            const float32x4_t vb0 = vld1q_f32(row + i), vb1 = vld1q_f32(row + i + 4);
            ab0 = vfmaq_f32(ab0, vld1q_f32(q + i), vb0);
            bb0 = vfmaq_f32(bb0, vb0, vb0);
            ab1 = vfmaq_f32(ab1, vld1q_f32(q + i + 4), vb1);
            bb1 = vfmaq_f32(bb1, vb1, vb1);
        }
        float ab = vaddvq_f32(vaddq_f32(ab0, ab1)), bb = vaddvq_f32(vaddq_f32(bb0, bb1));
        for (; i < n; i++) {
            ab += q[i] * row[i];
            bb += row[i] * row[i];
        }
        out[r] = mms_cosine_from_parts(ab, qq, bb);
    }
}

// MARK: - Half precision

static inline float32x4_t load_half4(const uint16_t *p) { return vcvt_f32_f16(vreinterpret_f16_u16(vld1_u16(p))); }

static float neon_dot_f32_f16(const float *a, const uint16_t *b, size_t n) {
    float32x4_t acc0 = vdupq_n_f32(0), acc1 = vdupq_n_f32(0), acc2 = vdupq_n_f32(0), acc3 = vdupq_n_f32(0);
    size_t i = 0;
    for (; i + 16 <= n; i += 16) {
        const float16x8_t h0 = vreinterpretq_f16_u16(vld1q_u16(b + i));
        const float16x8_t h1 = vreinterpretq_f16_u16(vld1q_u16(b + i + 8));
        acc0 = vfmaq_f32(acc0, vld1q_f32(a + i), vcvt_f32_f16(vget_low_f16(h0)));
        acc1 = vfmaq_f32(acc1, vld1q_f32(a + i + 4), vcvt_high_f32_f16(h0));
        acc2 = vfmaq_f32(acc2, vld1q_f32(a + i + 8), vcvt_f32_f16(vget_low_f16(h1)));
        acc3 = vfmaq_f32(acc3, vld1q_f32(a + i + 12), vcvt_high_f32_f16(h1));
    }
    for (; i + 4 <= n; i += 4) acc0 = vfmaq_f32(acc0, vld1q_f32(a + i), load_half4(b + i));
    float total = vaddvq_f32(vaddq_f32(vaddq_f32(acc0, acc1), vaddq_f32(acc2, acc3)));
    for (; i < n; i++) total += a[i] * mms_f16_to_f32_scalar(b[i]);
    return total;
}

static float neon_l2sq_f32_f16(const float *a, const uint16_t *b, size_t n) {
    float32x4_t acc0 = vdupq_n_f32(0), acc1 = vdupq_n_f32(0);
    size_t i = 0;
    for (; i + 8 <= n; i += 8) {
        const float16x8_t h = vreinterpretq_f16_u16(vld1q_u16(b + i));
        const float32x4_t d0 = vsubq_f32(vld1q_f32(a + i), vcvt_f32_f16(vget_low_f16(h)));
        const float32x4_t d1 = vsubq_f32(vld1q_f32(a + i + 4), vcvt_high_f32_f16(h));
        acc0 = vfmaq_f32(acc0, d0, d0);
        acc1 = vfmaq_f32(acc1, d1, d1);
    }
    if (i + 4 <= n) {
        const float32x4_t d = vsubq_f32(vld1q_f32(a + i), load_half4(b + i));
        acc0 = vfmaq_f32(acc0, d, d);
        i += 4;
    }
    float total = vaddvq_f32(vaddq_f32(acc0, acc1));
    for (; i < n; i++) {
        const float d = a[i] - mms_f16_to_f32_scalar(b[i]);
        total += d * d;
    }
    return total;
}

static void neon_dot_f32_f16_many(const float *q, const uint16_t *rows, size_t stride, size_t count, size_t n,
                                  float *out) {
    for (size_t r = 0; r < count; r++) out[r] = neon_dot_f32_f16(q, rows + r * stride, n);
}

static void neon_f32_to_f16(const float *src, uint16_t *dst, size_t n) {
    size_t i = 0;
    for (; i + 8 <= n; i += 8) {
        const float16x4_t low = vcvt_f16_f32(vld1q_f32(src + i));
        vst1q_u16(dst + i, vreinterpretq_u16_f16(vcvt_high_f16_f32(low, vld1q_f32(src + i + 4))));
    }
    if (i + 4 <= n) {
        vst1_u16(dst + i, vreinterpret_u16_f16(vcvt_f16_f32(vld1q_f32(src + i))));
        i += 4;
    }
    for (; i < n; i++) dst[i] = mms_f32_to_f16_scalar(src[i]);
}

static void neon_f16_to_f32(const uint16_t *src, float *dst, size_t n) {
    size_t i = 0;
    for (; i + 8 <= n; i += 8) {
        const float16x8_t h = vreinterpretq_f16_u16(vld1q_u16(src + i));
        vst1q_f32(dst + i, vcvt_f32_f16(vget_low_f16(h)));
        vst1q_f32(dst + i + 4, vcvt_high_f32_f16(h));
    }
    if (i + 4 <= n) {
        vst1q_f32(dst + i, load_half4(src + i));
        i += 4;
    }
    for (; i < n; i++) dst[i] = mms_f16_to_f32_scalar(src[i]);
}

// MARK: - int8

// Without SDOT: SMULL widens 8 byte products to int16 (|−128·−128| = 2^14
// fits), SADALP adds neighbouring pairs into int32 lanes. Lanes wrap modulo
// 2^32 and the true sum fits in int32 for n < 2^17, so the result is exact.
static int32_t neon_dot_i8(const int8_t *a, const int8_t *b, size_t n) {
    int32x4_t acc0 = vdupq_n_s32(0), acc1 = vdupq_n_s32(0), acc2 = vdupq_n_s32(0), acc3 = vdupq_n_s32(0);
    size_t i = 0;
    for (; i + 32 <= n; i += 32) {
        const int8x16_t a0 = vld1q_s8(a + i), b0 = vld1q_s8(b + i);
        const int8x16_t a1 = vld1q_s8(a + i + 16), b1 = vld1q_s8(b + i + 16);
        acc0 = vpadalq_s16(acc0, vmull_s8(vget_low_s8(a0), vget_low_s8(b0)));
        acc1 = vpadalq_s16(acc1, vmull_high_s8(a0, b0));
        acc2 = vpadalq_s16(acc2, vmull_s8(vget_low_s8(a1), vget_low_s8(b1)));
        acc3 = vpadalq_s16(acc3, vmull_high_s8(a1, b1));
    }
    for (; i + 16 <= n; i += 16) {
        const int8x16_t a0 = vld1q_s8(a + i), b0 = vld1q_s8(b + i);
        acc0 = vpadalq_s16(acc0, vmull_s8(vget_low_s8(a0), vget_low_s8(b0)));
        acc1 = vpadalq_s16(acc1, vmull_high_s8(a0, b0));
    }
    if (i + 8 <= n) {
        acc2 = vpadalq_s16(acc2, vmull_s8(vld1_s8(a + i), vld1_s8(b + i)));
        i += 8;
    }
    const uint32x4_t lanes = vaddq_u32(vaddq_u32(vreinterpretq_u32_s32(acc0), vreinterpretq_u32_s32(acc1)),
                                       vaddq_u32(vreinterpretq_u32_s32(acc2), vreinterpretq_u32_s32(acc3)));
    uint32_t total = vaddvq_u32(lanes);
    for (; i < n; i++) total += (uint32_t)((int32_t)a[i] * (int32_t)b[i]);
    return (int32_t)total;
}

static void neon_dot_i8_many(const int8_t *q, const int8_t *rows, size_t stride, size_t count, size_t n,
                             int32_t *out) {
    for (size_t r = 0; r < count; r++) out[r] = neon_dot_i8(q, rows + r * stride, n);
}

// With SDOT: each instruction adds four signed byte products into every int32
// lane (at most 4·2^14 per step). Signed × signed, so −128 needs no offset
// trick; lanes wrap modulo 2^32 as above.
MMS_TARGET_DOTPROD static int32_t neon_dotprod_dot_i8(const int8_t *a, const int8_t *b, size_t n) {
    int32x4_t acc0 = vdupq_n_s32(0), acc1 = vdupq_n_s32(0), acc2 = vdupq_n_s32(0), acc3 = vdupq_n_s32(0);
    size_t i = 0;
    for (; i + 64 <= n; i += 64) {
        acc0 = vdotq_s32(acc0, vld1q_s8(a + i), vld1q_s8(b + i));
        acc1 = vdotq_s32(acc1, vld1q_s8(a + i + 16), vld1q_s8(b + i + 16));
        acc2 = vdotq_s32(acc2, vld1q_s8(a + i + 32), vld1q_s8(b + i + 32));
        acc3 = vdotq_s32(acc3, vld1q_s8(a + i + 48), vld1q_s8(b + i + 48));
    }
    for (; i + 16 <= n; i += 16) acc0 = vdotq_s32(acc0, vld1q_s8(a + i), vld1q_s8(b + i));
    if (i + 8 <= n) {
        acc1 = vcombine_s32(vdot_s32(vget_low_s32(acc1), vld1_s8(a + i), vld1_s8(b + i)), vget_high_s32(acc1));
        i += 8;
    }
    const uint32x4_t lanes = vaddq_u32(vaddq_u32(vreinterpretq_u32_s32(acc0), vreinterpretq_u32_s32(acc1)),
                                       vaddq_u32(vreinterpretq_u32_s32(acc2), vreinterpretq_u32_s32(acc3)));
    uint32_t total = vaddvq_u32(lanes);
    for (; i < n; i++) total += (uint32_t)((int32_t)a[i] * (int32_t)b[i]);
    return (int32_t)total;
}

MMS_TARGET_DOTPROD static void neon_dotprod_dot_i8_many(const int8_t *q, const int8_t *rows, size_t stride,
                                                        size_t count, size_t n, int32_t *out) {
    for (size_t r = 0; r < count; r++) out[r] = neon_dotprod_dot_i8(q, rows + r * stride, n);
}

// MARK: - Quantisation

/// Eight codes from two vectors: FMAX/FMIN pass NaN on, FCVTNS turns it into 0.
static inline int8x8_t quantize8(float32x4_t x0, float32x4_t x1, float32x4_t scale) {
    const float32x4_t lo = vdupq_n_f32(-127.0f), hi = vdupq_n_f32(127.0f);
    const int32x4_t q0 = vcvtnq_s32_f32(vminq_f32(vmaxq_f32(vmulq_f32(x0, scale), lo), hi));
    const int32x4_t q1 = vcvtnq_s32_f32(vminq_f32(vmaxq_f32(vmulq_f32(x1, scale), lo), hi));
    return vmovn_s16(vcombine_s16(vmovn_s32(q0), vmovn_s32(q1)));
}

static void neon_quantize_i8(const float *src, size_t n, float inverse_scale, int8_t *dst) {
    const float32x4_t scale = vdupq_n_f32(inverse_scale);
    size_t i = 0;
    for (; i + 16 <= n; i += 16) {
        const int8x8_t low = quantize8(vld1q_f32(src + i), vld1q_f32(src + i + 4), scale);
        const int8x8_t high = quantize8(vld1q_f32(src + i + 8), vld1q_f32(src + i + 12), scale);
        vst1q_s8(dst + i, vcombine_s8(low, high));
    }
    if (i + 8 <= n) {
        vst1_s8(dst + i, quantize8(vld1q_f32(src + i), vld1q_f32(src + i + 4), scale));
        i += 8;
    }
    for (; i < n; i++) dst[i] = mms_quantize_one(src[i], inverse_scale);
}

static void neon_dequantize_i8(const int8_t *src, size_t n, float scale, float *dst) {
    const float32x4_t s = vdupq_n_f32(scale);
    size_t i = 0;
    for (; i + 8 <= n; i += 8) {
        const int16x8_t wide = vmovl_s8(vld1_s8(src + i));
        vst1q_f32(dst + i, vmulq_f32(vcvtq_f32_s32(vmovl_s16(vget_low_s16(wide))), s));
        vst1q_f32(dst + i + 4, vmulq_f32(vcvtq_f32_s32(vmovl_high_s16(wide)), s));
    }
    for (; i < n; i++) dst[i] = (float)src[i] * scale;
}

const mms_kernel_table mms_neon_table = {
    .level = MMS_KERNEL_NEON,
    .name = "neon",
    .dot_f32 = neon_dot_f32,
    .l2sq_f32 = neon_l2sq_f32,
    .cosine_f32 = neon_cosine_f32,
    .sum_f32 = neon_sum_f32,
    .sumsq_f32 = neon_sumsq_f32,
    .maxabs_f32 = neon_maxabs_f32,
    .dot_f32_many = neon_dot_f32_many,
    .l2sq_f32_many = neon_l2sq_f32_many,
    .cosine_f32_many = neon_cosine_f32_many,
    .dot_f32_f16 = neon_dot_f32_f16,
    .dot_f32_f16_many = neon_dot_f32_f16_many,
    .l2sq_f32_f16 = neon_l2sq_f32_f16,
    .dot_i8 = neon_dot_i8,
    .dot_i8_many = neon_dot_i8_many,
    .f32_to_f16 = neon_f32_to_f16,
    .f16_to_f32 = neon_f16_to_f32,
    .quantize_i8 = neon_quantize_i8,
    .dequantize_i8 = neon_dequantize_i8,
    .activation_f32 = mms_neon_activation_f32,
    .softmax_f32 = mms_neon_softmax_f32,
    .attention_f32 = mms_neon_attention_f32,
};

const mms_kernel_table mms_neon_dotprod_table = {
    .level = MMS_KERNEL_NEON_DOTPROD,
    .name = "neon_dotprod",
    .dot_f32 = neon_dot_f32,
    .l2sq_f32 = neon_l2sq_f32,
    .cosine_f32 = neon_cosine_f32,
    .sum_f32 = neon_sum_f32,
    .sumsq_f32 = neon_sumsq_f32,
    .maxabs_f32 = neon_maxabs_f32,
    .dot_f32_many = neon_dot_f32_many,
    .l2sq_f32_many = neon_l2sq_f32_many,
    .cosine_f32_many = neon_cosine_f32_many,
    .dot_f32_f16 = neon_dot_f32_f16,
    .dot_f32_f16_many = neon_dot_f32_f16_many,
    .l2sq_f32_f16 = neon_l2sq_f32_f16,
    .dot_i8 = neon_dotprod_dot_i8,
    .dot_i8_many = neon_dotprod_dot_i8_many,
    .f32_to_f16 = neon_f32_to_f16,
    .f16_to_f32 = neon_f16_to_f32,
    .quantize_i8 = neon_quantize_i8,
    .dequantize_i8 = neon_dequantize_i8,
    .activation_f32 = mms_neon_activation_f32,
    .softmax_f32 = mms_neon_softmax_f32,
    .attention_f32 = mms_neon_attention_f32,
};

#endif // arm64
