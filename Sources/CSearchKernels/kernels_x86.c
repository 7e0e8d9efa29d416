// x86-64 variants: AVX2 + FMA + F16C, and AVX-512 (F, BW, VL, DQ, VNNI).
// Each function carries its instruction set in a target attribute, so the
// file compiles with baseline flags and nothing runs unless the dispatcher
// found the CPU supports it.

#if defined(__x86_64__) || defined(_M_X64)

#include <immintrin.h>
#include <math.h>
#include "kernels_internal.h"

#define AVX2 __attribute__((target("avx2,fma,f16c")))
#define AVX512 __attribute__((target("avx512f,avx512bw,avx512vl,avx512dq,avx512vnni,avx2,fma,f16c")))

// MARK: - AVX2

AVX2 static inline float hsum256(__m256 v) {
    __m128 s = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
    s = _mm_add_ps(s, _mm_movehl_ps(s, s));
    s = _mm_add_ss(s, _mm_movehdup_ps(s));
    return _mm_cvtss_f32(s);
}

AVX2 static inline int32_t hsum256_epi32(__m256i v) {
    __m128i s = _mm_add_epi32(_mm256_castsi256_si128(v), _mm256_extracti128_si256(v, 1));
    s = _mm_add_epi32(s, _mm_shuffle_epi32(s, _MM_SHUFFLE(1, 0, 3, 2)));
    s = _mm_add_epi32(s, _mm_shuffle_epi32(s, _MM_SHUFFLE(2, 3, 0, 1)));
    return _mm_cvtsi128_si32(s);
}

AVX2 static float avx2_dot_f32(const float *a, const float *b, size_t n) {
    __m256 acc0 = _mm256_setzero_ps(), acc1 = _mm256_setzero_ps();
    __m256 acc2 = _mm256_setzero_ps(), acc3 = _mm256_setzero_ps();
    size_t i = 0;
    for (; i + 32 <= n; i += 32) {
        acc0 = _mm256_fmadd_ps(_mm256_loadu_ps(a + i), _mm256_loadu_ps(b + i), acc0);
        acc1 = _mm256_fmadd_ps(_mm256_loadu_ps(a + i + 8), _mm256_loadu_ps(b + i + 8), acc1);
        acc2 = _mm256_fmadd_ps(_mm256_loadu_ps(a + i + 16), _mm256_loadu_ps(b + i + 16), acc2);
        acc3 = _mm256_fmadd_ps(_mm256_loadu_ps(a + i + 24), _mm256_loadu_ps(b + i + 24), acc3);
    }
    for (; i + 8 <= n; i += 8) {
        acc0 = _mm256_fmadd_ps(_mm256_loadu_ps(a + i), _mm256_loadu_ps(b + i), acc0);
    }
    float total = hsum256(_mm256_add_ps(_mm256_add_ps(acc0, acc1), _mm256_add_ps(acc2, acc3)));
    for (; i < n; i++) total += a[i] * b[i];
    return total;
}

AVX2 static float avx2_l2sq_f32(const float *a, const float *b, size_t n) {
    __m256 acc0 = _mm256_setzero_ps(), acc1 = _mm256_setzero_ps();
    size_t i = 0;
    for (; i + 16 <= n; i += 16) {
        const __m256 d0 = _mm256_sub_ps(_mm256_loadu_ps(a + i), _mm256_loadu_ps(b + i));
        const __m256 d1 = _mm256_sub_ps(_mm256_loadu_ps(a + i + 8), _mm256_loadu_ps(b + i + 8));
        acc0 = _mm256_fmadd_ps(d0, d0, acc0);
        acc1 = _mm256_fmadd_ps(d1, d1, acc1);
    }
    for (; i + 8 <= n; i += 8) {
        const __m256 d = _mm256_sub_ps(_mm256_loadu_ps(a + i), _mm256_loadu_ps(b + i));
        acc0 = _mm256_fmadd_ps(d, d, acc0);
    }
    float total = hsum256(_mm256_add_ps(acc0, acc1));
    for (; i < n; i++) {
        const float d = a[i] - b[i];
        total += d * d;
    }
    return total;
}

AVX2 static float avx2_sumsq_f32(const float *x, size_t n) { return avx2_dot_f32(x, x, n); }

