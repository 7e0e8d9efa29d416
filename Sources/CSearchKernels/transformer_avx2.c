// Transformer kernels for AVX2 + FMA: activations and softmax eight lanes at a
// time, and one head's attention as two register-tiled products around the
// vectorised softmax (4 query rows × 16 columns of accumulators, the keys
// transposed once into scratch), the AVX-512 kernels' design at half width.

#if defined(__x86_64__) || defined(_M_X64)

#include <immintrin.h>
#include "kernels_internal.h"
#include "kernels_math.h"

#define AVX2 __attribute__((target("avx2,fma")))
#define TILE_ROWS 4

/// Lanes [0, count) of eight set, for masked loads and stores.
AVX2 static inline __m256i lanes(size_t remaining) {
    const int count = remaining >= 8 ? 8 : (int)remaining;
    return _mm256_cmpgt_epi32(_mm256_set1_epi32(count), _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7));
}

AVX2 static inline float horizontal_max(__m256 v) {
    __m128 x = _mm_max_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
    x = _mm_max_ps(x, _mm_movehl_ps(x, x));
    x = _mm_max_ss(x, _mm_movehdup_ps(x));
    return _mm_cvtss_f32(x);
}

AVX2 static inline float horizontal_sum(__m256 v) {
    __m128 x = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
    x = _mm_add_ps(x, _mm_movehl_ps(x, x));
    x = _mm_add_ss(x, _mm_movehdup_ps(x));
    return _mm_cvtss_f32(x);
}

AVX2 void mms_avx2_activation_f32(float *x, size_t n, int activation) {
    if (activation == MMS_ACTIVATION_NONE) return;
    size_t i = 0;
    for (; i + 8 <= n; i += 8) _mm256_storeu_ps(x + i, mms_activate256(_mm256_loadu_ps(x + i), activation));
    if (i < n) {
        const __m256i m = lanes(n - i);
        _mm256_maskstore_ps(x + i, m, mms_activate256(_mm256_maskload_ps(x + i, m), activation));
    }
}

AVX2 void mms_avx2_softmax_f32(float *x, size_t n) {
    if (n == 0) return;
    // Masked-off lanes load 0 and are kept out of the maximum by starting from x[0].
    __m256 maximum = _mm256_set1_ps(x[0]);
    for (size_t i = 0; i < n; i += 8) {
        const __m256i m = lanes(n - i);
        maximum = _mm256_max_ps(maximum, _mm256_blendv_ps(maximum, _mm256_maskload_ps(x + i, m), _mm256_castsi256_ps(m)));
    }
    const __m256 top = _mm256_set1_ps(horizontal_max(maximum));
    __m256 sum = _mm256_setzero_ps();
    for (size_t i = 0; i < n; i += 8) {
        const __m256i m = lanes(n - i);
        const __m256 e = _mm256_and_ps(mms_exp256(_mm256_sub_ps(_mm256_maskload_ps(x + i, m), top)), _mm256_castsi256_ps(m));
        _mm256_maskstore_ps(x + i, m, e);
        sum = _mm256_add_ps(sum, e);
    }
    const __m256 inverse = _mm256_set1_ps(1.0f / horizontal_sum(sum));
    for (size_t i = 0; i < n; i += 8) {
        const __m256i m = lanes(n - i);
        _mm256_maskstore_ps(x + i, m, _mm256_mul_ps(_mm256_maskload_ps(x + i, m), inverse));
    }
}

/// Scores of four query rows against `vectors` × 8 keys starting at column j0:
/// s[r][j] = scale · Σ_c q_r[c] · kᵀ[c][j]. Rows past the sequence repeat its last row (not stored).
AVX2 __attribute__((always_inline)) static inline void score_tile(const float *const *rows, size_t d, const float *kt,
                                                                size_t padded, size_t j0, int vectors, float scale,
                                                                float *s, size_t row_count) {
    __m256 acc[TILE_ROWS][2];
    for (int r = 0; r < TILE_ROWS; r++)
        for (int t = 0; t < 2; t++) acc[r][t] = _mm256_setzero_ps();
    for (size_t c = 0; c < d; c++) {
        __m256 key[2];
        for (int t = 0; t < vectors; t++) key[t] = _mm256_loadu_ps(kt + c * padded + j0 + 8 * (size_t)t);
        for (int r = 0; r < TILE_ROWS; r++) {
            const __m256 a = _mm256_broadcast_ss(rows[r] + c);
            for (int t = 0; t < vectors; t++) acc[r][t] = _mm256_fmadd_ps(a, key[t], acc[r][t]);
        }
    }
    const __m256 factor = _mm256_set1_ps(scale);
    for (size_t r = 0; r < row_count; r++)
        for (int t = 0; t < vectors; t++)
            _mm256_storeu_ps(s + r * padded + j0 + 8 * (size_t)t, _mm256_mul_ps(acc[r][t], factor));
}

