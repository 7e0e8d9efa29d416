// INT8 GEMM for a linear layer with INT8 weights: C (+)= A·Bᵀ where B is
// [n×k] int8 (one scale per row of B, i.e. per output column of C) and A is
// quantised per row, at run time, to unsigned codes with a zero point.
//
//   A[i][p] ≈ sa_i · (u[i][p] − z_i),  B[j][p] = sb_j · w[j][p]
//   C[i][j] = sa_i · sb_j · (Σ_p u[i][p]·w[j][p] − z_i · Σ_p w[j][p]) + bias_j
//
// The integer sum is exact in int32 (|u| ≤ 255, |w| ≤ 127, k < 2^16), the
// column sums Σ_p w[j][p] are computed once, when B is packed. Products run
// u8 × s8, four k-steps per 32-bit lane:
// - AVX-512 VNNI: `vpdpbusd` adds four u8·s8 products into each int32 lane,
//   without intermediate saturation: activations use codes 0…255.
// - AVX2: `vpmaddubsw` adds pairs of u8·s8 products into saturating int16,
//   `vpmaddwd` against ones adds pairs of those into int32. A pair of 255·127
//   would saturate, so on this path activations use codes 0…127 (two of them
//   times 127 fit in int16) and the sum stays exact.
// - portable C: the same sums in plain loops, codes 0…255.
//
// B is packed into panels of 32 columns; within a panel, k runs in groups of
// four, and each group holds 32 columns × 4 bytes (column c's four bytes
// together): one 512-bit load is 16 columns' next four steps, one 32-bit
// broadcast of A the matching four activations. The same layout serves every
// variant.

#include <math.h>
#include <stdint.h>
#include <string.h>
#include "kernels_internal.h"
#include "kernels_math.h"

#define NR MMS_GEMM_I8_PANEL
/// Bytes of packed B per column block, kept in L2 while every strip of A passes over it.
#define BLOCK_BYTES (384 * 1024)

void mms_gemm_i8_pack_b(size_t n, size_t k, const int8_t *b, size_t ldb, int8_t *packed, int32_t *column_sums) {
    const size_t depth = mms_gemm_i8_depth(k);
    const size_t columns = mms_gemm_i8_padded_columns(n);
    for (size_t j = 0; j < columns; j += NR) {
        int8_t *panel = packed + j * depth;
        for (size_t col = 0; col < NR; col++) {
            int32_t sum = 0;
            for (size_t p = 0; p < depth; p++) {
                const int8_t w = j + col < n && p < k ? b[(j + col) * ldb + p] : 0;
                panel[(p / 4) * (NR * 4) + col * 4 + p % 4] = w;
                sum += w;
            }
            column_sums[j + col] = sum;
        }
    }
}

int mms_gemm_i8_activation_max(mms_kernel_level level) { return level == MMS_KERNEL_AVX2 ? 127 : 255; }

/// One row's range, lo ≤ 0 ≤ hi (NaNs skipped).
typedef void (*row_range_fn)(const float *row, size_t k, float *lo_out, float *hi_out);
/// Codes of one row: clamp(rint(x·inverse) + z, 0, top), NaN → 0; zero from k to depth.
typedef void (*row_codes_fn)(const float *row, size_t k, size_t depth, float inverse, float z, float top,
                             uint8_t *out);
static void choose_quantizer(row_range_fn *range, row_codes_fn *codes);

void mms_gemm_i8_quantize_a(size_t m, size_t k, const float *a, size_t lda, int max_code, uint8_t *q, size_t ldq,
                            float *scales, int32_t *zero_points) {
    const size_t depth = mms_gemm_i8_depth(k);
    row_range_fn row_range;
    row_codes_fn row_codes;
    choose_quantizer(&row_range, &row_codes);
    for (size_t i = 0; i < m; i++) {
        const float *row = a + i * lda;
        float lo, hi;
        row_range(row, k, &lo, &hi);
        uint8_t *out = q + i * ldq;
        const float range = hi - lo;
        if (!(range > 0) || !isfinite(range)) {
            // All zero (or not finite): every code is the zero point 0.
            memset(out, 0, depth);
            scales[i] = range > 0 ? range / (float)max_code : 1.0f;
            zero_points[i] = 0;
            continue;
        }
        const float inverse = (float)max_code / range;
        float z = rintf(-lo * inverse);
        z = z > 0 ? z : 0;
        z = z < (float)max_code ? z : (float)max_code;
        row_codes(row, k, depth, inverse, z, (float)max_code, out);
        scales[i] = range / (float)max_code;
        zero_points[i] = (int32_t)z;
    }
}