AVX2 static float avx2_cosine_f32(const float *a, const float *b, size_t n) {
    __m256 ab = _mm256_setzero_ps(), aa = _mm256_setzero_ps(), bb = _mm256_setzero_ps();
    size_t i = 0;
    for (; i + 8 <= n; i += 8) {
        const __m256 va = _mm256_loadu_ps(a + i), vb = _mm256_loadu_ps(b + i);
        ab = _mm256_fmadd_ps(va, vb, ab);
        aa = _mm256_fmadd_ps(va, va, aa);
        bb = _mm256_fmadd_ps(vb, vb, bb);
    }
    float dot = hsum256(ab), na = hsum256(aa), nb = hsum256(bb);
    for (; i < n; i++) {
        dot += a[i] * b[i];
        na += a[i] * a[i];
        nb += b[i] * b[i];
    }
    return mms_cosine_from_parts(dot, na, nb);
}

AVX2 static float avx2_sum_f32(const float *x, size_t n) {
    __m256 acc0 = _mm256_setzero_ps(), acc1 = _mm256_setzero_ps();
    __m256 acc2 = _mm256_setzero_ps(), acc3 = _mm256_setzero_ps();
    size_t i = 0;
    for (; i + 32 <= n; i += 32) {
        acc0 = _mm256_add_ps(acc0, _mm256_loadu_ps(x + i));
        acc1 = _mm256_add_ps(acc1, _mm256_loadu_ps(x + i + 8));
        acc2 = _mm256_add_ps(acc2, _mm256_loadu_ps(x + i + 16));
        acc3 = _mm256_add_ps(acc3, _mm256_loadu_ps(x + i + 24));
    }
    for (; i + 8 <= n; i += 8) acc0 = _mm256_add_ps(acc0, _mm256_loadu_ps(x + i));
    float total = hsum256(_mm256_add_ps(_mm256_add_ps(acc0, acc1), _mm256_add_ps(acc2, acc3)));
    for (; i < n; i++) total += x[i];
    return total;
}

AVX2 static float avx2_maxabs_f32(const float *x, size_t n) {
    const __m256 abs_mask = _mm256_castsi256_ps(_mm256_set1_epi32(0x7fffffff));
    __m256 best = _mm256_setzero_ps();
    __m256 nan_seen = _mm256_setzero_ps();
    size_t i = 0;
    for (; i + 8 <= n; i += 8) {
        const __m256 v = _mm256_and_ps(_mm256_loadu_ps(x + i), abs_mask);
        nan_seen = _mm256_or_ps(nan_seen, _mm256_cmp_ps(v, v, _CMP_UNORD_Q));
        best = _mm256_max_ps(best, v);
    }
    if (_mm256_movemask_ps(nan_seen) != 0) return NAN;
    float lanes[8];
    _mm256_storeu_ps(lanes, best);
    float result = 0;
    for (int j = 0; j < 8; j++) result = lanes[j] > result ? lanes[j] : result;
    for (; i < n; i++) {
        const float v = fabsf(x[i]);
        if (v != v) return v;
        if (v > result) result = v;
    }
    return result;
}

AVX2 static void avx2_dot_f32_many(const float *q, const float *rows, size_t stride, size_t count, size_t n,
                                   float *out) {
    for (size_t r = 0; r < count; r++) {
        if (r + 1 < count) mms_prefetch(rows + (r + 1) * stride, n * sizeof(float) < 256 ? n * sizeof(float) : 256);
        out[r] = avx2_dot_f32(q, rows + r * stride, n);
    }
}

AVX2 static void avx2_l2sq_f32_many(const float *q, const float *rows, size_t stride, size_t count, size_t n,
                                    float *out) {
    for (size_t r = 0; r < count; r++) out[r] = avx2_l2sq_f32(q, rows + r * stride, n);
}

AVX2 static void avx2_cosine_f32_many(const float *q, const float *rows, size_t stride, size_t count, size_t n,
                                      float *out) {
    const float qq = avx2_dot_f32(q, q, n);
    for (size_t r = 0; r < count; r++) {
        const float *row = rows + r * stride;
        out[r] = mms_cosine_from_parts(avx2_dot_f32(q, row, n), qq, avx2_dot_f32(row, row, n));
    }
}

AVX2 static float avx2_dot_f32_f16(const float *a, const uint16_t *b, size_t n) {
    __m256 acc0 = _mm256_setzero_ps(), acc1 = _mm256_setzero_ps();
    size_t i = 0;
    for (; i + 16 <= n; i += 16) {
        const __m256 b0 = _mm256_cvtph_ps(_mm_loadu_si128((const __m128i *)(b + i)));
        const __m256 b1 = _mm256_cvtph_ps(_mm_loadu_si128((const __m128i *)(b + i + 8)));
        acc0 = _mm256_fmadd_ps(_mm256_loadu_ps(a + i), b0, acc0);
        acc1 = _mm256_fmadd_ps(_mm256_loadu_ps(a + i + 8), b1, acc1);
    }
    for (; i + 8 <= n; i += 8) {
        const __m256 b0 = _mm256_cvtph_ps(_mm_loadu_si128((const __m128i *)(b + i)));
        acc0 = _mm256_fmadd_ps(_mm256_loadu_ps(a + i), b0, acc0);
    }
    float total = hsum256(_mm256_add_ps(acc0, acc1));
    for (; i < n; i++) total += a[i] * mms_f16_to_f32_scalar(b[i]);
    return total;
}