/// out rows = Σ_{j < limit} p_r[j] · v_j over `vectors` × 8 columns from c0 (the last masked by `tail`).
AVX2 __attribute__((always_inline)) static inline void context_tile(const float *const *p, size_t limit,
                                                                  const float *v, size_t stride, size_t c0,
                                                                  int vectors, __m256i tail, float *out, size_t ldo,
                                                                  size_t row_count) {
    const __m256i all = _mm256_set1_epi32(-1);
    __m256 acc[TILE_ROWS][2];
    for (int r = 0; r < TILE_ROWS; r++)
        for (int t = 0; t < 2; t++) acc[r][t] = _mm256_setzero_ps();
    for (size_t j = 0; j < limit; j++) {
        __m256 value[2];
        const float *vj = v + j * stride + c0;
        for (int t = 0; t < vectors; t++) value[t] = _mm256_maskload_ps(vj + 8 * t, t == vectors - 1 ? tail : all);
        for (int r = 0; r < TILE_ROWS; r++) {
            const __m256 a = _mm256_broadcast_ss(p[r] + j);
            for (int t = 0; t < vectors; t++) acc[r][t] = _mm256_fmadd_ps(a, value[t], acc[r][t]);
        }
    }
    for (size_t r = 0; r < row_count; r++)
        for (int t = 0; t < vectors; t++)
            _mm256_maskstore_ps(out + r * ldo + c0 + 8 * t, t == vectors - 1 ? tail : all, acc[r][t]);
}

AVX2 void mms_avx2_attention_f32(const float *q, const float *k, const float *v, size_t stride, size_t n, size_t d,
                                 float scale, int causal, float *scratch, float *out, size_t ldo) {
    if (n == 0) return;
    const size_t padded = (n + 15) & ~(size_t)15;
    float *kt = scratch;              // d × padded: the keys transposed, zero past n
    float *scores = kt + d * padded;  // n × padded
    for (size_t j = 0; j < padded; j++) {
        if (j < n) {
            const float *kj = k + j * stride;
            for (size_t c = 0; c < d; c++) kt[c * padded + j] = kj[c];
        } else {
            for (size_t c = 0; c < d; c++) kt[c * padded + j] = 0;
        }
    }
    const __m256i all = _mm256_set1_epi32(-1);
    for (size_t i = 0; i < n; i += TILE_ROWS) {
        const size_t row_count = n - i < TILE_ROWS ? n - i : TILE_ROWS;
        // Keys a tile needs: all, or (causal) up to its last row.
        const size_t limit = causal ? i + row_count : n;
        const size_t columns = (limit + 15) & ~(size_t)15;
        const float *rows[TILE_ROWS];
        for (size_t r = 0; r < TILE_ROWS; r++) rows[r] = q + (i + (r < row_count ? r : row_count - 1)) * stride;
        float *s = scores + i * padded;
        for (size_t j0 = 0; j0 < columns; j0 += 16) score_tile(rows, d, kt, padded, j0, 2, scale, s, row_count);
        const float *p[TILE_ROWS];
        for (size_t r = 0; r < TILE_ROWS; r++) {
            const size_t row = r < row_count ? r : row_count - 1;
            float *sr = s + row * padded;
            if (r < row_count) {
                const size_t count = causal ? i + r + 1 : n;
                mms_avx2_softmax_f32(sr, count);
                for (size_t j = count; j < limit; j++) sr[j] = 0;
            }
            p[r] = sr;
        }
        float *o = out + i * ldo;
        size_t c0 = 0;
        for (; c0 + 16 <= d; c0 += 16) context_tile(p, limit, v, stride, c0, 2, all, o, ldo, row_count);
        for (; c0 < d; c0 += 8) context_tile(p, limit, v, stride, c0, 1, lanes(d - c0), o, ldo, row_count);
    }
}

#endif