static void row_range_portable(const float *row, size_t k, float *lo_out, float *hi_out) {
    float lo = 0, hi = 0;
    for (size_t p = 0; p < k; p++) {
        lo = row[p] < lo ? row[p] : lo;
        hi = row[p] > hi ? row[p] : hi;
    }
    *lo_out = lo;
    *hi_out = hi;
}

static void row_codes_portable(const float *row, size_t k, size_t depth, float inverse, float z, float top,
                               uint8_t *out) {
    for (size_t p = 0; p < k; p++) {
        float v = rintf(row[p] * inverse) + z;
        v = v > 0 ? v : 0;
        v = v < top ? v : top;
        out[p] = (uint8_t)v;
    }
    for (size_t p = k; p < depth; p++) out[p] = 0;
}

#if defined(__x86_64__)
#include <immintrin.h>

// The same arithmetic eight lanes at a time (bit for bit: min, max, a product
// rounded to nearest even, clamps), for both x86 levels.
__attribute__((target("avx2,fma"))) static void row_range_avx2(const float *row, size_t k, float *lo_out,
                                                               float *hi_out) {
    __m256 lo = _mm256_setzero_ps(), hi = _mm256_setzero_ps();
    size_t p = 0;
    // min/max return their second operand when either is NaN: NaNs are skipped.
    for (; p + 8 <= k; p += 8) {
        const __m256 x = _mm256_loadu_ps(row + p);
        lo = _mm256_min_ps(x, lo);
        hi = _mm256_max_ps(x, hi);
    }
    float l[8], h[8];
    _mm256_storeu_ps(l, lo);
    _mm256_storeu_ps(h, hi);
    float lo1 = 0, hi1 = 0;
    for (int t = 0; t < 8; t++) {
        lo1 = l[t] < lo1 ? l[t] : lo1;
        hi1 = h[t] > hi1 ? h[t] : hi1;
    }
    for (; p < k; p++) {
        lo1 = row[p] < lo1 ? row[p] : lo1;
        hi1 = row[p] > hi1 ? row[p] : hi1;
    }
    *lo_out = lo1;
    *hi_out = hi1;
}

