// x86-64 variants: AVX2 + FMA + F16C, and AVX-512 (F, BW, VL, DQ, VNNI).
// Each function carries its instruction set in a target attribute, so the
// file compiles with baseline flags and nothing runs unless the dispatcher
// found the CPU supports it.

#if defined(__x86_64__) || defined(_M_X64)

#include <immintrin.h>
#include <math.h>
#include <string.h>
#include "kernels_internal.h"

#define AVX2 __attribute__((target("avx2,fma,f16c")))
#define AVX512 __attribute__((target("avx512f,avx512bw,avx512vl,avx512dq,avx512vnni,avx2,fma,f16c")))

// MARK: - AVX2

// The AVX2 variants keep four (or more) independent accumulators so that the
// FMA latency (4 cycles) never limits them: on AVX2 cores a dot product is
// bound by two 256-bit loads a cycle, a one-pass cosine by two FMAs a cycle.
// Tails never read past the end: floats through vmaskmovps (masked-off lanes
// are neither read nor faulted), halves and bytes through a small zeroed copy.

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

/// Eight all-ones lanes then eight zero lanes: 8 − r lanes in, a mask of r lanes.
static const int32_t avx2_lane_masks[16] = {-1, -1, -1, -1, -1, -1, -1, -1, 0, 0, 0, 0, 0, 0, 0, 0};

/// The first `remaining` (0…8) lanes set.
AVX2 static inline __m256i avx2_tail_mask(size_t remaining) {
    return _mm256_loadu_si256((const __m256i *)(avx2_lane_masks + 8 - remaining));
}

/// Up to eight halves, the lanes past `remaining` zero, without reading past
/// the end. Out of line: the copy needs a stack frame the hot loops do not.
AVX2 __attribute__((noinline, cold)) static __m256 avx2_load_half_tail(const uint16_t *p, size_t remaining) {
    uint16_t copy[8] = {0};
    memcpy(copy, p, remaining * sizeof(uint16_t));
    return _mm256_cvtph_ps(_mm_loadu_si128((const __m128i *)copy));
}

#define AVX2_HALF8(p) _mm256_cvtph_ps(_mm_loadu_si128((const __m128i *)(p)))

/// a·b / (‖a‖‖b‖) from lanes 0, 1 and 2 of `sums` (a·b, ‖a‖², ‖b‖²); 0 when
/// either norm is 0. Both square roots in one instruction: after the loop
/// this tail is latency the next call cannot hide, so it is kept short.
AVX2 static inline float avx2_cosine_from_sums(__m128 sums) {
    const float norm_a_sq = _mm_cvtss_f32(_mm_shuffle_ps(sums, sums, _MM_SHUFFLE(1, 1, 1, 1)));
    const float norm_b_sq = _mm_cvtss_f32(_mm_shuffle_ps(sums, sums, _MM_SHUFFLE(2, 2, 2, 2)));
    if (norm_a_sq <= 0 || norm_b_sq <= 0) return 0;
    const __m128 roots = _mm_sqrt_ps(sums);
    const __m128 denominator = _mm_mul_ss(_mm_shuffle_ps(roots, roots, _MM_SHUFFLE(1, 1, 1, 1)),
                                          _mm_shuffle_ps(roots, roots, _MM_SHUFFLE(2, 2, 2, 2)));
    return _mm_cvtss_f32(_mm_div_ss(sums, denominator));
}

/// The lane sums of x, y and z as lanes 0, 1 and 2 (lane 3 repeats z).
AVX2 static inline __m128 avx2_hsum3(__m256 x, __m256 y, __m256 z) {
    const __m256 xy = _mm256_hadd_ps(x, y);
    const __m256 zz = _mm256_hadd_ps(z, z);
    const __m256 s = _mm256_hadd_ps(xy, zz);
    return _mm_add_ps(_mm256_castps256_ps128(s), _mm256_extractf128_ps(s, 1));
}

