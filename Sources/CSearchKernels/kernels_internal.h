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

extern const mms_kernel_table mms_portable_table;
#if defined(__x86_64__) || defined(_M_X64)
#define MMS_HAVE_X86_VARIANTS 1
extern const mms_kernel_table mms_avx2_table;
extern const mms_kernel_table mms_avx512_table;
#endif

#endif