__attribute__((target("avx2,fma"))) static void row_codes_avx2(const float *row, size_t k, size_t depth,
                                                               float inverse, float z, float top, uint8_t *out) {
    const __m256 scale = _mm256_set1_ps(inverse), zero_point = _mm256_set1_ps(z), ceiling = _mm256_set1_ps(top);
    const __m256 zero = _mm256_setzero_ps();
    const __m256i order = _mm256_setr_epi32(0, 4, 1, 5, 2, 6, 3, 7);
    size_t p = 0;
    for (; p + 32 <= k; p += 32) {
        __m256i v[4];
        for (int t = 0; t < 4; t++) {
            __m256 x = _mm256_round_ps(_mm256_mul_ps(_mm256_loadu_ps(row + p + 8 * t), scale),
                                       _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
            x = _mm256_min_ps(_mm256_max_ps(_mm256_add_ps(x, zero_point), zero), ceiling);
            v[t] = _mm256_cvttps_epi32(x);
        }
        const __m256i bytes = _mm256_packus_epi16(_mm256_packs_epi32(v[0], v[1]), _mm256_packs_epi32(v[2], v[3]));
        _mm256_storeu_si256((__m256i *)(out + p), _mm256_permutevar8x32_epi32(bytes, order));
    }
    row_codes_portable(row + p, k - p, depth - p, inverse, z, top, out + p);
}
#endif

static void choose_quantizer(row_range_fn *range, row_codes_fn *codes) {
#if defined(MMS_HAVE_X86_VARIANTS)
    const mms_kernel_level level = mms_kernels()->level;
    if (level == MMS_KERNEL_AVX2 || level == MMS_KERNEL_AVX512) {
        *range = row_range_avx2;
        *codes = row_codes_avx2;
        return;
    }
#endif
    *range = row_range_portable;
    *codes = row_codes_portable;
}

/// Plain C over the packed layout: one row of A against one panel at a time.
static void gemm_portable(size_t m, size_t n, size_t k, const uint8_t *qa, size_t ldq, const float *a_scales,
                          const int32_t *a_zeros, const int8_t *packed, const int32_t *column_sums,
                          const float *b_scales, const float *bias, int activation, float *c, size_t ldc,
                          int accumulate) {
    const size_t depth = mms_gemm_i8_depth(k);
    for (size_t j = 0; j < n; j += NR) {
        const size_t cols = n - j < NR ? n - j : NR;
        const int8_t *panel = packed + j * depth;
        for (size_t i = 0; i < m; i++) {
            const uint8_t *row = qa + i * ldq;
            int32_t acc[NR];
            for (size_t col = 0; col < NR; col++) acc[col] = 0;
            for (size_t g = 0; g < depth; g += 4) {
                const int8_t *bp = panel + g * NR;
                for (size_t col = 0; col < NR; col++) {
                    acc[col] += (int32_t)row[g] * bp[4 * col] + (int32_t)row[g + 1] * bp[4 * col + 1] +
                                (int32_t)row[g + 2] * bp[4 * col + 2] + (int32_t)row[g + 3] * bp[4 * col + 3];
                }
            }
            float *out = c + i * ldc + j;
            for (size_t col = 0; col < cols; col++) {
                const int32_t exact = acc[col] - a_zeros[i] * column_sums[j + col];
                float v = a_scales[i] * b_scales[j + col] * (float)exact;
                v += (accumulate ? out[col] : 0.0f) + (bias != NULL ? bias[j + col] : 0.0f);
                out[col] = mms_activate_scalar(v, activation);
            }
        }
    }
}

#if defined(__x86_64__)

#define VNNI __attribute__((target("avx512f,avx512bw,avx512dq,avx512vnni,fma")))
#define AVX2 __attribute__((target("avx2,fma")))

// MARK: AVX-512 VNNI: 8 rows × 32 columns (16 int32 accumulators of 16 lanes).

#define MR512 8

VNNI __attribute__((always_inline)) static inline void tile512(size_t depth, const uint8_t *qa, size_t ldq,
                                                               const int8_t *bp, const int rows, int cols,
                                                               const float *a_scales, const int32_t *a_zeros,
                                                               const int32_t *sums, const float *b_scales,
                                                               const float *bias, int activation, float *c,
                                                               size_t ldc, int accumulate) {
    __m512i acc[MR512][2];
    const uint8_t *row_of_a[MR512];
#pragma clang loop unroll(full)
    for (int r = 0; r < MR512; r++) {
        acc[r][0] = acc[r][1] = _mm512_setzero_si512();
        row_of_a[r] = qa + (size_t)(r < rows ? r : rows - 1) * ldq;
        // The tile's lines of C, fetched while the products run (a C too large for the
        // caches otherwise stalls every store on a miss).
        if (r < rows) {
            _mm_prefetch((const char *)(c + (size_t)r * ldc), _MM_HINT_T0);
            _mm_prefetch((const char *)(c + (size_t)r * ldc + 16), _MM_HINT_T0);
        }
    }
#pragma clang loop unroll_count(2)
    for (size_t g = 0; g < depth; g += 4) {
        const __m512i b0 = _mm512_loadu_si512(bp), b1 = _mm512_loadu_si512(bp + 64);
#pragma clang loop unroll(full)
        for (int r = 0; r < MR512; r++) {
            if (r < rows) {
                int32_t four;
                memcpy(&four, row_of_a[r] + g, 4);
                const __m512i x = _mm512_set1_epi32(four);
                acc[r][0] = _mm512_dpbusd_epi32(acc[r][0], x, b0);
                acc[r][1] = _mm512_dpbusd_epi32(acc[r][1], x, b1);
            }
        }
        bp += 4 * NR;
    }
    const __mmask16 m0 = cols >= 16 ? (__mmask16)0xFFFF : (__mmask16)((1u << cols) - 1u);
    const __mmask16 m1 = cols >= 32 ? (__mmask16)0xFFFF : cols <= 16 ? 0 : (__mmask16)((1u << (cols - 16)) - 1u);
    // Sums and scales are padded to whole panels: full loads.
    const __m512i s0 = _mm512_loadu_si512(sums), s1 = _mm512_loadu_si512(sums + 16);
    const __m512 w0 = _mm512_loadu_ps(b_scales), w1 = _mm512_loadu_ps(b_scales + 16);
    __m512 bias0 = _mm512_setzero_ps(), bias1 = _mm512_setzero_ps();
    if (bias != NULL) {
        bias0 = _mm512_maskz_loadu_ps(m0, bias);
        bias1 = _mm512_maskz_loadu_ps(m1, bias + 16);
    }
#pragma clang loop unroll(full)
    for (int r = 0; r < MR512; r++) {
        if (r < rows) {
            const __m512i z = _mm512_set1_epi32(a_zeros[r]);
            const __m512 sa = _mm512_set1_ps(a_scales[r]);
            const __m512i e0 = _mm512_sub_epi32(acc[r][0], _mm512_mullo_epi32(z, s0));
            const __m512i e1 = _mm512_sub_epi32(acc[r][1], _mm512_mullo_epi32(z, s1));
            __m512 x0 = _mm512_mul_ps(_mm512_mul_ps(sa, w0), _mm512_cvtepi32_ps(e0));
            __m512 x1 = _mm512_mul_ps(_mm512_mul_ps(sa, w1), _mm512_cvtepi32_ps(e1));
            float *row = c + (size_t)r * ldc;
            if (accumulate && cols == NR) {
                x0 = _mm512_add_ps(x0, _mm512_loadu_ps(row));
                x1 = _mm512_add_ps(x1, _mm512_loadu_ps(row + 16));
            } else if (accumulate) {
                x0 = _mm512_add_ps(x0, _mm512_maskz_loadu_ps(m0, row));
                x1 = _mm512_add_ps(x1, _mm512_maskz_loadu_ps(m1, row + 16));
            }
            x0 = _mm512_add_ps(x0, bias0);
            x1 = _mm512_add_ps(x1, bias1);
            if (activation != MMS_ACTIVATION_NONE) {
                x0 = mms_activate512(x0, activation);
                x1 = mms_activate512(x1, activation);
            }
            if (cols == NR) {
                _mm512_storeu_ps(row, x0);
                _mm512_storeu_ps(row + 16, x1);
            } else {
                _mm512_mask_storeu_ps(row, m0, x0);
                _mm512_mask_storeu_ps(row + 16, m1, x1);
            }
        }
    }
}

#define STRIP512(ROWS)                                                                                          \
    VNNI static void strip512_##ROWS(size_t n, size_t depth, size_t jc, size_t nc, const uint8_t *qa, size_t ldq, \
                                     const float *a_scales, const int32_t *a_zeros, const int8_t *packed,        \
                                     const int32_t *sums, const float *b_scales, const float *bias,              \
                                     int activation, float *c, size_t ldc, int accumulate) {                     \
        for (size_t j = jc; j < jc + nc; j += NR) {                                                              \
            const int cols = (int)(n - j < NR ? n - j : NR);                                                     \
            tile512(depth, qa, ldq, packed + j * depth, ROWS, cols, a_scales, a_zeros, sums + j, b_scales + j,  \
                    bias != NULL ? bias + j : NULL, activation, c + j, ldc, accumulate);                        \
        }                                                                                                        \
    }