AVX2 __attribute__((always_inline)) static inline float avx2_dot_inline(const float *a, const float *b, size_t n) {
    __m256 acc0 = _mm256_setzero_ps(), acc1 = _mm256_setzero_ps();
    __m256 acc2 = _mm256_setzero_ps(), acc3 = _mm256_setzero_ps();
    size_t i = 0;
    for (; i + 32 <= n; i += 32) {
        acc0 = _mm256_fmadd_ps(_mm256_loadu_ps(a + i), _mm256_loadu_ps(b + i), acc0);
        acc1 = _mm256_fmadd_ps(_mm256_loadu_ps(a + i + 8), _mm256_loadu_ps(b + i + 8), acc1);
        acc2 = _mm256_fmadd_ps(_mm256_loadu_ps(a + i + 16), _mm256_loadu_ps(b + i + 16), acc2);
        acc3 = _mm256_fmadd_ps(_mm256_loadu_ps(a + i + 24), _mm256_loadu_ps(b + i + 24), acc3);
    }
    for (; i + 8 <= n; i += 8) acc0 = _mm256_fmadd_ps(_mm256_loadu_ps(a + i), _mm256_loadu_ps(b + i), acc0);
    if (i < n) {
        const __m256i m = avx2_tail_mask(n - i);
        acc1 = _mm256_fmadd_ps(_mm256_maskload_ps(a + i, m), _mm256_maskload_ps(b + i, m), acc1);
    }
    return hsum256(_mm256_add_ps(_mm256_add_ps(acc0, acc1), _mm256_add_ps(acc2, acc3)));
}

AVX2 static float avx2_dot_f32(const float *a, const float *b, size_t n) { return avx2_dot_inline(a, b, n); }

AVX2 __attribute__((always_inline)) static inline float avx2_l2sq_inline(const float *a, const float *b, size_t n) {
    __m256 acc0 = _mm256_setzero_ps(), acc1 = _mm256_setzero_ps();
    __m256 acc2 = _mm256_setzero_ps(), acc3 = _mm256_setzero_ps();
    size_t i = 0;
    for (; i + 32 <= n; i += 32) {
        const __m256 d0 = _mm256_sub_ps(_mm256_loadu_ps(a + i), _mm256_loadu_ps(b + i));
        const __m256 d1 = _mm256_sub_ps(_mm256_loadu_ps(a + i + 8), _mm256_loadu_ps(b + i + 8));
        const __m256 d2 = _mm256_sub_ps(_mm256_loadu_ps(a + i + 16), _mm256_loadu_ps(b + i + 16));
        const __m256 d3 = _mm256_sub_ps(_mm256_loadu_ps(a + i + 24), _mm256_loadu_ps(b + i + 24));
        acc0 = _mm256_fmadd_ps(d0, d0, acc0);
        acc1 = _mm256_fmadd_ps(d1, d1, acc1);
        acc2 = _mm256_fmadd_ps(d2, d2, acc2);
        acc3 = _mm256_fmadd_ps(d3, d3, acc3);
    }
    for (; i + 8 <= n; i += 8) {
        const __m256 d = _mm256_sub_ps(_mm256_loadu_ps(a + i), _mm256_loadu_ps(b + i));
        acc0 = _mm256_fmadd_ps(d, d, acc0);
    }
    if (i < n) {
        const __m256i m = avx2_tail_mask(n - i);
        const __m256 d = _mm256_sub_ps(_mm256_maskload_ps(a + i, m), _mm256_maskload_ps(b + i, m));
        acc1 = _mm256_fmadd_ps(d, d, acc1);
    }
    return hsum256(_mm256_add_ps(_mm256_add_ps(acc0, acc1), _mm256_add_ps(acc2, acc3)));
}

AVX2 static float avx2_l2sq_f32(const float *a, const float *b, size_t n) { return avx2_l2sq_inline(a, b, n); }

AVX2 static float avx2_sumsq_f32(const float *x, size_t n) {
    // One load per FMA (a dot of x with itself would load x twice).
    __m256 acc0 = _mm256_setzero_ps(), acc1 = _mm256_setzero_ps();
    __m256 acc2 = _mm256_setzero_ps(), acc3 = _mm256_setzero_ps();
    size_t i = 0;
    for (; i + 32 <= n; i += 32) {
        const __m256 v0 = _mm256_loadu_ps(x + i), v1 = _mm256_loadu_ps(x + i + 8);
        const __m256 v2 = _mm256_loadu_ps(x + i + 16), v3 = _mm256_loadu_ps(x + i + 24);
        acc0 = _mm256_fmadd_ps(v0, v0, acc0);
        acc1 = _mm256_fmadd_ps(v1, v1, acc1);
        acc2 = _mm256_fmadd_ps(v2, v2, acc2);
        acc3 = _mm256_fmadd_ps(v3, v3, acc3);
    }
    for (; i + 8 <= n; i += 8) {
        const __m256 v = _mm256_loadu_ps(x + i);
        acc0 = _mm256_fmadd_ps(v, v, acc0);
    }
    if (i < n) {
        const __m256 v = _mm256_maskload_ps(x + i, avx2_tail_mask(n - i));
        acc1 = _mm256_fmadd_ps(v, v, acc1);
    }
    return hsum256(_mm256_add_ps(_mm256_add_ps(acc0, acc1), _mm256_add_ps(acc2, acc3)));
}

