// Transformer kernels for AVX-512: activations and softmax sixteen lanes at a
// time, and one head's attention as two register-tiled products around a
// vectorised softmax (4 query rows × 64 columns of accumulators), instead of
// two BLAS calls per head whose setup costs as much as their arithmetic at
// ViT's 50 tokens.

#if defined(__x86_64__) || defined(_M_X64)

#include <immintrin.h>
#include "kernels_internal.h"
#include "kernels_math.h"

#define AVX512 __attribute__((target("avx512f,avx512dq,fma")))
#define TILE_ROWS 4

AVX512 static inline __mmask16 lanes(size_t remaining) {
    return remaining >= 16 ? (__mmask16)0xFFFF : (__mmask16)((1u << remaining) - 1u);
}

AVX512 void mms_avx512_activation_f32(float *x, size_t n, int activation) {
    if (activation == MMS_ACTIVATION_NONE) return;
    size_t i = 0;
    for (; i + 16 <= n; i += 16) _mm512_storeu_ps(x + i, mms_activate512(_mm512_loadu_ps(x + i), activation));
    if (i < n) {
        const __mmask16 m = lanes(n - i);
        _mm512_mask_storeu_ps(x + i, m, mms_activate512(_mm512_maskz_loadu_ps(m, x + i), activation));
    }
}

AVX512 void mms_avx512_softmax_f32(float *x, size_t n) {
    if (n == 0) return;
    __m512 maximum = _mm512_set1_ps(x[0]);
    for (size_t i = 0; i < n; i += 16) {
        const __mmask16 m = lanes(n - i);
        maximum = _mm512_mask_max_ps(maximum, m, maximum, _mm512_maskz_loadu_ps(m, x + i));
    }
    const __m512 top = _mm512_set1_ps(_mm512_reduce_max_ps(maximum));
    __m512 sum = _mm512_setzero_ps();
    for (size_t i = 0; i < n; i += 16) {
        const __mmask16 m = lanes(n - i);
        const __m512 e = mms_exp512(_mm512_sub_ps(_mm512_maskz_loadu_ps(m, x + i), top));
        _mm512_mask_storeu_ps(x + i, m, e);
        sum = _mm512_mask_add_ps(sum, m, sum, e);
    }
    const __m512 inverse = _mm512_set1_ps(1.0f / _mm512_reduce_add_ps(sum));
    for (size_t i = 0; i < n; i += 16) {
        const __mmask16 m = lanes(n - i);
        _mm512_mask_storeu_ps(x + i, m, _mm512_mul_ps(_mm512_maskz_loadu_ps(m, x + i), inverse));
    }
}

/// Scores of four query rows against `vectors` × 16 keys starting at column j0:
/// s[r][j] = scale · Σ_c q_r[c] · kᵀ[c][j]. Rows past the sequence repeat its last row (not stored).
AVX512 __attribute__((always_inline)) static inline void score_tile(const float *const *rows, size_t d, const float *kt,
                                                                  size_t padded, size_t j0, int vectors, float scale,
                                                                  float *s, size_t row_count) {
    __m512 acc[TILE_ROWS][4];
    for (int r = 0; r < TILE_ROWS; r++)
        for (int t = 0; t < 4; t++) acc[r][t] = _mm512_setzero_ps();
    for (size_t c = 0; c < d; c++) {
        __m512 key[4];
        for (int t = 0; t < vectors; t++) key[t] = _mm512_loadu_ps(kt + c * padded + j0 + 16 * (size_t)t);
        for (int r = 0; r < TILE_ROWS; r++) {
            const __m512 a = _mm512_set1_ps(rows[r][c]);
            for (int t = 0; t < vectors; t++) acc[r][t] = _mm512_fmadd_ps(a, key[t], acc[r][t]);
        }
    }
    const __m512 factor = _mm512_set1_ps(scale);
    for (size_t r = 0; r < row_count; r++)
        for (int t = 0; t < vectors; t++)
            _mm512_storeu_ps(s + r * padded + j0 + 16 * (size_t)t, _mm512_mul_ps(acc[r][t], factor));
}

/// out rows += Σ_{j < limit} p_r[j] · v_j over `vectors` × 16 columns from c0 (the last masked by `tail`).
AVX512 __attribute__((always_inline)) static inline void context_tile(const float *const *p, size_t limit,
                                                                    const float *v, size_t stride, size_t c0,
                                                                    int vectors, __mmask16 tail, float *out,
                                                                    size_t ldo, size_t row_count) {
    __m512 acc[TILE_ROWS][4];
    for (int r = 0; r < TILE_ROWS; r++)
        for (int t = 0; t < 4; t++) acc[r][t] = _mm512_setzero_ps();
    for (size_t j = 0; j < limit; j++) {
        __m512 value[4];
        const float *vj = v + j * stride + c0;
        for (int t = 0; t < vectors; t++)
            value[t] = _mm512_maskz_loadu_ps(t == vectors - 1 ? tail : (__mmask16)0xFFFF, vj + 16 * t);
        for (int r = 0; r < TILE_ROWS; r++) {
            const __m512 a = _mm512_set1_ps(p[r][j]);
            for (int t = 0; t < vectors; t++) acc[r][t] = _mm512_fmadd_ps(a, value[t], acc[r][t]);
        }
    }
    for (size_t r = 0; r < row_count; r++)
        for (int t = 0; t < vectors; t++)
            _mm512_mask_storeu_ps(out + r * ldo + c0 + 16 * t, t == vectors - 1 ? tail : (__mmask16)0xFFFF, acc[r][t]);
}

AVX512 void mms_avx512_attention_f32(const float *q, const float *k, const float *v, size_t stride, size_t n, size_t d,
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
    for (size_t i = 0; i < n; i += TILE_ROWS) {
        const size_t row_count = n - i < TILE_ROWS ? n - i : TILE_ROWS;
        // Keys a tile needs: all, or (causal) up to its last row.
        const size_t limit = causal ? i + row_count : n;
        const size_t columns = (limit + 15) & ~(size_t)15;
        const float *rows[TILE_ROWS];
        for (size_t r = 0; r < TILE_ROWS; r++) rows[r] = q + (i + (r < row_count ? r : row_count - 1)) * stride;
        float *s = scores + i * padded;
        size_t j0 = 0;
        for (; j0 + 64 <= columns; j0 += 64) score_tile(rows, d, kt, padded, j0, 4, scale, s, row_count);
        for (; j0 < columns; j0 += 16) score_tile(rows, d, kt, padded, j0, 1, scale, s, row_count);
        const float *p[TILE_ROWS];
        for (size_t r = 0; r < TILE_ROWS; r++) {
            const size_t row = r < row_count ? r : row_count - 1;
            float *sr = s + row * padded;
            if (r < row_count) {
                const size_t count = causal ? i + r + 1 : n;
                mms_avx512_softmax_f32(sr, count);
                for (size_t j = count; j < limit; j++) sr[j] = 0;
            }
            p[r] = sr;
        }
        float *o = out + i * ldo;
        size_t c0 = 0;
        for (; c0 + 64 <= d; c0 += 64) context_tile(p, limit, v, stride, c0, 4, 0xFFFF, o, ldo, row_count);
        for (; c0 < d; c0 += 16) context_tile(p, limit, v, stride, c0, 1, lanes(d - c0), o, ldo, row_count);
    }
}

#endif
