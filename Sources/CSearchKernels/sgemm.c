// The packed single-precision GEMM's shared parts: packing B (portable: one
// layout serves every variant), the choice of variant, and the portable
// kernel, which computes the same products in plain C for tests and for CPUs
// without a vector variant. The AVX2 and AVX-512 kernels are in
// sgemm_avx2.c and sgemm_avx512.c.

#include <stdlib.h>
#include <string.h>
#include "kernels_internal.h"
#include "kernels_math.h"

#define NR MMS_SGEMM_PANEL

void mms_sgemm_pack_b(size_t n, size_t k, const float *b, size_t ldb, float *packed) {
    for (size_t j = 0; j < n; j += NR) {
        float *panel = packed + j * k;
        for (size_t col = 0; col < NR; col++) {
            if (j + col < n) {
                const float *src = b + (j + col) * ldb;
                // Strided scalar stores: vectorised, this loop becomes a scatter, slower still.
#if defined(__clang__)
#pragma clang loop vectorize(disable)
#endif
                for (size_t p = 0; p < k; p++) panel[p * NR + col] = src[p];
            } else {
                for (size_t p = 0; p < k; p++) panel[p * NR + col] = 0;
            }
        }
    }
}

void mms_sgemm_bias_only(size_t m, size_t n, const float *bias, int activation, float *c, size_t ldc,
                         int accumulate) {
    for (size_t i = 0; i < m; i++) {
        float *row = c + i * ldc;
        for (size_t j = 0; j < n; j++) {
            const float v = (accumulate ? row[j] : 0.0f) + (bias != NULL ? bias[j] : 0.0f);
            row[j] = mms_activate_scalar(v, activation);
        }
    }
}

/// Plain C over the packed layout: one row of C against one panel at a time,
/// 32 accumulators the compiler can keep in vector registers.
static void sgemm_portable(size_t m, size_t n, size_t k, const float *a, size_t lda, const float *packed,
                           const float *bias, int activation, float *c, size_t ldc, int accumulate) {
    for (size_t j = 0; j < n; j += NR) {
        const size_t cols = n - j < NR ? n - j : NR;
        const float *panel = packed + j * k;
        for (size_t i = 0; i < m; i++) {
            const float *row = a + i * lda;
            float acc[NR];
            for (size_t col = 0; col < NR; col++) acc[col] = 0;
            for (size_t p = 0; p < k; p++) {
                const float x = row[p];
                const float *bp = panel + p * NR;
                for (size_t col = 0; col < NR; col++) acc[col] += x * bp[col];
            }
            float *out = c + i * ldc + j;
            for (size_t col = 0; col < cols; col++) {
                float v = (accumulate ? out[col] : 0.0f) + acc[col] + (bias != NULL ? bias[j + col] : 0.0f);
                out[col] = mms_activate_scalar(v, activation);
            }
        }
    }
}

/// The process's kernel level: the packed GEMM runs at AVX2 or AVX-512 (the callers use BLAS otherwise).
static mms_kernel_level active_level(void) { return mms_kernels()->level; }

int mms_sgemm_packed_available(void) {
    const mms_kernel_level level = active_level();
    return level == MMS_KERNEL_AVX2 || level == MMS_KERNEL_AVX512;
}

int mms_sgemm_nt_packed_level(mms_kernel_level level, size_t m, size_t n, size_t k, const float *a, size_t lda,
                              const float *packed, const float *bias, int activation, float *c, size_t ldc,
                              int accumulate) {
    if (mms_kernels_table(level) == NULL) return 0;
    if (m == 0 || n == 0) return 1;
    if (k == 0) {
        mms_sgemm_bias_only(m, n, bias, activation, c, ldc, accumulate);
        return 1;
    }
    switch (level) {
#if defined(MMS_HAVE_X86_VARIANTS)
    case MMS_KERNEL_AVX512:
        mms_sgemm_avx512(m, n, k, a, lda, packed, bias, activation, c, ldc, accumulate);
        return 1;
    case MMS_KERNEL_AVX2:
        mms_sgemm_avx2(m, n, k, a, lda, packed, bias, activation, c, ldc, accumulate);
        return 1;
#endif
    default:
        sgemm_portable(m, n, k, a, lda, packed, bias, activation, c, ldc, accumulate);
        return 1;
    }
}

int mms_sgemm_nt_packed(size_t m, size_t n, size_t k, const float *a, size_t lda, const float *packed,
                        const float *bias, int activation, float *c, size_t ldc, int accumulate) {
    if (!mms_sgemm_packed_available()) return 0;
    return mms_sgemm_nt_packed_level(active_level(), m, n, k, a, lda, packed, bias, activation, c, ldc, accumulate);
}

/// `aligned_alloc` of `count` floats on a 64-byte boundary (the size rounded up, as C11 asks).
static float *allocate_floats(size_t count) {
    return aligned_alloc(64, (count * sizeof(float) + 63) & ~(size_t)63);
}

int mms_sgemm_nt_avx512(size_t m, size_t n, size_t k, const float *a, size_t lda, const float *b, size_t ldb,
                        float *c, size_t ldc, int accumulate) {
    if (active_level() != MMS_KERNEL_AVX512) return 0;
    if (m == 0 || n == 0 || k == 0) return mms_sgemm_nt_packed(m, n, k, a, lda, b, NULL, 0, c, ldc, accumulate);
    float *packed = allocate_floats(mms_sgemm_packed_count(n, k));
    if (packed == NULL) return 0;
    mms_sgemm_pack_b(n, k, b, ldb, packed);
    const int done = mms_sgemm_nt_packed(m, n, k, a, lda, packed, NULL, MMS_ACTIVATION_NONE, c, ldc, accumulate);
    free(packed);
    return done;
}