/// One 8-lane step of the one-pass cosine: a·b, a·a and b·b.
#define AVX2_COSINE_STEP(va, vb, ab, aa, bb) \
    do { \
        ab = _mm256_fmadd_ps(va, vb, ab); \
        aa = _mm256_fmadd_ps(va, va, aa); \
        bb = _mm256_fmadd_ps(vb, vb, bb); \
    } while (0)

AVX2 static float avx2_cosine_f32(const float *a, const float *b, size_t n) {
    // Dot product and both norms in one pass: three FMAs per 8 lanes, in
    // four groups of three accumulators (12 independent chains keep both FMA
    // ports busy; the loads are then no longer the limit).
    __m256 ab0 = _mm256_setzero_ps(), aa0 = _mm256_setzero_ps(), bb0 = _mm256_setzero_ps();
    __m256 ab1 = _mm256_setzero_ps(), aa1 = _mm256_setzero_ps(), bb1 = _mm256_setzero_ps();
    __m256 ab2 = _mm256_setzero_ps(), aa2 = _mm256_setzero_ps(), bb2 = _mm256_setzero_ps();
    __m256 ab3 = _mm256_setzero_ps(), aa3 = _mm256_setzero_ps(), bb3 = _mm256_setzero_ps();
    size_t i = 0;
    for (; i + 32 <= n; i += 32) {
        __m256 va = _mm256_loadu_ps(a + i), vb = _mm256_loadu_ps(b + i);
        AVX2_COSINE_STEP(va, vb, ab0, aa0, bb0);
        va = _mm256_loadu_ps(a + i + 8);
        vb = _mm256_loadu_ps(b + i + 8);
        AVX2_COSINE_STEP(va, vb, ab1, aa1, bb1);
        va = _mm256_loadu_ps(a + i + 16);
        vb = _mm256_loadu_ps(b + i + 16);
        AVX2_COSINE_STEP(va, vb, ab2, aa2, bb2);
        va = _mm256_loadu_ps(a + i + 24);
        vb = _mm256_loadu_ps(b + i + 24);
        AVX2_COSINE_STEP(va, vb, ab3, aa3, bb3);
    }
    for (; i + 8 <= n; i += 8) {
        const __m256 va = _mm256_loadu_ps(a + i), vb = _mm256_loadu_ps(b + i);
        AVX2_COSINE_STEP(va, vb, ab0, aa0, bb0);
    }
    if (i < n) {
        const __m256i m = avx2_tail_mask(n - i);
        const __m256 va = _mm256_maskload_ps(a + i, m), vb = _mm256_maskload_ps(b + i, m);
        AVX2_COSINE_STEP(va, vb, ab1, aa1, bb1);
    }
    const __m256 ab = _mm256_add_ps(_mm256_add_ps(ab0, ab1), _mm256_add_ps(ab2, ab3));
    const __m256 aa = _mm256_add_ps(_mm256_add_ps(aa0, aa1), _mm256_add_ps(aa2, aa3));
    const __m256 bb = _mm256_add_ps(_mm256_add_ps(bb0, bb1), _mm256_add_ps(bb2, bb3));
    return avx2_cosine_from_sums(avx2_hsum3(ab, aa, bb));
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
    if (i < n) acc1 = _mm256_add_ps(acc1, _mm256_maskload_ps(x + i, avx2_tail_mask(n - i)));
    return hsum256(_mm256_add_ps(_mm256_add_ps(acc0, acc1), _mm256_add_ps(acc2, acc3)));
}

AVX2 static float avx2_maxabs_f32(const float *x, size_t n) {
    // On the bit patterns with the sign cleared, integer order is magnitude
    // order and every NaN (above 0x7f800000) outranks +Inf, so one integer
    // max finds both the largest magnitude and any NaN.
    const __m256i abs_mask = _mm256_set1_epi32(0x7fffffff);
    __m256i best0 = _mm256_setzero_si256(), best1 = _mm256_setzero_si256();
    size_t i = 0;
    for (; i + 16 <= n; i += 16) {
        best0 = _mm256_max_epi32(best0, _mm256_and_si256(_mm256_loadu_si256((const __m256i *)(x + i)), abs_mask));
        best1 = _mm256_max_epi32(best1, _mm256_and_si256(_mm256_loadu_si256((const __m256i *)(x + i + 8)), abs_mask));
    }
    for (; i + 8 <= n; i += 8) {
        best0 = _mm256_max_epi32(best0, _mm256_and_si256(_mm256_loadu_si256((const __m256i *)(x + i)), abs_mask));
    }
    if (i < n) {
        const __m256i tail = _mm256_maskload_epi32((const int *)(x + i), avx2_tail_mask(n - i));
        best1 = _mm256_max_epi32(best1, _mm256_and_si256(tail, abs_mask));
    }
    __m256i best = _mm256_max_epi32(best0, best1);
    __m128i m = _mm_max_epi32(_mm256_castsi256_si128(best), _mm256_extracti128_si256(best, 1));
    m = _mm_max_epi32(m, _mm_shuffle_epi32(m, _MM_SHUFFLE(1, 0, 3, 2)));
    m = _mm_max_epi32(m, _mm_shuffle_epi32(m, _MM_SHUFFLE(2, 3, 0, 1)));
    const uint32_t bits = (uint32_t)_mm_cvtsi128_si32(m);
    if (bits > 0x7f800000u) return NAN;
    float result;
    memcpy(&result, &bits, sizeof result);
    return result;
}