STRIP512(1) STRIP512(2) STRIP512(3) STRIP512(4) STRIP512(5) STRIP512(6) STRIP512(7) STRIP512(8)
#undef STRIP512

// MARK: AVX2: 4 rows × 16 columns (a half panel; 8 int32 accumulators of 8 lanes).

#define MR256 4
#define HALF 16

AVX2 __attribute__((always_inline)) static inline void tile256(size_t depth, const uint8_t *qa, size_t ldq,
                                                               const int8_t *bp, const int rows, int cols,
                                                               const float *a_scales, const int32_t *a_zeros,
                                                               const int32_t *sums, const float *b_scales,
                                                               const float *bias, int activation, float *c,
                                                               size_t ldc, int accumulate) {
    __m256i acc[MR256][2];
    const uint8_t *row_of_a[MR256];
#pragma clang loop unroll(full)
    for (int r = 0; r < MR256; r++) {
        acc[r][0] = acc[r][1] = _mm256_setzero_si256();
        row_of_a[r] = qa + (size_t)(r < rows ? r : rows - 1) * ldq;
        if (r < rows) _mm_prefetch((const char *)(c + (size_t)r * ldc), _MM_HINT_T0);
    }
    const __m256i ones = _mm256_set1_epi16(1);
#pragma clang loop unroll_count(2)
    for (size_t g = 0; g < depth; g += 4) {
        const __m256i b0 = _mm256_loadu_si256((const __m256i *)bp);
        const __m256i b1 = _mm256_loadu_si256((const __m256i *)(bp + 32));
#pragma clang loop unroll(full)
        for (int r = 0; r < MR256; r++) {
            if (r < rows) {
                int32_t four;
                memcpy(&four, row_of_a[r] + g, 4);
                const __m256i x = _mm256_set1_epi32(four);
                // Codes ≤ 127: each int16 pair sum is at most 2·127·128 < 2^15, no saturation.
                acc[r][0] = _mm256_add_epi32(acc[r][0], _mm256_madd_epi16(_mm256_maddubs_epi16(x, b0), ones));
                acc[r][1] = _mm256_add_epi32(acc[r][1], _mm256_madd_epi16(_mm256_maddubs_epi16(x, b1), ones));
            }
        }
        bp += 4 * NR;
    }
    const __m256i index = _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7);
    const __m256i m0 = _mm256_cmpgt_epi32(_mm256_set1_epi32(cols), index);
    const __m256i m1 = _mm256_cmpgt_epi32(_mm256_set1_epi32(cols - 8), index);
    const __m256i s0 = _mm256_loadu_si256((const __m256i *)sums), s1 = _mm256_loadu_si256((const __m256i *)(sums + 8));
    const __m256 w0 = _mm256_loadu_ps(b_scales), w1 = _mm256_loadu_ps(b_scales + 8);
    __m256 bias0 = _mm256_setzero_ps(), bias1 = _mm256_setzero_ps();
    if (bias != NULL) {
        bias0 = _mm256_maskload_ps(bias, m0);
        bias1 = _mm256_maskload_ps(bias + 8, m1);
    }
