// Transformer kernels for NEON: activations and softmax four lanes at a time,
// and one head's attention in the shape of the AVX-512 form — the keys
// transposed once into scratch, then two register-tiled products (4 query
// rows × 16 columns, 16 accumulators of NEON's 32 registers) around a
// vectorised softmax. Tails of fewer than four elements go through the same
// formulas in scalar form (kernels_math.h).

#if defined(__aarch64__)

#include <arm_neon.h>
#include "kernels_internal.h"
#include "kernels_math.h"

#define TILE_ROWS 4

void mms_neon_activation_f32(float *x, size_t n, int activation) {
    if (activation == MMS_ACTIVATION_NONE) return;
    size_t i = 0;
    for (; i + 8 <= n; i += 8) {
        const float32x4_t v0 = mms_activate_neon(vld1q_f32(x + i), activation);
        const float32x4_t v1 = mms_activate_neon(vld1q_f32(x + i + 4), activation);
        vst1q_f32(x + i, v0);
        vst1q_f32(x + i + 4, v1);
    }
    if (i + 4 <= n) {
        vst1q_f32(x + i, mms_activate_neon(vld1q_f32(x + i), activation));
        i += 4;
    }
    for (; i < n; i++) x[i] = mms_activate_scalar(x[i], activation);
}

void mms_neon_softmax_f32(float *x, size_t n) {
    if (n == 0) return;
    float32x4_t maximum = vdupq_n_f32(x[0]);
    size_t i = 0;
    for (; i + 4 <= n; i += 4) maximum = vmaxq_f32(maximum, vld1q_f32(x + i));
    float top = vmaxvq_f32(maximum);
    for (; i < n; i++) top = x[i] > top ? x[i] : top;

    const float32x4_t top4 = vdupq_n_f32(top);
    float32x4_t sum = vdupq_n_f32(0);
    for (i = 0; i + 4 <= n; i += 4) {
        const float32x4_t e = mms_exp_neon(vsubq_f32(vld1q_f32(x + i), top4));
        vst1q_f32(x + i, e);
        sum = vaddq_f32(sum, e);
    }
    float total = vaddvq_f32(sum);
    for (; i < n; i++) {
        const float e = mms_exp_scalar(x[i] - top);
        x[i] = e;
        total += e;
    }

    const float inverse = 1.0f / total;
    const float32x4_t inverse4 = vdupq_n_f32(inverse);
    for (i = 0; i + 4 <= n; i += 4) vst1q_f32(x + i, vmulq_f32(vld1q_f32(x + i), inverse4));
    for (; i < n; i++) x[i] *= inverse;
}

/// Scores of four query rows against `vectors` × 4 keys starting at column j0:
/// s[r][j] = scale · Σ_c q_r[c] · kᵀ[c][j]. Rows past the sequence repeat its
/// last row (computed, not stored).
__attribute__((always_inline)) static inline void score_tile(const float *const *rows, size_t d, const float *kt,
                                                             size_t padded, size_t j0, int vectors, float scale,
                                                             float *s, size_t row_count) {
    float32x4_t acc[TILE_ROWS][4];
    for (int r = 0; r < TILE_ROWS; r++)
        for (int t = 0; t < 4; t++) acc[r][t] = vdupq_n_f32(0);
    for (size_t c = 0; c < d; c++) {
        float32x4_t key[4];
        for (int t = 0; t < vectors; t++) key[t] = vld1q_f32(kt + c * padded + j0 + 4 * (size_t)t);
        for (int r = 0; r < TILE_ROWS; r++) {
            const float32x4_t a = vdupq_n_f32(rows[r][c]);
            for (int t = 0; t < vectors; t++) acc[r][t] = vfmaq_f32(acc[r][t], a, key[t]);
        }
    }
    const float32x4_t factor = vdupq_n_f32(scale);
    for (size_t r = 0; r < row_count; r++)
        for (int t = 0; t < vectors; t++) vst1q_f32(s + r * padded + j0 + 4 * (size_t)t, vmulq_f32(acc[r][t], factor));
}

/// out rows = Σ_{j < limit} p_r[j] · v_j over `vectors` × 4 whole columns from c0.
__attribute__((always_inline)) static inline void context_tile(const float *const *p, size_t limit, const float *v,
                                                               size_t stride, size_t c0, int vectors, float *out,
                                                               size_t ldo, size_t row_count) {
    float32x4_t acc[TILE_ROWS][4];
    for (int r = 0; r < TILE_ROWS; r++)
        for (int t = 0; t < 4; t++) acc[r][t] = vdupq_n_f32(0);
    for (size_t j = 0; j < limit; j++) {
        float32x4_t value[4];
        const float *vj = v + j * stride + c0;
        for (int t = 0; t < vectors; t++) value[t] = vld1q_f32(vj + 4 * t);
        for (int r = 0; r < TILE_ROWS; r++) {
            const float32x4_t a = vdupq_n_f32(p[r][j]);
            for (int t = 0; t < vectors; t++) acc[r][t] = vfmaq_f32(acc[r][t], a, value[t]);
        }
    }
    for (size_t r = 0; r < row_count; r++)
        for (int t = 0; t < vectors; t++) vst1q_f32(out + r * ldo + c0 + 4 * (size_t)t, acc[r][t]);
}

void mms_neon_attention_f32(const float *q, const float *k, const float *v, size_t stride, size_t n, size_t d,
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
        const size_t columns = (limit + 3) & ~(size_t)3;  // ≤ padded
        const float *rows[TILE_ROWS];
        for (size_t r = 0; r < TILE_ROWS; r++) rows[r] = q + (i + (r < row_count ? r : row_count - 1)) * stride;
        float *s = scores + i * padded;
        size_t j0 = 0;
        for (; j0 + 16 <= columns; j0 += 16) score_tile(rows, d, kt, padded, j0, 4, scale, s, row_count);
        for (; j0 < columns; j0 += 4) score_tile(rows, d, kt, padded, j0, 1, scale, s, row_count);
        const float *p[TILE_ROWS];
        for (size_t r = 0; r < TILE_ROWS; r++) {
            const size_t row = r < row_count ? r : row_count - 1;
            float *sr = s + row * padded;
            if (r < row_count) {
                const size_t count = causal ? i + r + 1 : n;
                mms_neon_softmax_f32(sr, count);
                for (size_t j = count; j < limit; j++) sr[j] = 0;
            }
            p[r] = sr;
        }
        float *o = out + i * ldo;
        size_t c0 = 0;
        for (; c0 + 16 <= d; c0 += 16) context_tile(p, limit, v, stride, c0, 4, o, ldo, row_count);
        for (; c0 + 4 <= d; c0 += 4) context_tile(p, limit, v, stride, c0, 1, o, ldo, row_count);
        // The last d mod 4 columns, one at a time.
        for (; c0 < d; c0++) {
            for (size_t r = 0; r < row_count; r++) {
                float sum = 0;
                for (size_t j = 0; j < limit; j++) sum += p[r][j] * v[j * stride + c0];
                o[r * ldo + c0] = sum;
            }
        }
    }
}

#endif