AVX2 static void avx2_dot_f32_many(const float *q, const float *rows, size_t stride, size_t count, size_t n,
                                   float *out) {
    for (size_t r = 0; r < count; r++) {
        if (r + 1 < count) mms_prefetch(rows + (r + 1) * stride, n * sizeof(float) < 256 ? n * sizeof(float) : 256);
        out[r] = avx2_dot_inline(q, rows + r * stride, n);
    }
}

AVX2 static void avx2_l2sq_f32_many(const float *q, const float *rows, size_t stride, size_t count, size_t n,
                                    float *out) {
    for (size_t r = 0; r < count; r++) {
        if (r + 1 < count) mms_prefetch(rows + (r + 1) * stride, n * sizeof(float) < 256 ? n * sizeof(float) : 256);
        out[r] = avx2_l2sq_inline(q, rows + r * stride, n);
    }
}

AVX2 static void avx2_cosine_f32_many(const float *q, const float *rows, size_t stride, size_t count, size_t n,
                                      float *out) {
    // The query's norm once; then q·row and row·row in one pass over each row.
    const float qq = avx2_sumsq_f32(q, n);
    for (size_t r = 0; r < count; r++) {
        const float *row = rows + r * stride;
        if (r + 1 < count) mms_prefetch(row + stride, n * sizeof(float) < 256 ? n * sizeof(float) : 256);
        __m256 ab0 = _mm256_setzero_ps(), bb0 = _mm256_setzero_ps(), ab1 = _mm256_setzero_ps(), bb1 = _mm256_setzero_ps();
        __m256 ab2 = _mm256_setzero_ps(), bb2 = _mm256_setzero_ps(), ab3 = _mm256_setzero_ps(), bb3 = _mm256_setzero_ps();
        size_t i = 0;
        for (; i + 32 <= n; i += 32) {
            const __m256 v0 = _mm256_loadu_ps(row + i), v1 = _mm256_loadu_ps(row + i + 8);
            const __m256 v2 = _mm256_loadu_ps(row + i + 16), v3 = _mm256_loadu_ps(row + i + 24);
            ab0 = _mm256_fmadd_ps(_mm256_loadu_ps(q + i), v0, ab0);
            bb0 = _mm256_fmadd_ps(v0, v0, bb0);
            ab1 = _mm256_fmadd_ps(_mm256_loadu_ps(q + i + 8), v1, ab1);
            bb1 = _mm256_fmadd_ps(v1, v1, bb1);
            ab2 = _mm256_fmadd_ps(_mm256_loadu_ps(q + i + 16), v2, ab2);
            bb2 = _mm256_fmadd_ps(v2, v2, bb2);
            ab3 = _mm256_fmadd_ps(_mm256_loadu_ps(q + i + 24), v3, ab3);
            bb3 = _mm256_fmadd_ps(v3, v3, bb3);
        }
        for (; i + 8 <= n; i += 8) {
            const __m256 v = _mm256_loadu_ps(row + i);
            ab0 = _mm256_fmadd_ps(_mm256_loadu_ps(q + i), v, ab0);
            bb0 = _mm256_fmadd_ps(v, v, bb0);
        }
        if (i < n) {
            const __m256i m = avx2_tail_mask(n - i);
            const __m256 v = _mm256_maskload_ps(row + i, m);
            ab1 = _mm256_fmadd_ps(_mm256_maskload_ps(q + i, m), v, ab1);
            bb1 = _mm256_fmadd_ps(v, v, bb1);
        }
        const __m256 ab = _mm256_add_ps(_mm256_add_ps(ab0, ab1), _mm256_add_ps(ab2, ab3));
        const __m256 bb = _mm256_add_ps(_mm256_add_ps(bb0, bb1), _mm256_add_ps(bb2, bb3));
        out[r] = avx2_cosine_from_sums(_mm_add_ps(avx2_hsum3(ab, _mm256_setzero_ps(), bb), _mm_setr_ps(0, qq, 0, 0)));
    }
}

