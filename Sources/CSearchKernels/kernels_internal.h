// Shared between the kernel variants and the dispatcher; not part of the API.
#ifndef SEARCH_KERNELS_INTERNAL_H
#define SEARCH_KERNELS_INTERNAL_H

#include "search_kernels.h"

#include <math.h>

/// a·b / (‖a‖‖b‖) from the three sums; 0 when either norm is 0.
static inline float mms_cosine_from_parts(float dot, float norm_a_sq, float norm_b_sq) {
    if (norm_a_sq <= 0 || norm_b_sq <= 0) return 0;
    return dot / (sqrtf(norm_a_sq) * sqrtf(norm_b_sq));
}

/// One value's int8 code: clamp(rint(v · inverse_scale), −127, 127), NaN → 0.
static inline int8_t mms_quantize_one(float value, float inverse_scale) {
    float v = value * inverse_scale;
    if (v != v) return 0;
    if (v > 127.0f) v = 127.0f;
    if (v < -127.0f) v = -127.0f;
    return (int8_t)rintf(v);
}

// The transformer kernels in portable C (transformer_portable.c) and their
// AVX2, AVX-512 and NEON forms (transformer_avx2.c, transformer_avx512.c,
// transformer_neon.c).
void mms_portable_activation_f32(float *x, size_t n, int activation);
void mms_portable_softmax_f32(float *x, size_t n);
void mms_portable_attention_f32(const float *q, const float *k, const float *v, size_t stride, size_t n, size_t d,
                                float scale, int causal, float *scratch, float *out, size_t ldo);

/// C (+)= bias and activation alone (k = 0), shared by the GEMMs.
void mms_sgemm_bias_only(size_t m, size_t n, const float *bias, int activation, float *c, size_t ldc,
                         int accumulate);

extern const mms_kernel_table mms_portable_table;
#if defined(__x86_64__) || defined(_M_X64)
#define MMS_HAVE_X86_VARIANTS 1
extern const mms_kernel_table mms_avx2_table;
extern const mms_kernel_table mms_avx512_table;
// The packed GEMM's kernels (m, n, k > 0; see mms_sgemm_nt_packed).
void mms_sgemm_avx2(size_t m, size_t n, size_t k, const float *a, size_t lda, const float *packed,
                    const float *bias, int activation, float *c, size_t ldc, int accumulate);
void mms_sgemm_avx512(size_t m, size_t n, size_t k, const float *a, size_t lda, const float *packed,
                      const float *bias, int activation, float *c, size_t ldc, int accumulate);
void mms_avx2_activation_f32(float *x, size_t n, int activation);
void mms_avx2_softmax_f32(float *x, size_t n);
void mms_avx2_attention_f32(const float *q, const float *k, const float *v, size_t stride, size_t n, size_t d,
                            float scale, int causal, float *scratch, float *out, size_t ldo);
void mms_avx512_activation_f32(float *x, size_t n, int activation);
void mms_avx512_softmax_f32(float *x, size_t n);
void mms_avx512_attention_f32(const float *q, const float *k, const float *v, size_t stride, size_t n, size_t d,
                              float scale, int causal, float *scratch, float *out, size_t ldo);
#endif

#if defined(__aarch64__)
#define MMS_HAVE_ARM_VARIANTS 1
extern const mms_kernel_table mms_neon_table;
extern const mms_kernel_table mms_neon_dotprod_table;
void mms_neon_activation_f32(float *x, size_t n, int activation);
void mms_neon_softmax_f32(float *x, size_t n);
void mms_neon_attention_f32(const float *q, const float *k, const float *v, size_t stride, size_t n, size_t d,
                            float scale, int causal, float *scratch, float *out, size_t ldo);

/// What this arm64 CPU offers, as `MMS_ARM_*` bits; asked of the system once.
#define MMS_ARM_NEON 1u
#define MMS_ARM_DOTPROD 2u
#define MMS_ARM_CRC32 4u
unsigned mms_arm_features(void);

// The dot-product extension in a target attribute. GCC 12 declares vdotq_s32
// for "arch=armv8.2-a+dotprod" and refuses to inline it into a function that
// asks for "+dotprod" alone; clang (SwiftPM's compiler, Apple's included)
// takes the bare feature name, which adds SDOT without restating the rest of
// the target CPU's features.
#if defined(__clang__)
#define MMS_TARGET_DOTPROD __attribute__((target("dotprod")))
#else
#define MMS_TARGET_DOTPROD __attribute__((target("arch=armv8.2-a+dotprod")))
#endif
#endif

#endif
