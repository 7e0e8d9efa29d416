// Element-wise math shared by the kernel variants and the GEMM epilogue: e^x
// and the transformer activations, as a scalar function every variant can use
// and 16-lane AVX-512 and 8-lane AVX2 forms (x86-64) and a 4-lane NEON form
// (arm64). Not part of the API.
//
// Accuracy: e^x is Cephes' expf — Cody–Waite reduction by ln 2, a degree-6
// polynomial, the exponent put back through the bit pattern — within 2 ulp on
// [−87.3, 88.4] (inputs are clamped to that range). erf is Abramowitz &
// Stegun 7.1.26, absolute error ≤ 1.5·10⁻⁷. The Swift `FastMath` in Encoders
// computes the same formulas.
#ifndef SEARCH_KERNELS_MATH_H
#define SEARCH_KERNELS_MATH_H

#include <stdint.h>
#include <string.h>
#include "search_kernels.h"

#define MMS_EXP_LOW (-87.33654f)
#define MMS_EXP_HIGH 88.37626f
#define MMS_LOG2E 1.44269504f
#define MMS_LN2_HIGH 0.693359375f
#define MMS_LN2_LOW (-2.12194440e-4f)
/// 1.5·2²³: adding it rounds to an integer (ties to even) held in the low mantissa bits.
#define MMS_ROUNDING_SHIFTER 12582912.0f

static inline float mms_exp_scalar(float x) {
    if (x < MMS_EXP_LOW) x = MMS_EXP_LOW;
    if (x > MMS_EXP_HIGH) x = MMS_EXP_HIGH;
    const float k = x * MMS_LOG2E + MMS_ROUNDING_SHIFTER;
    const float n = k - MMS_ROUNDING_SHIFTER;
    float r = x - n * MMS_LN2_HIGH;
    r = r - n * MMS_LN2_LOW;
    float p = 1.98756915e-4f;
    p = p * r + 1.39819995e-3f;
    p = p * r + 8.3334519e-3f;
    p = p * r + 4.1665796e-2f;
    p = p * r + 1.66666655e-1f;
    p = p * r + 5.0000001e-1f;
    p = p * (r * r) + r + 1.0f;
    uint32_t kb, sb;
    memcpy(&kb, &k, 4);
    const float shifter = MMS_ROUNDING_SHIFTER;
    memcpy(&sb, &shifter, 4);
    const uint32_t bits = (kb - sb + 127u) << 23;
    float scale;
    memcpy(&scale, &bits, 4);
    return p * scale;
}

static inline float mms_erf_scalar(float x) {
    const float a = x < 0 ? -x : x;
    const float t = 1.0f / (1.0f + 0.3275911f * a);
    float y = 1.061405429f;
    y = y * t - 1.453152027f;
    y = y * t + 1.421413741f;
    y = y * t - 0.284496736f;
    y = y * t + 0.254829592f;
    y = 1.0f - y * t * mms_exp_scalar(-a * a);
    return x < 0 ? -y : y;
}

/// One value through `activation` (an `mms_activation`).
static inline float mms_activate_scalar(float v, int activation) {
    switch (activation) {
    case MMS_ACTIVATION_GELU:
        return 0.5f * v * (1.0f + mms_erf_scalar(v * 0.70710678118654752f));
    case MMS_ACTIVATION_GELU_TANH: {
        const float u = 0.7978845608028654f * (v + 0.044715f * v * v * v);
        return 0.5f * v * (2.0f - 2.0f / (mms_exp_scalar(2.0f * u) + 1.0f));
    }
    case MMS_ACTIVATION_QUICK_GELU:
        return v / (1.0f + mms_exp_scalar(-1.702f * v));
    default:
        return v;
    }
}

#if defined(__x86_64__) || defined(_M_X64)
#include <immintrin.h>

#define MMS_MATH512 __attribute__((target("avx512f,avx512dq,fma"), always_inline))