AVX2 __attribute__((always_inline)) static inline float avx2_dot_f32_f16_inline(const float *a, const uint16_t *b,
                                                                               size_t n) {
    // F16C widens eight halves per instruction; with four accumulators this
    // runs at the f32 dot's speed while reading 2 bytes per stored element.
    __m256 acc0 = _mm256_setzero_ps(), acc1 = _mm256_setzero_ps();
    __m256 acc2 = _mm256_setzero_ps(), acc3 = _mm256_setzero_ps();
    size_t i = 0;
    for (; i + 32 <= n; i += 32) {
        acc0 = _mm256_fmadd_ps(_mm256_loadu_ps(a + i), AVX2_HALF8(b + i), acc0);
        acc1 = _mm256_fmadd_ps(_mm256_loadu_ps(a + i + 8), AVX2_HALF8(b + i + 8), acc1);
        acc2 = _mm256_fmadd_ps(_mm256_loadu_ps(a + i + 16), AVX2_HALF8(b + i + 16), acc2);
        acc3 = _mm256_fmadd_ps(_mm256_loadu_ps(a + i + 24), AVX2_HALF8(b + i + 24), acc3);
    }
    for (; i + 8 <= n; i += 8) acc0 = _mm256_fmadd_ps(_mm256_loadu_ps(a + i), AVX2_HALF8(b + i), acc0);
    if (i < n) {
        const __m256 va = _mm256_maskload_ps(a + i, avx2_tail_mask(n - i));
        acc1 = _mm256_fmadd_ps(va, avx2_load_half_tail(b + i, n - i), acc1);
    }
    return hsum256(_mm256_add_ps(_mm256_add_ps(acc0, acc1), _mm256_add_ps(acc2, acc3)));
}

AVX2 static float avx2_dot_f32_f16(const float *a, const uint16_t *b, size_t n) {
    return avx2_dot_f32_f16_inline(a, b, n);
}

AVX2 static float avx2_l2sq_f32_f16(const float *a, const uint16_t *b, size_t n) {
    __m256 acc0 = _mm256_setzero_ps(), acc1 = _mm256_setzero_ps();
    __m256 acc2 = _mm256_setzero_ps(), acc3 = _mm256_setzero_ps();
    size_t i = 0;
    for (; i + 32 <= n; i += 32) {
        const __m256 d0 = _mm256_sub_ps(_mm256_loadu_ps(a + i), AVX2_HALF8(b + i));
        const __m256 d1 = _mm256_sub_ps(_mm256_loadu_ps(a + i + 8), AVX2_HALF8(b + i + 8));
        const __m256 d2 = _mm256_sub_ps(_mm256_loadu_ps(a + i + 16), AVX2_HALF8(b + i + 16));
        const __m256 d3 = _mm256_sub_ps(_mm256_loadu_ps(a + i + 24), AVX2_HALF8(b + i + 24));
        acc0 = _mm256_fmadd_ps(d0, d0, acc0);
        acc1 = _mm256_fmadd_ps(d1, d1, acc1);
        acc2 = _mm256_fmadd_ps(d2, d2, acc2);
        acc3 = _mm256_fmadd_ps(d3, d3, acc3);
    }
    for (; i + 8 <= n; i += 8) {
        const __m256 d = _mm256_sub_ps(_mm256_loadu_ps(a + i), AVX2_HALF8(b + i));
        acc0 = _mm256_fmadd_ps(d, d, acc0);
    }
    if (i < n) {
        const __m256 va = _mm256_maskload_ps(a + i, avx2_tail_mask(n - i));
        const __m256 d = _mm256_sub_ps(va, avx2_load_half_tail(b + i, n - i));
        acc1 = _mm256_fmadd_ps(d, d, acc1);
    }
    return hsum256(_mm256_add_ps(_mm256_add_ps(acc0, acc1), _mm256_add_ps(acc2, acc3)));
}

AVX2 static void avx2_dot_f32_f16_many(const float *q, const uint16_t *rows, size_t stride, size_t count, size_t n,
                                       float *out) {
    for (size_t r = 0; r < count; r++) {
        if (r + 1 < count) mms_prefetch(rows + (r + 1) * stride, n * sizeof(uint16_t) < 256 ? n * sizeof(uint16_t) : 256);
        out[r] = avx2_dot_f32_f16_inline(q, rows + r * stride, n);
    }
}