AVX2 static float avx2_l2sq_f32_f16(const float *a, const uint16_t *b, size_t n) {
    __m256 acc = _mm256_setzero_ps();
    size_t i = 0;
    for (; i + 8 <= n; i += 8) {
        const __m256 d = _mm256_sub_ps(_mm256_loadu_ps(a + i), _mm256_cvtph_ps(_mm_loadu_si128((const __m128i *)(b + i))));
        acc = _mm256_fmadd_ps(d, d, acc);
    }
    float total = hsum256(acc);
    for (; i < n; i++) {
        const float d = a[i] - mms_f16_to_f32_scalar(b[i]);
        total += d * d;
    }
    return total;
}

AVX2 static void avx2_dot_f32_f16_many(const float *q, const uint16_t *rows, size_t stride, size_t count, size_t n,
                                       float *out) {
    for (size_t r = 0; r < count; r++) out[r] = avx2_dot_f32_f16(q, rows + r * stride, n);
}

AVX2 static int32_t avx2_dot_i8(const int8_t *a, const int8_t *b, size_t n) {
    __m256i acc = _mm256_setzero_si256();
    size_t i = 0;
    for (; i + 16 <= n; i += 16) {
        const __m256i va = _mm256_cvtepi8_epi16(_mm_loadu_si128((const __m128i *)(a + i)));
        const __m256i vb = _mm256_cvtepi8_epi16(_mm_loadu_si128((const __m128i *)(b + i)));
        acc = _mm256_add_epi32(acc, _mm256_madd_epi16(va, vb));
    }
    uint32_t total = (uint32_t)hsum256_epi32(acc);
    for (; i < n; i++) total += (uint32_t)((int32_t)a[i] * (int32_t)b[i]);
    return (int32_t)total;
}

AVX2 static void avx2_dot_i8_many(const int8_t *q, const int8_t *rows, size_t stride, size_t count, size_t n,
                                  int32_t *out) {
    for (size_t r = 0; r < count; r++) out[r] = avx2_dot_i8(q, rows + r * stride, n);
}