#pragma clang loop unroll(full)
    for (int r = 0; r < MR256; r++) {
        if (r < rows) {
            const __m256i z = _mm256_set1_epi32(a_zeros[r]);
            const __m256 sa = _mm256_set1_ps(a_scales[r]);
            const __m256i e0 = _mm256_sub_epi32(acc[r][0], _mm256_mullo_epi32(z, s0));
            const __m256i e1 = _mm256_sub_epi32(acc[r][1], _mm256_mullo_epi32(z, s1));
            __m256 x0 = _mm256_mul_ps(_mm256_mul_ps(sa, w0), _mm256_cvtepi32_ps(e0));
            __m256 x1 = _mm256_mul_ps(_mm256_mul_ps(sa, w1), _mm256_cvtepi32_ps(e1));
            float *row = c + (size_t)r * ldc;
            if (accumulate && cols == HALF) {
                x0 = _mm256_add_ps(x0, _mm256_loadu_ps(row));
                x1 = _mm256_add_ps(x1, _mm256_loadu_ps(row + 8));
            } else if (accumulate) {
                x0 = _mm256_add_ps(x0, _mm256_maskload_ps(row, m0));
                x1 = _mm256_add_ps(x1, _mm256_maskload_ps(row + 8, m1));
            }
            x0 = _mm256_add_ps(x0, bias0);
            x1 = _mm256_add_ps(x1, bias1);
            if (activation != MMS_ACTIVATION_NONE) {
                x0 = mms_activate256(x0, activation);
                x1 = mms_activate256(x1, activation);
            }
            if (cols == HALF) {
                _mm256_storeu_ps(row, x0);
                _mm256_storeu_ps(row + 8, x1);
            } else {
                _mm256_maskstore_ps(row, m0, x0);
                _mm256_maskstore_ps(row + 8, m1, x1);
            }
        }
    }
}