// int8 × int8. vpmaddubsw multiplies unsigned bytes by signed bytes and adds
// adjacent pairs into int16 with saturation, so the operands are arranged to
// keep every pair in range: |a| (0…128, unsigned) against b carrying a's sign
// (vpsignb). Each product is then at most 128·127 in magnitude and a pair at
// most 32,512: exact. The offset form that VNNI uses, (a + 128)·b, does not
// fit here: its pairs reach −65,280 and saturate.
//
// vpsignb cannot negate −128, so the arrangement is exact only while the
// signed operand holds no −128; the loop tracks its minimum (one vpminsb per
// 32 bytes) and a vector that has one is recomputed by widening both operands
// to int16 (vpmovsxbw, vpmaddwd), exact everywhere. Codes from
// `quantize_i8` lie in −127…127 and never take that path.
//
// int32 lanes wrap modulo 2^32; the true sum fits in int32 for n < 2^17, so
// the wrapped total is exact.

/// Σ a·b by widening to int16: exact for every input, the slower path.
AVX2 __attribute__((noinline, cold)) static int32_t avx2_dot_i8_widened(const int8_t *a, const int8_t *b, size_t n) {
#define AVX2_WIDEN16(p) _mm256_cvtepi8_epi16(_mm_loadu_si128((const __m128i *)(p)))
    __m256i acc0 = _mm256_setzero_si256(), acc1 = _mm256_setzero_si256();
    size_t i = 0;
    for (; i + 32 <= n; i += 32) {
        acc0 = _mm256_add_epi32(acc0, _mm256_madd_epi16(AVX2_WIDEN16(a + i), AVX2_WIDEN16(b + i)));
        acc1 = _mm256_add_epi32(acc1, _mm256_madd_epi16(AVX2_WIDEN16(a + i + 16), AVX2_WIDEN16(b + i + 16)));
    }
    if (i < n) {
        int8_t ta[32] = {0}, tb[32] = {0};
        memcpy(ta, a + i, n - i);
        memcpy(tb, b + i, n - i);
        acc0 = _mm256_add_epi32(acc0, _mm256_madd_epi16(AVX2_WIDEN16(ta), AVX2_WIDEN16(tb)));
        acc1 = _mm256_add_epi32(acc1, _mm256_madd_epi16(AVX2_WIDEN16(ta + 16), AVX2_WIDEN16(tb + 16)));
    }
#undef AVX2_WIDEN16
    return hsum256_epi32(_mm256_add_epi32(acc0, acc1));
}

/// 32 products of `u` = |a| (unsigned) and `s` = sign(b, a), summed into eight int32 lanes of `acc`.
#define AVX2_I8_STEP(va, vb, acc, ones16) \
    acc = _mm256_add_epi32(acc, _mm256_madd_epi16(_mm256_maddubs_epi16(_mm256_abs_epi8(va), _mm256_sign_epi8(vb, va)), ones16))

/// Σ a·b by the |a| · sign(b, a) arrangement, exact when b holds no −128;
/// the minimum of b goes to `minimum_b` so the caller can tell.
AVX2 __attribute__((always_inline)) static inline int32_t avx2_dot_i8_signed(const int8_t *a, const int8_t *b,
                                                                           size_t n, __m256i *minimum_b) {
    const __m256i ones16 = _mm256_set1_epi16(1);
    __m256i acc0 = _mm256_setzero_si256(), acc1 = _mm256_setzero_si256();
    __m256i min0 = _mm256_set1_epi8(127), min1 = _mm256_set1_epi8(127);
    size_t i = 0;
    for (; i + 64 <= n; i += 64) {
        const __m256i a0 = _mm256_loadu_si256((const __m256i *)(a + i));
        const __m256i b0 = _mm256_loadu_si256((const __m256i *)(b + i));
        const __m256i a1 = _mm256_loadu_si256((const __m256i *)(a + i + 32));
        const __m256i b1 = _mm256_loadu_si256((const __m256i *)(b + i + 32));
        AVX2_I8_STEP(a0, b0, acc0, ones16);
        AVX2_I8_STEP(a1, b1, acc1, ones16);
        min0 = _mm256_min_epi8(min0, b0);
        min1 = _mm256_min_epi8(min1, b1);
    }
    if (i + 32 <= n) {
        const __m256i a0 = _mm256_loadu_si256((const __m256i *)(a + i));
        const __m256i b0 = _mm256_loadu_si256((const __m256i *)(b + i));
        AVX2_I8_STEP(a0, b0, acc0, ones16);
        min0 = _mm256_min_epi8(min0, b0);
        i += 32;
    }
    uint32_t scalar = 0;
    if (i < n) {
        // Whole 4-byte words through a masked load (masked-off words read as
        // zero and add nothing), the last 0–3 bytes one by one.
        const size_t words = (n - i) / 4;
        const __m256i m = avx2_tail_mask(words);
        const __m256i a0 = _mm256_maskload_epi32((const int *)(a + i), m);
        const __m256i b0 = _mm256_maskload_epi32((const int *)(b + i), m);
        AVX2_I8_STEP(a0, b0, acc1, ones16);
        min1 = _mm256_min_epi8(min1, b0);
        for (size_t j = i + 4 * words; j < n; j++) scalar += (uint32_t)((int32_t)a[j] * (int32_t)b[j]);
    }
    *minimum_b = _mm256_min_epi8(min0, min1);
    return (int32_t)((uint32_t)hsum256_epi32(_mm256_add_epi32(acc0, acc1)) + scalar);
}