MMS_MATH512 static inline __m512 mms_exp512(__m512 x) {
    x = _mm512_min_ps(_mm512_max_ps(x, _mm512_set1_ps(MMS_EXP_LOW)), _mm512_set1_ps(MMS_EXP_HIGH));
    const __m512 shifter = _mm512_set1_ps(MMS_ROUNDING_SHIFTER);
    const __m512 k = _mm512_fmadd_ps(x, _mm512_set1_ps(MMS_LOG2E), shifter);
    const __m512 n = _mm512_sub_ps(k, shifter);
    __m512 r = _mm512_fnmadd_ps(n, _mm512_set1_ps(MMS_LN2_HIGH), x);
    r = _mm512_fnmadd_ps(n, _mm512_set1_ps(MMS_LN2_LOW), r);
    __m512 p = _mm512_set1_ps(1.98756915e-4f);
    p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(1.39819995e-3f));
    p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(8.3334519e-3f));
    p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(4.1665796e-2f));
    p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(1.66666655e-1f));
    p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(5.0000001e-1f));
    p = _mm512_fmadd_ps(p, _mm512_mul_ps(r, r), _mm512_add_ps(r, _mm512_set1_ps(1.0f)));
    const __m512i bits = _mm512_slli_epi32(
        _mm512_add_epi32(_mm512_sub_epi32(_mm512_castps_si512(k), _mm512_castps_si512(shifter)), _mm512_set1_epi32(127)),
        23);
    return _mm512_mul_ps(p, _mm512_castsi512_ps(bits));
}

MMS_MATH512 static inline __m512 mms_erf512(__m512 x) {
    const __m512 sign = _mm512_castsi512_ps(_mm512_and_si512(_mm512_castps_si512(x), _mm512_set1_epi32((int)0x80000000u)));
    const __m512 a = _mm512_castsi512_ps(_mm512_andnot_si512(_mm512_castps_si512(sign), _mm512_castps_si512(x)));
    const __m512 one = _mm512_set1_ps(1.0f);
    const __m512 t = _mm512_div_ps(one, _mm512_fmadd_ps(_mm512_set1_ps(0.3275911f), a, one));
    __m512 y = _mm512_set1_ps(1.061405429f);
    y = _mm512_fmadd_ps(y, t, _mm512_set1_ps(-1.453152027f));
    y = _mm512_fmadd_ps(y, t, _mm512_set1_ps(1.421413741f));
    y = _mm512_fmadd_ps(y, t, _mm512_set1_ps(-0.284496736f));
    y = _mm512_fmadd_ps(y, t, _mm512_set1_ps(0.254829592f));
    const __m512 e = mms_exp512(_mm512_mul_ps(_mm512_sub_ps(_mm512_setzero_ps(), a), a));
    y = _mm512_fnmadd_ps(_mm512_mul_ps(y, t), e, one);
    return _mm512_castsi512_ps(_mm512_or_si512(_mm512_castps_si512(y), _mm512_castps_si512(sign)));
}

/// Sixteen values through `activation` (an `mms_activation`).
MMS_MATH512 static inline __m512 mms_activate512(__m512 v, int activation) {
    const __m512 one = _mm512_set1_ps(1.0f);
    switch (activation) {
    case MMS_ACTIVATION_GELU: {
        const __m512 e = mms_erf512(_mm512_mul_ps(v, _mm512_set1_ps(0.70710678118654752f)));
        return _mm512_mul_ps(_mm512_mul_ps(_mm512_set1_ps(0.5f), v), _mm512_add_ps(one, e));
    }
    case MMS_ACTIVATION_GELU_TANH: {
        const __m512 cube = _mm512_mul_ps(_mm512_mul_ps(v, v), v);
        const __m512 u = _mm512_mul_ps(_mm512_set1_ps(0.7978845608028654f), _mm512_fmadd_ps(_mm512_set1_ps(0.044715f), cube, v));
        const __m512 e = mms_exp512(_mm512_add_ps(u, u));
        const __m512 two = _mm512_set1_ps(2.0f);
        const __m512 tanh1 = _mm512_sub_ps(two, _mm512_div_ps(two, _mm512_add_ps(e, one)));
        return _mm512_mul_ps(_mm512_mul_ps(_mm512_set1_ps(0.5f), v), tanh1);
    }
    case MMS_ACTIVATION_QUICK_GELU: {
        const __m512 e = mms_exp512(_mm512_mul_ps(v, _mm512_set1_ps(-1.702f)));
        return _mm512_div_ps(v, _mm512_add_ps(one, e));
    }
    default:
        return v;
    }
}
#define MMS_MATH256 __attribute__((target("avx2,fma"), always_inline))

