// Hot numeric kernels for swift-multimodal-search, in C so that each can carry
// instruction-set-specific variants without unsafe compiler flags.
//
// Every kernel exists in up to three variants: portable C (written so a compiler
// can vectorize it, and always available), AVX2+FMA+F16C, and AVX-512
// (F, BW, VL, VNNI). One variant table is chosen once per process, at first
// use, by `__builtin_cpu_supports`; the environment variable MMS_KERNELS
// (`portable`, `avx2`, `avx512`) may lower that choice, so a test run can force
// the portable code path. Tests can also reach every supported table directly
// through `mms_kernels_table(level)` without touching the process-wide choice.
//
// Conventions:
// - Lengths are element counts; pointers need no particular alignment.
// - Half-precision values are IEEE 754 binary16 bit patterns in uint16_t.
// - Reductions may reassociate: results match a double-precision reference
//   within a few float ulps times sqrt(n), not bit for bit across variants.
// - `*_many` kernels score one query against `count` rows that start `stride`
//   elements apart, writing one float per row into `out`.

#ifndef SEARCH_KERNELS_H
#define SEARCH_KERNELS_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/// An instruction-set level. The raw values are stable.
typedef enum mms_kernel_level {
    MMS_KERNEL_PORTABLE = 0,
    MMS_KERNEL_AVX2 = 1,
    MMS_KERNEL_AVX512 = 2,
} mms_kernel_level;

typedef float (*mms_f32_pair_fn)(const float *a, const float *b, size_t n);
typedef void (*mms_f32_many_fn)(const float *query, const float *rows, size_t stride,
                                size_t count, size_t n, float *out);
typedef float (*mms_f32_f16_pair_fn)(const float *a, const uint16_t *b, size_t n);
typedef void (*mms_f32_f16_many_fn)(const float *query, const uint16_t *rows, size_t stride,
                                    size_t count, size_t n, float *out);
typedef int32_t (*mms_i8_pair_fn)(const int8_t *a, const int8_t *b, size_t n);
typedef void (*mms_i8_many_fn)(const int8_t *query, const int8_t *rows, size_t stride,
                               size_t count, size_t n, int32_t *out);
typedef void (*mms_f32_to_f16_fn)(const float *src, uint16_t *dst, size_t n);
typedef void (*mms_f16_to_f32_fn)(const uint16_t *src, float *dst, size_t n);
typedef void (*mms_quantize_i8_fn)(const float *src, size_t n, float inverse_scale, int8_t *dst);
typedef void (*mms_dequantize_i8_fn)(const int8_t *src, size_t n, float scale, float *dst);
typedef float (*mms_reduce_f32_fn)(const float *x, size_t n);

/// One variant of every kernel. Obtain with `mms_kernels()` or
/// `mms_kernels_table(level)`; tables are immutable and live for the process.
typedef struct mms_kernel_table {
    mms_kernel_level level;
    const char *name;

    /// Σ a[i]·b[i].
    mms_f32_pair_fn dot_f32;
    /// Σ (a[i]−b[i])².
    mms_f32_pair_fn l2sq_f32;
    /// a·b / (‖a‖‖b‖); 0 when either norm is 0.
    mms_f32_pair_fn cosine_f32;
    /// Σ x[i]; Σ x[i]² (for norms and bandwidth scans).
    mms_reduce_f32_fn sum_f32;
    mms_reduce_f32_fn sumsq_f32;
    /// Max |x[i]| (0 for n = 0; NaN if any element is NaN).
    mms_reduce_f32_fn maxabs_f32;

    mms_f32_many_fn dot_f32_many;
    mms_f32_many_fn l2sq_f32_many;
    mms_f32_many_fn cosine_f32_many;

    /// Σ a[i]·half(b[i]).
    mms_f32_f16_pair_fn dot_f32_f16;
    mms_f32_f16_many_fn dot_f32_f16_many;
    /// Σ (a[i]−half(b[i]))².
    mms_f32_f16_pair_fn l2sq_f32_f16;

    /// Σ a[i]·b[i] over the full int8 range, exact in int32 for n < 2^17.
    mms_i8_pair_fn dot_i8;
    mms_i8_many_fn dot_i8_many;

    /// Round to nearest even; overflow to ±Inf; NaN stays NaN (quieted).
    mms_f32_to_f16_fn f32_to_f16;
    /// Exact.
    mms_f16_to_f32_fn f16_to_f32;

    /// dst[i] = clamp(rint(src[i]·inverse_scale), −127, 127); NaN becomes 0.
    mms_quantize_i8_fn quantize_i8;
    /// dst[i] = src[i]·scale.
    mms_dequantize_i8_fn dequantize_i8;
} mms_kernel_table;

/// The highest level this CPU supports.
mms_kernel_level mms_kernels_best_level(void);

/// The table chosen for this process: the best supported level, lowered by
/// MMS_KERNELS if set. Chosen once; thread-safe.
const mms_kernel_table *mms_kernels(void);

/// The table for `level`, or NULL when this CPU (or this build) lacks it.
const mms_kernel_table *mms_kernels_table(mms_kernel_level level);

/// Scalar conversions, bit exact, used by tests and by code off the hot path.
uint16_t mms_f32_to_f16_scalar(float value);
float mms_f16_to_f32_scalar(uint16_t bits);

/// CRC-32C (Castagnoli) of `n` bytes, continuing from `crc` (0 to start):
/// `mms_crc32c(mms_crc32c(0, a, n), b, m)` is the CRC of `a` then `b`.
/// Hardware instructions where present (SSE 4.2, ARMv8 CRC); MMS_KERNELS=portable
/// forces the table version, which gives identical results.
uint32_t mms_crc32c(uint32_t crc, const void *data, size_t n);
/// The table version, always available (for tests).
uint32_t mms_crc32c_portable(uint32_t crc, const void *data, size_t n);

/// C[m×n] = A[m×k]·Bᵀ (or C += A·Bᵀ when `accumulate`), B stored [n×k]
/// row-major, all row-major with the given row strides; single-threaded,
/// AVX-512. Returns 1 when done, 0 when this CPU (or MMS_KERNELS) rules out
/// AVX-512 or memory is short — then nothing was written and the caller
/// uses BLAS.
int mms_sgemm_nt_avx512(size_t m, size_t n, size_t k, const float *a, size_t lda, const float *b, size_t ldb,
                        float *c, size_t ldc, int accumulate);

/// Prefetch the cache lines of `bytes` bytes starting at `address` into L1.
static inline void mms_prefetch(const void *address, size_t bytes) {
#if defined(__GNUC__) || defined(__clang__)
    const char *p = (const char *)address;
    for (size_t offset = 0; offset < bytes; offset += 64) {
        __builtin_prefetch(p + offset, 0, 3);
    }
#else
    (void)address;
    (void)bytes;
#endif
}

#ifdef __cplusplus
}
#endif

#endif // SEARCH_KERNELS_H