/// Whether any byte of `minimum` is −128.
AVX2 static inline int avx2_has_i8_min(__m256i minimum) {
    return _mm256_movemask_epi8(_mm256_cmpeq_epi8(minimum, _mm256_set1_epi8(-128))) != 0;
}

AVX2 static int32_t avx2_dot_i8(const int8_t *a, const int8_t *b, size_t n) {
    __m256i minimum;
    const int32_t total = avx2_dot_i8_signed(a, b, n, &minimum);
    if (__builtin_expect(avx2_has_i8_min(minimum), 0)) return avx2_dot_i8_widened(a, b, n);
    return total;
}

AVX2 static void avx2_dot_i8_many(const int8_t *q, const int8_t *rows, size_t stride, size_t count, size_t n,
                                  int32_t *out) {
    // The query takes the signed side, so one look at it decides the path for
    // every row: rows may hold −128 freely.
    __m256i minimum = _mm256_set1_epi8(127);
    size_t i = 0;
    for (; i + 32 <= n; i += 32) minimum = _mm256_min_epi8(minimum, _mm256_loadu_si256((const __m256i *)(q + i)));
    int has_min = avx2_has_i8_min(minimum);
    for (; i < n; i++) has_min |= q[i] == -128;
    for (size_t r = 0; r < count; r++) {
        const int8_t *row = rows + r * stride;
        if (r + 1 < count) mms_prefetch(row + stride, n < 256 ? n : 256);
        if (has_min) {
            out[r] = avx2_dot_i8_widened(row, q, n);
        } else {
            __m256i unused;
            out[r] = avx2_dot_i8_signed(row, q, n, &unused);
        }
    }
}

#define AVX2_ROUND_NEAREST (_MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC)

AVX2 static void avx2_f32_to_f16(const float *src, uint16_t *dst, size_t n) {
    size_t i = 0;
    for (; i + 32 <= n; i += 32) {
        const __m128i h0 = _mm256_cvtps_ph(_mm256_loadu_ps(src + i), AVX2_ROUND_NEAREST);
        const __m128i h1 = _mm256_cvtps_ph(_mm256_loadu_ps(src + i + 8), AVX2_ROUND_NEAREST);
        const __m128i h2 = _mm256_cvtps_ph(_mm256_loadu_ps(src + i + 16), AVX2_ROUND_NEAREST);
        const __m128i h3 = _mm256_cvtps_ph(_mm256_loadu_ps(src + i + 24), AVX2_ROUND_NEAREST);
        _mm_storeu_si128((__m128i *)(dst + i), h0);
        _mm_storeu_si128((__m128i *)(dst + i + 8), h1);
        _mm_storeu_si128((__m128i *)(dst + i + 16), h2);
        _mm_storeu_si128((__m128i *)(dst + i + 24), h3);
    }
    for (; i + 8 <= n; i += 8) {
        _mm_storeu_si128((__m128i *)(dst + i), _mm256_cvtps_ph(_mm256_loadu_ps(src + i), AVX2_ROUND_NEAREST));
    }
    if (i < n) {
        uint16_t halves[8];
        const __m256 v = _mm256_maskload_ps(src + i, avx2_tail_mask(n - i));
        _mm_storeu_si128((__m128i *)halves, _mm256_cvtps_ph(v, AVX2_ROUND_NEAREST));
        memcpy(dst + i, halves, (n - i) * sizeof(uint16_t));
    }
}

AVX2 static void avx2_f16_to_f32(const uint16_t *src, float *dst, size_t n) {
    size_t i = 0;
    for (; i + 32 <= n; i += 32) {
        _mm256_storeu_ps(dst + i, AVX2_HALF8(src + i));
        _mm256_storeu_ps(dst + i + 8, AVX2_HALF8(src + i + 8));
        _mm256_storeu_ps(dst + i + 16, AVX2_HALF8(src + i + 16));
        _mm256_storeu_ps(dst + i + 24, AVX2_HALF8(src + i + 24));
    }
    for (; i + 8 <= n; i += 8) _mm256_storeu_ps(dst + i, AVX2_HALF8(src + i));
    if (i < n) _mm256_maskstore_ps(dst + i, avx2_tail_mask(n - i), avx2_load_half_tail(src + i, n - i));
}