AVX2 static void avx2_f32_to_f16(const float *src, uint16_t *dst, size_t n) {
    size_t i = 0;
    for (; i + 8 <= n; i += 8) {
        const __m128i h = _mm256_cvtps_ph(_mm256_loadu_ps(src + i), _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
        _mm_storeu_si128((__m128i *)(dst + i), h);
    }
    for (; i < n; i++) dst[i] = mms_f32_to_f16_scalar(src[i]);
}

AVX2 static void avx2_f16_to_f32(const uint16_t *src, float *dst, size_t n) {
    size_t i = 0;
    for (; i + 8 <= n; i += 8) {
        _mm256_storeu_ps(dst + i, _mm256_cvtph_ps(_mm_loadu_si128((const __m128i *)(src + i))));
    }
    for (; i < n; i++) dst[i] = mms_f16_to_f32_scalar(src[i]);
}

AVX2 static void avx2_quantize_i8(const float *src, size_t n, float inverse_scale, int8_t *dst) {
    const __m256 scale = _mm256_set1_ps(inverse_scale);
    const __m256 hi = _mm256_set1_ps(127.0f), lo = _mm256_set1_ps(-127.0f);
    size_t i = 0;
    for (; i + 8 <= n; i += 8) {
        const __m256 v = _mm256_mul_ps(_mm256_loadu_ps(src + i), scale);
        const __m256 ordered = _mm256_cmp_ps(v, v, _CMP_ORD_Q);
        // min/max return their second operand when the first is NaN; the
        // ordered mask zeroes those lanes afterwards.
        const __m256 clamped = _mm256_and_ps(_mm256_min_ps(_mm256_max_ps(v, lo), hi), ordered);
        const __m256i q = _mm256_cvtps_epi32(clamped);
        const __m128i q16 = _mm_packs_epi32(_mm256_castsi256_si128(q), _mm256_extracti128_si256(q, 1));
        const __m128i q8 = _mm_packs_epi16(q16, q16);
        _mm_storel_epi64((__m128i *)(dst + i), q8);
    }
    for (; i < n; i++) {
        dst[i] = mms_quantize_one(src[i], inverse_scale);
    }
}

AVX2 static void avx2_dequantize_i8(const int8_t *src, size_t n, float scale, float *dst) {
    const __m256 s = _mm256_set1_ps(scale);
    size_t i = 0;
    for (; i + 8 <= n; i += 8) {
        const __m256i wide = _mm256_cvtepi8_epi32(_mm_loadl_epi64((const __m128i *)(src + i)));
        _mm256_storeu_ps(dst + i, _mm256_mul_ps(_mm256_cvtepi32_ps(wide), s));
    }
    for (; i < n; i++) dst[i] = (float)src[i] * scale;
}

const mms_kernel_table mms_avx2_table = {
    .level = MMS_KERNEL_AVX2,
    .name = "avx2",
    .dot_f32 = avx2_dot_f32,
    .l2sq_f32 = avx2_l2sq_f32,
    .cosine_f32 = avx2_cosine_f32,
    .sum_f32 = avx2_sum_f32,
    .sumsq_f32 = avx2_sumsq_f32,
    .maxabs_f32 = avx2_maxabs_f32,
    .dot_f32_many = avx2_dot_f32_many,
    .l2sq_f32_many = avx2_l2sq_f32_many,
    .cosine_f32_many = avx2_cosine_f32_many,
    .dot_f32_f16 = avx2_dot_f32_f16,
    .dot_f32_f16_many = avx2_dot_f32_f16_many,
    .l2sq_f32_f16 = avx2_l2sq_f32_f16,
    .dot_i8 = avx2_dot_i8,
    .dot_i8_many = avx2_dot_i8_many,
    .f32_to_f16 = avx2_f32_to_f16,
    .f16_to_f32 = avx2_f16_to_f32,
    .quantize_i8 = avx2_quantize_i8,
    .dequantize_i8 = avx2_dequantize_i8,
    .activation_f32 = mms_portable_activation_f32,
    .softmax_f32 = mms_portable_softmax_f32,
    .attention_f32 = mms_portable_attention_f32,
};

// MARK: - AVX-512

AVX512 static inline __mmask16 tail_mask16(size_t remaining) {
    return (__mmask16)((1u << remaining) - 1u);
}

AVX512 static float avx512_dot_f32(const float *a, const float *b, size_t n) {
    __m512 acc0 = _mm512_setzero_ps(), acc1 = _mm512_setzero_ps();
    __m512 acc2 = _mm512_setzero_ps(), acc3 = _mm512_setzero_ps();
    size_t i = 0;
    for (; i + 64 <= n; i += 64) {
        acc0 = _mm512_fmadd_ps(_mm512_loadu_ps(a + i), _mm512_loadu_ps(b + i), acc0);
        acc1 = _mm512_fmadd_ps(_mm512_loadu_ps(a + i + 16), _mm512_loadu_ps(b + i + 16), acc1);
        acc2 = _mm512_fmadd_ps(_mm512_loadu_ps(a + i + 32), _mm512_loadu_ps(b + i + 32), acc2);
        acc3 = _mm512_fmadd_ps(_mm512_loadu_ps(a + i + 48), _mm512_loadu_ps(b + i + 48), acc3);
    }
    for (; i + 16 <= n; i += 16) {
        acc0 = _mm512_fmadd_ps(_mm512_loadu_ps(a + i), _mm512_loadu_ps(b + i), acc0);
    }
    if (i < n) {
        const __mmask16 m = tail_mask16(n - i);
        acc1 = _mm512_fmadd_ps(_mm512_maskz_loadu_ps(m, a + i), _mm512_maskz_loadu_ps(m, b + i), acc1);
    }
    return _mm512_reduce_add_ps(_mm512_add_ps(_mm512_add_ps(acc0, acc1), _mm512_add_ps(acc2, acc3)));
}

AVX512 static float avx512_l2sq_f32(const float *a, const float *b, size_t n) {
    __m512 acc0 = _mm512_setzero_ps(), acc1 = _mm512_setzero_ps();
    __m512 acc2 = _mm512_setzero_ps(), acc3 = _mm512_setzero_ps();
    size_t i = 0;
    for (; i + 64 <= n; i += 64) {
        const __m512 d0 = _mm512_sub_ps(_mm512_loadu_ps(a + i), _mm512_loadu_ps(b + i));
        const __m512 d1 = _mm512_sub_ps(_mm512_loadu_ps(a + i + 16), _mm512_loadu_ps(b + i + 16));
        const __m512 d2 = _mm512_sub_ps(_mm512_loadu_ps(a + i + 32), _mm512_loadu_ps(b + i + 32));
        const __m512 d3 = _mm512_sub_ps(_mm512_loadu_ps(a + i + 48), _mm512_loadu_ps(b + i + 48));
        acc0 = _mm512_fmadd_ps(d0, d0, acc0);
        acc1 = _mm512_fmadd_ps(d1, d1, acc1);
        acc2 = _mm512_fmadd_ps(d2, d2, acc2);
        acc3 = _mm512_fmadd_ps(d3, d3, acc3);
    }
    for (; i + 16 <= n; i += 16) {
        const __m512 d = _mm512_sub_ps(_mm512_loadu_ps(a + i), _mm512_loadu_ps(b + i));
        acc0 = _mm512_fmadd_ps(d, d, acc0);
    }
    if (i < n) {
        const __mmask16 m = tail_mask16(n - i);
        const __m512 d = _mm512_sub_ps(_mm512_maskz_loadu_ps(m, a + i), _mm512_maskz_loadu_ps(m, b + i));
        acc1 = _mm512_fmadd_ps(d, d, acc1);
    }
    return _mm512_reduce_add_ps(_mm512_add_ps(_mm512_add_ps(acc0, acc1), _mm512_add_ps(acc2, acc3)));
}

AVX512 static float avx512_sumsq_f32(const float *x, size_t n) { return avx512_dot_f32(x, x, n); }

AVX512 static float avx512_cosine_f32(const float *a, const float *b, size_t n) {
    // Two sets of accumulators so each FMA chain waits on its own previous
    // result only every other iteration.
    __m512 ab0 = _mm512_setzero_ps(), aa0 = _mm512_setzero_ps(), bb0 = _mm512_setzero_ps();
    __m512 ab1 = _mm512_setzero_ps(), aa1 = _mm512_setzero_ps(), bb1 = _mm512_setzero_ps();
    size_t i = 0;
    for (; i + 32 <= n; i += 32) {
        const __m512 va0 = _mm512_loadu_ps(a + i), vb0 = _mm512_loadu_ps(b + i);
        const __m512 va1 = _mm512_loadu_ps(a + i + 16), vb1 = _mm512_loadu_ps(b + i + 16);
        ab0 = _mm512_fmadd_ps(va0, vb0, ab0);
        aa0 = _mm512_fmadd_ps(va0, va0, aa0);
        bb0 = _mm512_fmadd_ps(vb0, vb0, bb0);
        ab1 = _mm512_fmadd_ps(va1, vb1, ab1);
        aa1 = _mm512_fmadd_ps(va1, va1, aa1);
        bb1 = _mm512_fmadd_ps(vb1, vb1, bb1);
    }
    for (; i + 16 <= n; i += 16) {
        const __m512 va = _mm512_loadu_ps(a + i), vb = _mm512_loadu_ps(b + i);
        ab0 = _mm512_fmadd_ps(va, vb, ab0);
        aa0 = _mm512_fmadd_ps(va, va, aa0);
        bb0 = _mm512_fmadd_ps(vb, vb, bb0);
    }
    if (i < n) {
        const __mmask16 m = tail_mask16(n - i);
        const __m512 va = _mm512_maskz_loadu_ps(m, a + i), vb = _mm512_maskz_loadu_ps(m, b + i);
        ab1 = _mm512_fmadd_ps(va, vb, ab1);
        aa1 = _mm512_fmadd_ps(va, va, aa1);
        bb1 = _mm512_fmadd_ps(vb, vb, bb1);
    }
    return mms_cosine_from_parts(_mm512_reduce_add_ps(_mm512_add_ps(ab0, ab1)), _mm512_reduce_add_ps(_mm512_add_ps(aa0, aa1)),
                             _mm512_reduce_add_ps(_mm512_add_ps(bb0, bb1)));
}

AVX512 static float avx512_sum_f32(const float *x, size_t n) {
    __m512 acc0 = _mm512_setzero_ps(), acc1 = _mm512_setzero_ps();
    __m512 acc2 = _mm512_setzero_ps(), acc3 = _mm512_setzero_ps();
    size_t i = 0;
    for (; i + 64 <= n; i += 64) {
        acc0 = _mm512_add_ps(acc0, _mm512_loadu_ps(x + i));
        acc1 = _mm512_add_ps(acc1, _mm512_loadu_ps(x + i + 16));
        acc2 = _mm512_add_ps(acc2, _mm512_loadu_ps(x + i + 32));
        acc3 = _mm512_add_ps(acc3, _mm512_loadu_ps(x + i + 48));
    }
    for (; i + 16 <= n; i += 16) acc0 = _mm512_add_ps(acc0, _mm512_loadu_ps(x + i));
    if (i < n) acc1 = _mm512_add_ps(acc1, _mm512_maskz_loadu_ps(tail_mask16(n - i), x + i));
    return _mm512_reduce_add_ps(_mm512_add_ps(_mm512_add_ps(acc0, acc1), _mm512_add_ps(acc2, acc3)));
}

AVX512 static float avx512_maxabs_f32(const float *x, size_t n) {
    __m512 best = _mm512_setzero_ps();
    __mmask16 nan_seen = 0;
    size_t i = 0;
    for (; i + 16 <= n; i += 16) {
        const __m512 v = _mm512_abs_ps(_mm512_loadu_ps(x + i));
        nan_seen |= _mm512_cmp_ps_mask(v, v, _CMP_UNORD_Q);
        best = _mm512_max_ps(best, v);
    }
    if (i < n) {
        const __m512 v = _mm512_abs_ps(_mm512_maskz_loadu_ps(tail_mask16(n - i), x + i));
        nan_seen |= _mm512_cmp_ps_mask(v, v, _CMP_UNORD_Q);
        best = _mm512_max_ps(best, v);
    }
    if (nan_seen) return NAN;
    return _mm512_reduce_max_ps(best);
}

AVX512 static void avx512_dot_f32_many(const float *q, const float *rows, size_t stride, size_t count, size_t n,
                                       float *out) {
    for (size_t r = 0; r < count; r++) out[r] = avx512_dot_f32(q, rows + r * stride, n);
}

AVX512 static void avx512_l2sq_f32_many(const float *q, const float *rows, size_t stride, size_t count, size_t n,
                                        float *out) {
    for (size_t r = 0; r < count; r++) out[r] = avx512_l2sq_f32(q, rows + r * stride, n);
}

AVX512 static void avx512_cosine_f32_many(const float *q, const float *rows, size_t stride, size_t count, size_t n,
                                          float *out) {
    const float qq = avx512_dot_f32(q, q, n);
    for (size_t r = 0; r < count; r++) {
        const float *row = rows + r * stride;
        __m512 ab = _mm512_setzero_ps(), bb = _mm512_setzero_ps();
        size_t i = 0;
        for (; i + 16 <= n; i += 16) {
            const __m512 va = _mm512_loadu_ps(q + i), vb = _mm512_loadu_ps(row + i);
            ab = _mm512_fmadd_ps(va, vb, ab);
            bb = _mm512_fmadd_ps(vb, vb, bb);
        }
        if (i < n) {
            const __mmask16 m = tail_mask16(n - i);
            const __m512 va = _mm512_maskz_loadu_ps(m, q + i), vb = _mm512_maskz_loadu_ps(m, row + i);
            ab = _mm512_fmadd_ps(va, vb, ab);
            bb = _mm512_fmadd_ps(vb, vb, bb);
        }
        out[r] = mms_cosine_from_parts(_mm512_reduce_add_ps(ab), qq, _mm512_reduce_add_ps(bb));
    }
}

AVX512 static inline __m512 load_half16(const uint16_t *p) {
    return _mm512_cvtph_ps(_mm256_loadu_si256((const __m256i *)p));
}

AVX512 static inline __m512 maskz_load_half16(__mmask16 m, const uint16_t *p) {
    return _mm512_cvtph_ps(_mm256_maskz_loadu_epi16(m, p));
}

AVX512 static float avx512_dot_f32_f16(const float *a, const uint16_t *b, size_t n) {
    __m512 acc0 = _mm512_setzero_ps(), acc1 = _mm512_setzero_ps();
    __m512 acc2 = _mm512_setzero_ps(), acc3 = _mm512_setzero_ps();
    size_t i = 0;
    for (; i + 64 <= n; i += 64) {
        acc0 = _mm512_fmadd_ps(_mm512_loadu_ps(a + i), load_half16(b + i), acc0);
        acc1 = _mm512_fmadd_ps(_mm512_loadu_ps(a + i + 16), load_half16(b + i + 16), acc1);
        acc2 = _mm512_fmadd_ps(_mm512_loadu_ps(a + i + 32), load_half16(b + i + 32), acc2);
        acc3 = _mm512_fmadd_ps(_mm512_loadu_ps(a + i + 48), load_half16(b + i + 48), acc3);
    }
    for (; i + 16 <= n; i += 16) acc0 = _mm512_fmadd_ps(_mm512_loadu_ps(a + i), load_half16(b + i), acc0);
    if (i < n) {
        const __mmask16 m = tail_mask16(n - i);
        acc1 = _mm512_fmadd_ps(_mm512_maskz_loadu_ps(m, a + i), maskz_load_half16(m, b + i), acc1);
    }
    return _mm512_reduce_add_ps(_mm512_add_ps(_mm512_add_ps(acc0, acc1), _mm512_add_ps(acc2, acc3)));
}

AVX512 static float avx512_l2sq_f32_f16(const float *a, const uint16_t *b, size_t n) {
    __m512 acc0 = _mm512_setzero_ps(), acc1 = _mm512_setzero_ps();
    size_t i = 0;
    for (; i + 32 <= n; i += 32) {
        const __m512 d0 = _mm512_sub_ps(_mm512_loadu_ps(a + i), load_half16(b + i));
        const __m512 d1 = _mm512_sub_ps(_mm512_loadu_ps(a + i + 16), load_half16(b + i + 16));
        acc0 = _mm512_fmadd_ps(d0, d0, acc0);
        acc1 = _mm512_fmadd_ps(d1, d1, acc1);
    }
    for (; i + 16 <= n; i += 16) {
        const __m512 d = _mm512_sub_ps(_mm512_loadu_ps(a + i), load_half16(b + i));
        acc0 = _mm512_fmadd_ps(d, d, acc0);
    }
    if (i < n) {
        const __mmask16 m = tail_mask16(n - i);
        const __m512 d = _mm512_sub_ps(_mm512_maskz_loadu_ps(m, a + i), maskz_load_half16(m, b + i));
        acc1 = _mm512_fmadd_ps(d, d, acc1);
    }
    return _mm512_reduce_add_ps(_mm512_add_ps(acc0, acc1));
}

AVX512 static void avx512_dot_f32_f16_many(const float *q, const uint16_t *rows, size_t stride, size_t count,
                                           size_t n, float *out) {
    for (size_t r = 0; r < count; r++) out[r] = avx512_dot_f32_f16(q, rows + r * stride, n);
}

// int8 × int8 with VNNI: vpdpbusd multiplies unsigned by signed bytes, so the
// first operand is shifted to unsigned (a + 128, by flipping its top bit) and
// 128·Σb is subtracted at the end; Σb comes from a second vpdpbusd against
// ones. All sums wrap modulo 2^32 and the true result fits in int32, so the
// answer is exact over the full int8 range, −128 included.
AVX512 static int32_t avx512_dot_i8(const int8_t *a, const int8_t *b, size_t n) {
    const __m512i flip = _mm512_set1_epi8((char)0x80);
    const __m512i ones = _mm512_set1_epi8(1);
    __m512i acc0 = _mm512_setzero_si512(), acc1 = _mm512_setzero_si512();
    __m512i bsum0 = _mm512_setzero_si512(), bsum1 = _mm512_setzero_si512();
    size_t i = 0;
    for (; i + 128 <= n; i += 128) {
        const __m512i a0 = _mm512_xor_si512(_mm512_loadu_si512(a + i), flip);
        const __m512i b0 = _mm512_loadu_si512(b + i);
        const __m512i a1 = _mm512_xor_si512(_mm512_loadu_si512(a + i + 64), flip);
        const __m512i b1 = _mm512_loadu_si512(b + i + 64);
        acc0 = _mm512_dpbusd_epi32(acc0, a0, b0);
        bsum0 = _mm512_dpbusd_epi32(bsum0, ones, b0);
        acc1 = _mm512_dpbusd_epi32(acc1, a1, b1);
        bsum1 = _mm512_dpbusd_epi32(bsum1, ones, b1);
    }
    for (; i + 64 <= n; i += 64) {
        const __m512i a0 = _mm512_xor_si512(_mm512_loadu_si512(a + i), flip);
        const __m512i b0 = _mm512_loadu_si512(b + i);
        acc0 = _mm512_dpbusd_epi32(acc0, a0, b0);
        bsum0 = _mm512_dpbusd_epi32(bsum0, ones, b0);
    }
    if (i < n) {
        const size_t remaining = n - i;
        const __mmask64 m = remaining >= 64 ? ~(__mmask64)0 : (((__mmask64)1 << remaining) - 1);
        // Masked-off lanes load b = 0, so their (a + 128)·b terms vanish.
        const __m512i a0 = _mm512_xor_si512(_mm512_maskz_loadu_epi8(m, a + i), flip);
        const __m512i b0 = _mm512_maskz_loadu_epi8(m, b + i);
        acc1 = _mm512_dpbusd_epi32(acc1, a0, b0);
        bsum1 = _mm512_dpbusd_epi32(bsum1, ones, b0);
    }
    const uint32_t shifted = (uint32_t)_mm512_reduce_add_epi32(_mm512_add_epi32(acc0, acc1));
    const uint32_t bsum = (uint32_t)_mm512_reduce_add_epi32(_mm512_add_epi32(bsum0, bsum1));
    return (int32_t)(shifted - 128u * bsum);
}

AVX512 static void avx512_dot_i8_many(const int8_t *q, const int8_t *rows, size_t stride, size_t count, size_t n,
                                      int32_t *out) {
    for (size_t r = 0; r < count; r++) out[r] = avx512_dot_i8(q, rows + r * stride, n);
}

AVX512 static void avx512_f32_to_f16(const float *src, uint16_t *dst, size_t n) {
    size_t i = 0;
    for (; i + 16 <= n; i += 16) {
        const __m256i h = _mm512_cvtps_ph(_mm512_loadu_ps(src + i), _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
        _mm256_storeu_si256((__m256i *)(dst + i), h);
    }
    if (i < n) {
        const __mmask16 m = tail_mask16(n - i);
        const __m256i h =
            _mm512_cvtps_ph(_mm512_maskz_loadu_ps(m, src + i), _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
        _mm256_mask_storeu_epi16(dst + i, m, h);
    }
}

AVX512 static void avx512_f16_to_f32(const uint16_t *src, float *dst, size_t n) {
    size_t i = 0;
    for (; i + 16 <= n; i += 16) _mm512_storeu_ps(dst + i, load_half16(src + i));
    if (i < n) {
        const __mmask16 m = tail_mask16(n - i);
        _mm512_mask_storeu_ps(dst + i, m, maskz_load_half16(m, src + i));
    }
}

AVX512 static inline __m128i quantize16(__m512 x, __m512 scale) {
    const __m512 v = _mm512_mul_ps(x, scale);
    const __mmask16 ordered = _mm512_cmp_ps_mask(v, v, _CMP_ORD_Q);
    const __m512 clamped = _mm512_min_ps(_mm512_max_ps(v, _mm512_set1_ps(-127.0f)), _mm512_set1_ps(127.0f));
    const __m512i q = _mm512_maskz_cvtps_epi32(ordered, clamped);
    return _mm512_cvtsepi32_epi8(q);
}

AVX512 static void avx512_quantize_i8(const float *src, size_t n, float inverse_scale, int8_t *dst) {
    const __m512 scale = _mm512_set1_ps(inverse_scale);
    size_t i = 0;
    for (; i + 16 <= n; i += 16) {
        _mm_storeu_si128((__m128i *)(dst + i), quantize16(_mm512_loadu_ps(src + i), scale));
    }
    if (i < n) {
        const __mmask16 m = tail_mask16(n - i);
        _mm_mask_storeu_epi8(dst + i, m, quantize16(_mm512_maskz_loadu_ps(m, src + i), scale));
    }
}

AVX512 static void avx512_dequantize_i8(const int8_t *src, size_t n, float scale, float *dst) {
    const __m512 s = _mm512_set1_ps(scale);
    size_t i = 0;
    for (; i + 16 <= n; i += 16) {
        const __m512i wide = _mm512_cvtepi8_epi32(_mm_loadu_si128((const __m128i *)(src + i)));
        _mm512_storeu_ps(dst + i, _mm512_mul_ps(_mm512_cvtepi32_ps(wide), s));
    }
    if (i < n) {
        const __mmask16 m = tail_mask16(n - i);
        const __m512i wide = _mm512_cvtepi8_epi32(_mm_maskz_loadu_epi8(m, src + i));
        _mm512_mask_storeu_ps(dst + i, m, _mm512_mul_ps(_mm512_cvtepi32_ps(wide), s));
    }
}

const mms_kernel_table mms_avx512_table = {
    .level = MMS_KERNEL_AVX512,
    .name = "avx512",
    .dot_f32 = avx512_dot_f32,
    .l2sq_f32 = avx512_l2sq_f32,
    .cosine_f32 = avx512_cosine_f32,
    .sum_f32 = avx512_sum_f32,
    .sumsq_f32 = avx512_sumsq_f32,
    .maxabs_f32 = avx512_maxabs_f32,
    .dot_f32_many = avx512_dot_f32_many,
    .l2sq_f32_many = avx512_l2sq_f32_many,
    .cosine_f32_many = avx512_cosine_f32_many,
    .dot_f32_f16 = avx512_dot_f32_f16,
    .dot_f32_f16_many = avx512_dot_f32_f16_many,
    .l2sq_f32_f16 = avx512_l2sq_f32_f16,
    .dot_i8 = avx512_dot_i8,
    .dot_i8_many = avx512_dot_i8_many,
    .f32_to_f16 = avx512_f32_to_f16,
    .f16_to_f32 = avx512_f16_to_f32,
    .quantize_i8 = avx512_quantize_i8,
    .dequantize_i8 = avx512_dequantize_i8,
    .activation_f32 = mms_avx512_activation_f32,
    .softmax_f32 = mms_avx512_softmax_f32,
    .attention_f32 = mms_avx512_attention_f32,
};

#endif // x86-64