/// e^x for eight lanes: the same reduction and polynomial as `mms_exp512`.
MMS_MATH256 static inline __m256 mms_exp256(__m256 x) {
    x = _mm256_min_ps(_mm256_max_ps(x, _mm256_set1_ps(MMS_EXP_LOW)), _mm256_set1_ps(MMS_EXP_HIGH));
    const __m256 shifter = _mm256_set1_ps(MMS_ROUNDING_SHIFTER);
    const __m256 k = _mm256_fmadd_ps(x, _mm256_set1_ps(MMS_LOG2E), shifter);
    const __m256 n = _mm256_sub_ps(k, shifter);
    __m256 r = _mm256_fnmadd_ps(n, _mm256_set1_ps(MMS_LN2_HIGH), x);
    r = _mm256_fnmadd_ps(n, _mm256_set1_ps(MMS_LN2_LOW), r);
    __m256 p = _mm256_set1_ps(1.98756915e-4f);
    p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(1.39819995e-3f));
    p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(8.3334519e-3f));
    p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(4.1665796e-2f));
    p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(1.66666655e-1f));
    p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(5.0000001e-1f));
    p = _mm256_fmadd_ps(p, _mm256_mul_ps(r, r), _mm256_add_ps(r, _mm256_set1_ps(1.0f)));
    const __m256i bits = _mm256_slli_epi32(
        _mm256_add_epi32(_mm256_sub_epi32(_mm256_castps_si256(k), _mm256_castps_si256(shifter)), _mm256_set1_epi32(127)),
        23);
    return _mm256_mul_ps(p, _mm256_castsi256_ps(bits));
}

MMS_MATH256 static inline __m256 mms_erf256(__m256 x) {
    const __m256 sign = _mm256_and_ps(x, _mm256_castsi256_ps(_mm256_set1_epi32((int)0x80000000u)));
    const __m256 a = _mm256_andnot_ps(sign, x);
    const __m256 one = _mm256_set1_ps(1.0f);
    const __m256 t = _mm256_div_ps(one, _mm256_fmadd_ps(_mm256_set1_ps(0.3275911f), a, one));
    __m256 y = _mm256_set1_ps(1.061405429f);
    y = _mm256_fmadd_ps(y, t, _mm256_set1_ps(-1.453152027f));
    y = _mm256_fmadd_ps(y, t, _mm256_set1_ps(1.421413741f));
    y = _mm256_fmadd_ps(y, t, _mm256_set1_ps(-0.284496736f));
    y = _mm256_fmadd_ps(y, t, _mm256_set1_ps(0.254829592f));
    const __m256 e = mms_exp256(_mm256_mul_ps(_mm256_sub_ps(_mm256_setzero_ps(), a), a));
    y = _mm256_fnmadd_ps(_mm256_mul_ps(y, t), e, one);
    return _mm256_or_ps(y, sign);
}

/// Eight values through `activation` (an `mms_activation`).
MMS_MATH256 static inline __m256 mms_activate256(__m256 v, int activation) {
    const __m256 one = _mm256_set1_ps(1.0f);
    switch (activation) {
    case MMS_ACTIVATION_GELU: {
        const __m256 e = mms_erf256(_mm256_mul_ps(v, _mm256_set1_ps(0.70710678118654752f)));
        return _mm256_mul_ps(_mm256_mul_ps(_mm256_set1_ps(0.5f), v), _mm256_add_ps(one, e));
    }
    case MMS_ACTIVATION_GELU_TANH: {
        const __m256 cube = _mm256_mul_ps(_mm256_mul_ps(v, v), v);
        const __m256 u = _mm256_mul_ps(_mm256_set1_ps(0.7978845608028654f), _mm256_fmadd_ps(_mm256_set1_ps(0.044715f), cube, v));
        const __m256 e = mms_exp256(_mm256_add_ps(u, u));
        const __m256 two = _mm256_set1_ps(2.0f);
        const __m256 tanh1 = _mm256_sub_ps(two, _mm256_div_ps(two, _mm256_add_ps(e, one)));
        return _mm256_mul_ps(_mm256_mul_ps(_mm256_set1_ps(0.5f), v), tanh1);
    }
    case MMS_ACTIVATION_QUICK_GELU: {
        const __m256 e = mms_exp256(_mm256_mul_ps(v, _mm256_set1_ps(-1.702f)));
        return _mm256_div_ps(v, _mm256_add_ps(one, e));
    }
    default:
        return v;
    }
}

#endif


#if defined(__aarch64__)
#include <arm_neon.h>

// NEON is part of the arm64 baseline: these need no target attribute.
#define MMS_MATH_NEON __attribute__((always_inline))