/// Eight floats to int32 codes: clamp(rint(x·scale), −127, 127), NaN → 0.
AVX2 static inline __m256i avx2_quantize8(__m256 x, __m256 scale) {
    const __m256 v = _mm256_mul_ps(x, scale);
    const __m256 ordered = _mm256_cmp_ps(v, v, _CMP_ORD_Q);
    // max/min return their second operand when the first is NaN; the ordered
    // mask zeroes those lanes afterwards.
    const __m256 clamped = _mm256_min_ps(_mm256_max_ps(v, _mm256_set1_ps(-127.0f)), _mm256_set1_ps(127.0f));
    return _mm256_cvtps_epi32(_mm256_and_ps(clamped, ordered));
}

AVX2 static void avx2_quantize_i8(const float *src, size_t n, float inverse_scale, int8_t *dst) {
    const __m256 scale = _mm256_set1_ps(inverse_scale);
    // vpackssdw/vpacksswb work within 128-bit lanes; this puts the 32 codes back in order.
    const __m256i order = _mm256_setr_epi32(0, 4, 1, 5, 2, 6, 3, 7);
    size_t i = 0;
    for (; i + 32 <= n; i += 32) {
        const __m256i q0 = avx2_quantize8(_mm256_loadu_ps(src + i), scale);
        const __m256i q1 = avx2_quantize8(_mm256_loadu_ps(src + i + 8), scale);
        const __m256i q2 = avx2_quantize8(_mm256_loadu_ps(src + i + 16), scale);
        const __m256i q3 = avx2_quantize8(_mm256_loadu_ps(src + i + 24), scale);
        const __m256i packed = _mm256_packs_epi16(_mm256_packs_epi32(q0, q1), _mm256_packs_epi32(q2, q3));
        _mm256_storeu_si256((__m256i *)(dst + i), _mm256_permutevar8x32_epi32(packed, order));
    }
    for (; i < n; i += 8) {
        const size_t m = n - i < 8 ? n - i : 8;
        const __m256i q = avx2_quantize8(_mm256_maskload_ps(src + i, avx2_tail_mask(m)), scale);
        const __m128i q16 = _mm_packs_epi32(_mm256_castsi256_si128(q), _mm256_extracti128_si256(q, 1));
        const __m128i q8 = _mm_packs_epi16(q16, q16);
        if (m == 8) {
            _mm_storel_epi64((__m128i *)(dst + i), q8);
        } else {
            int8_t codes[16];
            _mm_storeu_si128((__m128i *)codes, q8);
            memcpy(dst + i, codes, m);
        }
    }
}

AVX2 static void avx2_dequantize_i8(const int8_t *src, size_t n, float scale, float *dst) {
    const __m256 s = _mm256_set1_ps(scale);
    size_t i = 0;
    for (; i + 32 <= n; i += 32) {
        const __m256i bytes = _mm256_loadu_si256((const __m256i *)(src + i));
        const __m128i lo = _mm256_castsi256_si128(bytes), hi = _mm256_extracti128_si256(bytes, 1);
        _mm256_storeu_ps(dst + i, _mm256_mul_ps(_mm256_cvtepi32_ps(_mm256_cvtepi8_epi32(lo)), s));
        _mm256_storeu_ps(dst + i + 8, _mm256_mul_ps(_mm256_cvtepi32_ps(_mm256_cvtepi8_epi32(_mm_srli_si128(lo, 8))), s));
        _mm256_storeu_ps(dst + i + 16, _mm256_mul_ps(_mm256_cvtepi32_ps(_mm256_cvtepi8_epi32(hi)), s));
        _mm256_storeu_ps(dst + i + 24, _mm256_mul_ps(_mm256_cvtepi32_ps(_mm256_cvtepi8_epi32(_mm_srli_si128(hi, 8))), s));
    }
    for (; i < n; i += 8) {
        const size_t m = n - i < 8 ? n - i : 8;
        int8_t codes[8] = {0};
        memcpy(codes, src + i, m);
        const __m256 v = _mm256_mul_ps(_mm256_cvtepi32_ps(_mm256_cvtepi8_epi32(_mm_loadl_epi64((const __m128i *)codes))), s);
        _mm256_maskstore_ps(dst + i, avx2_tail_mask(m), v);
    }
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
    .activation_f32 = mms_avx2_activation_f32,
    .softmax_f32 = mms_avx2_softmax_f32,
    .attention_f32 = mms_avx2_attention_f32,
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
