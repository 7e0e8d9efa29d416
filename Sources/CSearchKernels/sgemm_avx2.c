// Single-precision GEMM for AVX2 + FMA over the same packed B as the AVX-512
// kernel (32-column panels, see mms_sgemm_pack_b): C[m×n] (+)= A·Bᵀ with the
// bias and activation applied as C is written, A read in place.
//
// Sixteen 256-bit registers hold a 6 × 16 tile (12 accumulators, two B
// vectors, one broadcast): each 32-column panel is walked as two 16-column
// halves, the k-th step of a half reading one 64-byte line of the panel. B
// is walked in KC × NC blocks kept in L2 while every 6-row strip of A passes
// over them; strips of fewer rows run kernels compiled for their row count.
//
// Few rows of A (a short text, one query: m ≤ FEW_ROWS) make the product a
// stream of B from memory, at most four strips reading each line. There the
// blocks are one panel over the whole depth (read from memory by the first
// strip, from L2 by the others), and a first half prefetches both lines of
// the panel a few steps ahead: walking one half skips every other line, which
// the hardware prefetchers did not fetch in time. Measured on Zen 4 with
// MiniLM's four shapes at 10 rows, weights cycled through 6 layers (42 MB):
// 34–38 → 50–51 GFLOP/s; the prefetch alone gave 45; the AVX-512 kernel,
// whose step reads both lines, runs 52–57 and gains nothing from it. At 300
// rows the prefetch costs nothing measurable (91–105 GFLOP/s a shape either way).

#include "kernels_internal.h"
#include "kernels_math.h"

#if defined(__x86_64__)
#include <immintrin.h>

#define MR 6
#define NR MMS_SGEMM_PANEL
#define HALF 16
#define KC 256
#define NC 256
/// Panel steps ahead that a first half prefetches both lines of (its own and the second half's).
#define PREFETCH_STEPS 16
/// Up to this many rows of A, each panel is walked over the whole depth by every strip in turn.
#define FEW_ROWS 24
#define AVX2 __attribute__((target("avx2,fma")))

/// Lanes [0, count) of eight set (count clamped to 0…8), for masked loads and stores.
AVX2 static inline __m256i lanes(int count) {
    const __m256i index = _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7);
    return _mm256_cmpgt_epi32(_mm256_set1_epi32(count), index);
}

/// One ROWS × 16 tile of a half panel (`bp` at the half's first column, rows NR floats
/// apart): acc = A rows · B over kc, then C ← [C +] acc [+ bias], activated, for the first
/// `cols` (≤ 16) columns. ROWS is a constant at every call.
AVX2 __attribute__((always_inline)) static inline void micro_kernel(int kc, const float *a, size_t lda,
                                                                    const float *bp, float *c, size_t ldc,
                                                                    int load_c, const float *bias, int activation,
                                                                    const int rows, int cols, int first_half) {
    __m256 acc[MR][2];
    const float *row_of_a[MR];
#pragma clang loop unroll(full)
    for (int r = 0; r < MR; r++) {
        acc[r][0] = acc[r][1] = _mm256_setzero_ps();
        row_of_a[r] = a + (size_t)(r < rows ? r : rows - 1) * lda;
    }
#pragma clang loop unroll_count(2)
    for (int p = 0; p < kc; p++) {
        if (first_half) {
            _mm_prefetch((const char *)(bp + PREFETCH_STEPS * NR), _MM_HINT_T0);
            _mm_prefetch((const char *)(bp + PREFETCH_STEPS * NR + HALF), _MM_HINT_T0);
        }
        const __m256 b0 = _mm256_loadu_ps(bp), b1 = _mm256_loadu_ps(bp + 8);
#pragma clang loop unroll(full)
        for (int r = 0; r < MR; r++) {
            if (r < rows) {
                const __m256 x = _mm256_broadcast_ss(row_of_a[r] + p);
                acc[r][0] = _mm256_fmadd_ps(x, b0, acc[r][0]);
                acc[r][1] = _mm256_fmadd_ps(x, b1, acc[r][1]);
            }
        }
        bp += NR;
    }
    const __m256i m0 = lanes(cols), m1 = lanes(cols - 8);
    __m256 bias0 = _mm256_setzero_ps(), bias1 = _mm256_setzero_ps();
    if (bias != NULL) {
        bias0 = _mm256_maskload_ps(bias, m0);
        bias1 = _mm256_maskload_ps(bias + 8, m1);
    }
#pragma clang loop unroll(full)
    for (int r = 0; r < MR; r++) {
        if (r < rows) {
            float *row = c + (size_t)r * ldc;
            __m256 x0 = acc[r][0], x1 = acc[r][1];
            if (load_c && cols == HALF) {
                x0 = _mm256_add_ps(_mm256_loadu_ps(row), x0);
                x1 = _mm256_add_ps(_mm256_loadu_ps(row + 8), x1);
            } else if (load_c) {
                x0 = _mm256_add_ps(_mm256_maskload_ps(row, m0), x0);
                x1 = _mm256_add_ps(_mm256_maskload_ps(row + 8, m1), x1);
            }
            if (bias != NULL) {
                x0 = _mm256_add_ps(x0, bias0);
                x1 = _mm256_add_ps(x1, bias1);
            }
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

/// One strip of ROWS rows of A against columns [jc, jc + nc) of one KC block.
#define STRIP(ROWS)                                                                                             \
    AVX2 static void strip##ROWS(size_t n, size_t k, int kc, size_t pc, size_t jc, size_t nc, const float *a,   \
                                 size_t lda, const float *packed, const float *bias, int activation, float *c,  \
                                 size_t ldc, int load_c) {                                                      \
        for (size_t j = jc; j < jc + nc; j += HALF) {                                                           \
            const int cols = (int)(n - j < HALF ? n - j : HALF);                                                \
            const float *bp = packed + (j - j % NR) * k + pc * NR + j % NR;                                     \
            micro_kernel(kc, a + pc, lda, bp, c + j, ldc, load_c, bias != NULL ? bias + j : NULL, activation,   \
                         ROWS, cols, j % NR == 0);                                                              \
        }                                                                                                       \
    }
STRIP(1) STRIP(2) STRIP(3) STRIP(4) STRIP(5) STRIP(6)
#undef STRIP

typedef void (*strip_fn)(size_t, size_t, int, size_t, size_t, size_t, const float *, size_t, const float *,
                         const float *, int, float *, size_t, int);
static const strip_fn strips[MR + 1] = {NULL, strip1, strip2, strip3, strip4, strip5, strip6};

AVX2 void mms_sgemm_avx2(size_t m, size_t n, size_t k, const float *a, size_t lda, const float *packed,
                         const float *bias, int activation, float *c, size_t ldc, int accumulate) {
    const int few = m <= FEW_ROWS;
    const size_t kc_block = few ? k : KC, nc_block = few ? NR : NC;
    for (size_t pc = 0; pc < k; pc += kc_block) {
        const int kc = (int)(k - pc < kc_block ? k - pc : kc_block);
        const int first = pc == 0, last = pc + (size_t)kc >= k;
        for (size_t jc = 0; jc < n; jc += nc_block) {
            const size_t nc = n - jc < nc_block ? n - jc : nc_block;
            for (size_t i = 0; i < m; i += MR) {
                const size_t rows = m - i < MR ? m - i : MR;
                strips[rows](n, k, kc, pc, jc, nc, a + i * lda, lda, packed, first ? bias : NULL,
                             last ? activation : MMS_ACTIVATION_NONE, c + i * ldc, ldc, accumulate || !first);
            }
        }
    }
}
#endif
