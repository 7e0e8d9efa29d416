// Single-precision GEMM for AVX-512, for the shape the encoders spend their
// time in: C[m×n] (+)= A[m×k] · Bᵀ, with B stored [n×k] row-major (a linear
// layer's weight). Goto-style blocking: B is packed into 32-column panels
// (k × 32), A into 8-row panels (k × 8), and an 8 × 32 micro-kernel keeps 16
// accumulators in registers, two 512-bit FMAs per broadcast row of A.
// Returns 0 when this CPU lacks AVX-512 (the caller then uses BLAS).

#include <stdlib.h>
#include <string.h>
#include "search_kernels.h"

#if defined(__x86_64__)
#include <immintrin.h>

#define MR 8
#define NR 32
#define KC 256
#define MC 128
#define NC 2048

#define AVX512 __attribute__((target("avx512f,avx512dq,fma")))

AVX512 static void micro_kernel(int kc, const float *ap, const float *bp, float *c, size_t ldc, int accumulate,
                                int rows, int cols) {
    __m512 acc[MR][2];
    for (int r = 0; r < MR; r++) acc[r][0] = acc[r][1] = _mm512_setzero_ps();
    for (int p = 0; p < kc; p++) {
        const __m512 b0 = _mm512_load_ps(bp), b1 = _mm512_load_ps(bp + 16);
        for (int r = 0; r < MR; r++) {
            const __m512 a = _mm512_set1_ps(ap[r]);
            acc[r][0] = _mm512_fmadd_ps(a, b0, acc[r][0]);
            acc[r][1] = _mm512_fmadd_ps(a, b1, acc[r][1]);
        }
        ap += MR;
        bp += NR;
    }
    const __mmask16 m0 = cols >= 16 ? (__mmask16)0xFFFF : (__mmask16)((1u << cols) - 1u);
    const __mmask16 m1 = cols >= 32 ? (__mmask16)0xFFFF : cols <= 16 ? 0 : (__mmask16)((1u << (cols - 16)) - 1u);
    for (int r = 0; r < rows; r++) {
        float *row = c + (size_t)r * ldc;
        __m512 x0 = acc[r][0], x1 = acc[r][1];
        if (accumulate) {
            x0 = _mm512_add_ps(_mm512_maskz_loadu_ps(m0, row), x0);
            x1 = _mm512_add_ps(_mm512_maskz_loadu_ps(m1, row + 16), x1);
        }
        _mm512_mask_storeu_ps(row, m0, x0);
        _mm512_mask_storeu_ps(row + 16, m1, x1);
    }
}

AVX512 static void gemm_nt(size_t m, size_t n, size_t k, const float *a, size_t lda, const float *b, size_t ldb,
                           float *c, size_t ldc, int accumulate, float *bpack, float *apack) {
    for (size_t jc = 0; jc < n; jc += NC) {
        const size_t nc = n - jc < NC ? n - jc : NC;
        for (size_t pc = 0; pc < k; pc += KC) {
            const int kc = (int)(k - pc < KC ? k - pc : KC);
            // Pack B: panel j holds columns jc+j … jc+j+31 of Bᵀ (rows of B), k-major; zero past n.
            for (size_t j = 0; j < nc; j += NR) {
                float *panel = bpack + j * (size_t)kc;
                for (int col = 0; col < NR; col++) {
                    if (j + col < nc) {
                        const float *src = b + (jc + j + col) * ldb + pc;
                        for (int p = 0; p < kc; p++) panel[p * NR + col] = src[p];
                    } else {
                        for (int p = 0; p < kc; p++) panel[p * NR + col] = 0;
                    }
                }
            }
            const int add = accumulate || pc > 0;
            for (size_t ic = 0; ic < m; ic += MC) {
                const size_t mc = m - ic < MC ? m - ic : MC;
                // Pack A: panel i holds rows ic+i … ic+i+7, k-major; zero past m.
                for (size_t i = 0; i < mc; i += MR) {
                    float *panel = apack + i * (size_t)kc;
                    for (int r = 0; r < MR; r++) {
                        if (i + r < mc) {
                            const float *src = a + (ic + i + r) * lda + pc;
                            for (int p = 0; p < kc; p++) panel[p * MR + r] = src[p];
                        } else {
                            for (int p = 0; p < kc; p++) panel[p * MR + r] = 0;
                        }
                    }
                }
                for (size_t j = 0; j < nc; j += NR) {
                    const int cols = (int)(nc - j < NR ? nc - j : NR);
                    for (size_t i = 0; i < mc; i += MR) {
                        const int rows = (int)(mc - i < MR ? mc - i : MR);
                        micro_kernel(kc, apack + i * (size_t)kc, bpack + j * (size_t)kc,
                                     c + (ic + i) * ldc + jc + j, ldc, add, rows, cols);
                    }
                }
            }
        }
    }
}
#endif

int mms_sgemm_nt_avx512(size_t m, size_t n, size_t k, const float *a, size_t lda, const float *b, size_t ldb,
                        float *c, size_t ldc, int accumulate) {
#if defined(__x86_64__)
    if (mms_kernels()->level < MMS_KERNEL_AVX512) return 0;
    if (m == 0 || n == 0) return 1;
    if (k == 0) {
        if (!accumulate) for (size_t i = 0; i < m; i++) memset(c + i * ldc, 0, n * sizeof(float));
        return 1;
    }
    float *bpack = aligned_alloc(64, sizeof(float) * KC * (NC + NR));
    float *apack = aligned_alloc(64, sizeof(float) * KC * (MC + MR));
    if (bpack == NULL || apack == NULL) {
        free(bpack);
        free(apack);
        return 0;
    }
    gemm_nt(m, n, k, a, lda, b, ldb, c, ldc, accumulate, bpack, apack);
    free(bpack);
    free(apack);
    return 1;
#else
    (void)m; (void)n; (void)k; (void)a; (void)lda; (void)b; (void)ldb; (void)c; (void)ldc; (void)accumulate;
    return 0;
#endif
}