MMS_MATH_NEON static inline float32x4_t mms_exp_neon(float32x4_t x) {
    x = vminq_f32(vmaxq_f32(x, vdupq_n_f32(MMS_EXP_LOW)), vdupq_n_f32(MMS_EXP_HIGH));
    const float32x4_t shifter = vdupq_n_f32(MMS_ROUNDING_SHIFTER);
    const float32x4_t k = vfmaq_f32(shifter, x, vdupq_n_f32(MMS_LOG2E));
    const float32x4_t n = vsubq_f32(k, shifter);
    float32x4_t r = vfmsq_f32(x, n, vdupq_n_f32(MMS_LN2_HIGH));
    r = vfmsq_f32(r, n, vdupq_n_f32(MMS_LN2_LOW));
    float32x4_t p = vdupq_n_f32(1.98756915e-4f);
    p = vfmaq_f32(vdupq_n_f32(1.39819995e-3f), p, r);
    p = vfmaq_f32(vdupq_n_f32(8.3334519e-3f), p, r);
    p = vfmaq_f32(vdupq_n_f32(4.1665796e-2f), p, r);
    p = vfmaq_f32(vdupq_n_f32(1.66666655e-1f), p, r);
    p = vfmaq_f32(vdupq_n_f32(5.0000001e-1f), p, r);
    p = vfmaq_f32(vaddq_f32(r, vdupq_n_f32(1.0f)), p, vmulq_f32(r, r));
    const int32_t bias = 127;
    const int32x4_t exponent = vaddq_s32(
        vsubq_s32(vreinterpretq_s32_f32(k), vreinterpretq_s32_f32(shifter)), vdupq_n_s32(bias));
    return vmulq_f32(p, vreinterpretq_f32_s32(vshlq_n_s32(exponent, 23)));
}

MMS_MATH_NEON static inline float32x4_t mms_erf_neon(float32x4_t x) {
    const uint32x4_t sign = vandq_u32(vreinterpretq_u32_f32(x), vdupq_n_u32(0x80000000u));
    const float32x4_t a = vabsq_f32(x);
    const float32x4_t one = vdupq_n_f32(1.0f);
    const float32x4_t t = vdivq_f32(one, vfmaq_f32(one, vdupq_n_f32(0.3275911f), a));
    float32x4_t y = vdupq_n_f32(1.061405429f);
    y = vfmaq_f32(vdupq_n_f32(-1.453152027f), y, t);
    y = vfmaq_f32(vdupq_n_f32(1.421413741f), y, t);
    y = vfmaq_f32(vdupq_n_f32(-0.284496736f), y, t);
    y = vfmaq_f32(vdupq_n_f32(0.254829592f), y, t);
    const float32x4_t e = mms_exp_neon(vnegq_f32(vmulq_f32(a, a)));
    y = vfmsq_f32(one, vmulq_f32(y, t), e);
    return vreinterpretq_f32_u32(vorrq_u32(vreinterpretq_u32_f32(y), sign));
}

/// Four values through `activation` (an `mms_activation`).
MMS_MATH_NEON static inline float32x4_t mms_activate_neon(float32x4_t v, int activation) {
    const float32x4_t one = vdupq_n_f32(1.0f);
    switch (activation) {
    case MMS_ACTIVATION_GELU: {
        const float32x4_t e = mms_erf_neon(vmulq_f32(v, vdupq_n_f32(0.70710678118654752f)));
        return vmulq_f32(vmulq_f32(vdupq_n_f32(0.5f), v), vaddq_f32(one, e));
    }
    case MMS_ACTIVATION_GELU_TANH: {
        const float32x4_t cube = vmulq_f32(vmulq_f32(v, v), v);
        const float32x4_t u = vmulq_f32(vdupq_n_f32(0.7978845608028654f), vfmaq_f32(v, vdupq_n_f32(0.044715f), cube));
        const float32x4_t e = mms_exp_neon(vaddq_f32(u, u));
        const float32x4_t two = vdupq_n_f32(2.0f);
        const float32x4_t tanh1 = vsubq_f32(two, vdivq_f32(two, vaddq_f32(e, one)));
        return vmulq_f32(vmulq_f32(vdupq_n_f32(0.5f), v), tanh1);
    }
    case MMS_ACTIVATION_QUICK_GELU: {
        const float32x4_t e = mms_exp_neon(vmulq_f32(v, vdupq_n_f32(-1.702f)));
        return vdivq_f32(v, vaddq_f32(one, e));
    }
    default:
        return v;
    }
}
#endif

#endif
