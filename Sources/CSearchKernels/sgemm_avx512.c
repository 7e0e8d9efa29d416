// Single-precision GEMM for AVX-512, for the shape the encoders spend their
// time in: C[m×n] (+)= A[m×k] · Bᵀ, with B stored [n×k] row-major (a linear
// layer's weight), plus a bias and an activation applied as C is written.
//
// B is packed into 32-column panels (k × 32, see mms_sgemm_pack_b) — once, at
// load time, for a layer's weight. A is read in place: an 8 × 32 micro-kernel
// broadcasts one element from each of 8 rows of A (8 sequential streams, a
// KC-deep slice of them staying in L1 across a B block) and keeps 16
// accumulators in registers, two 512-bit FMAs per broadcast. B is walked in
// KC × NC blocks (512 KB) that stay in L2 while every 8-row strip of A passes
// over them. Measured on Zen 5 (ViT-B/32's four projection shapes, m = 800):
// 245–260 GFLOP/s of the core's 264. Packing B on every call, with its panels
// streamed from L3, gave 170–200; packing A as well (k-major 8-row panels)
// cost 2–8% more than reading it in place.
//
// Packing, the choice of variant and the portable kernel are in sgemm.c.
// A strip of fewer than 8 rows (a sequence's last tokens) runs a kernel
// compiled for its row count, so the padding rows cost no arithmetic.

#include "kernels_internal.h"
#include "kernels_math.h"

#if defined(__x86_64__)
#include <immintrin.h>

#define MR 8
#define NR MMS_SGEMM_PANEL
#define KC 256
#define NC 512
#define AVX512 __attribute__((target("avx512f,avx512dq,fma")))

/// One ROWS × 32 tile: acc = A rows · B panel over kc, then C ← [C +] acc [+ bias], activated,
/// for the first `cols` columns (B is zero-padded past `cols`). ROWS is a constant at every call.
AVX512 __attribute__((always_inline)) static inline void micro_kernel(
    int kc, const float *a, size_t lda, const float *bp, float *c, size_t ldc, int load_c, const float *bias,
    int activation, const int rows, int cols) {
    __m512 acc[MR][2];
    const float *row_of_a[MR];
#pragma clang loop unroll(full)
    for (int r = 0; r < MR; r++) {
        acc[r][0] = acc[r][1] = _mm512_setzero_ps();
        row_of_a[r] = a + (size_t)(r < rows ? r : rows - 1) * lda;
    }
    // Two steps per iteration: 2% faster than one on Zen 5, four no better.
#pragma clang loop unroll_count(2)
    for (int p = 0; p < kc; p++) {
        const __m512 b0 = _mm512_loadu_ps(bp), b1 = _mm512_loadu_ps(bp + 16);
#pragma clang loop unroll(full)
        for (int r = 0; r < MR; r++) {
            if (r < rows) {
                const __m512 x = _mm512_set1_ps(row_of_a[r][p]);
                acc[r][0] = _mm512_fmadd_ps(x, b0, acc[r][0]);
                acc[r][1] = _mm512_fmadd_ps(x, b1, acc[r][1]);
            }
        }
        bp += NR;
    }
    const __mmask16 m0 = cols >= 16 ? (__mmask16)0xFFFF : (__mmask16)((1u << cols) - 1u);
    const __mmask16 m1 = cols >= 32 ? (__mmask16)0xFFFF : cols <= 16 ? 0 : (__mmask16)((1u << (cols - 16)) - 1u);
    __m512 bias0 = _mm512_setzero_ps(), bias1 = _mm512_setzero_ps();
    if (bias != NULL) {
        bias0 = _mm512_maskz_loadu_ps(m0, bias);
        bias1 = _mm512_maskz_loadu_ps(m1, bias + 16);
    }
    // Masked loads and stores cost several times plain ones on Zen 4/5: only edge tiles use them.
#pragma clang loop unroll(full)
    for (int r = 0; r < MR; r++) {
        if (r < rows) {
            float *row = c + (size_t)r * ldc;
            __m512 x0 = acc[r][0], x1 = acc[r][1];
            if (load_c && cols == NR) {
                x0 = _mm512_add_ps(_mm512_loadu_ps(row), x0);
                x1 = _mm512_add_ps(_mm512_loadu_ps(row + 16), x1);
            } else if (load_c) {
                x0 = _mm512_add_ps(_mm512_maskz_loadu_ps(m0, row), x0);
                x1 = _mm512_add_ps(_mm512_maskz_loadu_ps(m1, row + 16), x1);
            }
            if (bias != NULL) {
                x0 = _mm512_add_ps(x0, bias0);
                x1 = _mm512_add_ps(x1, bias1);
            }
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

/// One strip of ROWS rows of A against columns [jc, jc + nc) of one KC block.
#define STRIP(ROWS)                                                                                              \
    AVX512 static void strip##ROWS(size_t n, size_t k, int kc, size_t pc, size_t jc, size_t nc, const float *a,  \
                                   size_t lda, const float *packed, const float *bias, int activation, float *c, \
                                   size_t ldc, int load_c) {                                                     \
        for (size_t j = jc; j < jc + nc; j += NR) {                                                              \
            const int cols = (int)(n - j < NR ? n - j : NR);                                                     \
            micro_kernel(kc, a + pc, lda, packed + j * k + pc * NR, c + j, ldc, load_c,                          \
                         bias != NULL ? bias + j : NULL, activation, ROWS, cols);                                \
        }                                                                                                        \
    }
STRIP(1) STRIP(2) STRIP(3) STRIP(4) STRIP(5) STRIP(6) STRIP(7) STRIP(8)
#undef STRIP

typedef void (*strip_fn)(size_t, size_t, int, size_t, size_t, size_t, const float *, size_t, const float *,
                         const float *, int, float *, size_t, int);
static const strip_fn strips[MR + 1] = {NULL, strip1, strip2, strip3, strip4, strip5, strip6, strip7, strip8};

AVX512 void mms_sgemm_avx512(size_t m, size_t n, size_t k, const float *a, size_t lda, const float *packed,
                             const float *bias, int activation, float *c, size_t ldc, int accumulate) {
    for (size_t pc = 0; pc < k; pc += KC) {
        const int kc = (int)(k - pc < KC ? k - pc : KC);
        const int first = pc == 0, last = pc + (size_t)kc >= k;
        for (size_t jc = 0; jc < n; jc += NC) {
            const size_t nc = n - jc < NC ? n - jc : NC;
            for (size_t i = 0; i < m; i += MR) {
                const size_t rows = m - i < MR ? m - i : MR;
                strips[rows](n, k, kc, pc, jc, nc, a + i * lda, lda, packed, first ? bias : NULL,
                             last ? activation : MMS_ACTIVATION_NONE, c + i * ldc, ldc, accumulate || !first);
            }
        }
    }
}
#endif