#define STRIP256(ROWS)                                                                                          \
    AVX2 static void strip256_##ROWS(size_t n, size_t depth, size_t jc, size_t nc, const uint8_t *qa, size_t ldq, \
                                     const float *a_scales, const int32_t *a_zeros, const int8_t *packed,        \
                                     const int32_t *sums, const float *b_scales, const float *bias,              \
                                     int activation, float *c, size_t ldc, int accumulate) {                     \
        for (size_t j = jc; j < jc + nc; j += HALF) {                                                            \
            const int cols = (int)(n - j < HALF ? n - j : HALF);                                                 \
            const int8_t *bp = packed + (j - j % NR) * depth + (j % NR) * 4;                                     \
            tile256(depth, qa, ldq, bp, ROWS, cols, a_scales, a_zeros, sums + j, b_scales + j,                   \
                    bias != NULL ? bias + j : NULL, activation, c + j, ldc, accumulate);                        \
        }                                                                                                        \
    }
STRIP256(1) STRIP256(2) STRIP256(3) STRIP256(4)
#undef STRIP256

typedef void (*strip_fn)(size_t, size_t, size_t, size_t, const uint8_t *, size_t, const float *, const int32_t *,
                         const int8_t *, const int32_t *, const float *, const float *, int, float *, size_t, int);
static const strip_fn strips512[MR512 + 1] = {NULL, strip512_1, strip512_2, strip512_3, strip512_4,
                                              strip512_5, strip512_6, strip512_7, strip512_8};
static const strip_fn strips256[MR256 + 1] = {NULL, strip256_1, strip256_2, strip256_3, strip256_4};

/// Column blocks of packed B that fit BLOCK_BYTES, each met by every strip of A in turn.
static void gemm_blocked(const strip_fn *strips, size_t mr, size_t m, size_t n, size_t k, const uint8_t *qa,
                         size_t ldq, const float *a_scales, const int32_t *a_zeros, const int8_t *packed,
                         const int32_t *sums, const float *b_scales, const float *bias, int activation, float *c,
                         size_t ldc, int accumulate) {
    const size_t depth = mms_gemm_i8_depth(k);
    size_t block = BLOCK_BYTES / depth / NR * NR;
    if (block < NR) block = NR;
    for (size_t jc = 0; jc < n; jc += block) {
        const size_t nc = n - jc < block ? n - jc : block;
        for (size_t i = 0; i < m; i += mr) {
            const size_t rows = m - i < mr ? m - i : mr;
            strips[rows](n, depth, jc, nc, qa + i * ldq, ldq, a_scales + i, a_zeros + i, packed, sums, b_scales,
                         bias, activation, c + i * ldc, ldc, accumulate);
        }
    }
}
#endif

int mms_gemm_u8s8_packed_level(mms_kernel_level level, size_t m, size_t n, size_t k, const uint8_t *qa, size_t ldq,
                               const float *a_scales, const int32_t *a_zeros, const int8_t *packed,
                               const int32_t *column_sums, const float *b_scales, const float *bias, int activation,
                               float *c, size_t ldc, int accumulate) {
    if (mms_kernels_table(level) == NULL) return 0;
    if (m == 0 || n == 0) return 1;
    if (k == 0) {
        mms_sgemm_bias_only(m, n, bias, activation, c, ldc, accumulate);
        return 1;
    }
    switch (level) {
#if defined(MMS_HAVE_X86_VARIANTS)
    case MMS_KERNEL_AVX512:
        gemm_blocked(strips512, MR512, m, n, k, qa, ldq, a_scales, a_zeros, packed, column_sums, b_scales, bias,
                     activation, c, ldc, accumulate);
        return 1;
    case MMS_KERNEL_AVX2:
        gemm_blocked(strips256, MR256, m, n, k, qa, ldq, a_scales, a_zeros, packed, column_sums, b_scales, bias,
                     activation, c, ldc, accumulate);
        return 1;
#endif
    default:
        gemm_portable(m, n, k, qa, ldq, a_scales, a_zeros, packed, column_sums, b_scales, bias, activation, c, ldc,
                      accumulate);
        return 1;
    }
}
