// Hot numeric kernels for swift-multimodal-search, in C so that each can carry
// instruction-set-specific variants without unsafe compiler flags.
//
// Every kernel exists in portable C (written so a compiler can vectorize it,
// and always available) and in variants for one instruction set each: on
// x86-64 AVX2+FMA+F16C and AVX-512 (F, BW, VL, VNNI), on arm64 NEON and NEON
// with the dot-product extension (SDOT, which only the int8 kernels use). One
// variant table is chosen once per process, at first use, from what the CPU
// reports (`__builtin_cpu_supports` on x86-64; on arm64 the auxiliary vector on
// Linux and Android, `sysctlbyname` on Apple systems); the environment variable
// MMS_KERNELS (`portable`, `avx2`, `avx512`, `neon`, `neon_dotprod`) may lower
// that choice, so a test run can force the portable code path. A name that
// belongs to the other architecture, or that the CPU cannot run, is ignored
// (the choice is only ever lowered). Tests can also reach every supported table
// directly through `mms_kernels_table(level)` without touching the
// process-wide choice.
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

/// An instruction-set level. The raw values are stable. Within one
/// architecture a higher value is a wider instruction set (x86-64: 0 < 1 < 2;
/// arm64: 0 < 3 < 4); values of different architectures do not compare.
typedef enum mms_kernel_level {
    MMS_KERNEL_PORTABLE = 0,
    /// x86-64: AVX2, FMA, F16C.
    MMS_KERNEL_AVX2 = 1,
    /// x86-64: AVX-512 F, BW, VL, DQ, VNNI (and the AVX2 set).
    MMS_KERNEL_AVX512 = 2,
    /// arm64: Advanced SIMD (NEON), with its half-precision conversions.
    MMS_KERNEL_NEON = 3,
    /// arm64: NEON plus the Armv8.2 dot-product extension (SDOT) for int8.
    MMS_KERNEL_NEON_DOTPROD = 4,
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
typedef void (*mms_activation_f32_fn)(float *x, size_t n, int activation);
typedef void (*mms_softmax_f32_fn)(float *x, size_t n);
typedef void (*mms_attention_f32_fn)(const float *q, const float *k, const float *v, size_t stride, size_t n,
                                     size_t d, float scale, int causal, float *scratch, float *out, size_t ldo);

/// An element-wise activation, as applied by `activation_f32` and the GEMM
/// epilogue. The raw values are stable.
typedef enum mms_activation {
    MMS_ACTIVATION_NONE = 0,
    /// ½x(1 + erf(x/√2)), erf by Abramowitz & Stegun 7.1.26.
    MMS_ACTIVATION_GELU = 1,
    /// ½x(1 + tanh(√(2/π)(x + 0.044715x³))).
    MMS_ACTIVATION_GELU_TANH = 2,
    /// x·σ(1.702x) (OpenAI CLIP's QuickGELU).
    MMS_ACTIVATION_QUICK_GELU = 3,
} mms_activation;

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

    /// x[i] = f(x[i]) in place for an `mms_activation` f (e^x within 2 ulp,
    /// erf within 1.5·10⁻⁷; see kernels_math.h).
    mms_activation_f32_fn activation_f32;
    /// Softmax of x[0..<n] in place, the maximum subtracted first (n = 0: nothing).
    mms_softmax_f32_fn softmax_f32;
    /// Scaled dot-product attention of one sequence and head:
    /// out[i·ldo + c] = Σ_j softmax_j(scale · q_i·k_j) · v_j[c] for i, j < n, c < d,
    /// where row t of q, k and v starts at `t·stride` (they may sit in place in a
    /// fused projection). With `causal`, token i attends only to j ≤ i.
    /// `scratch` holds at least `mms_attention_scratch_count(n, d)` floats.
    mms_attention_f32_fn attention_f32;
} mms_kernel_table;

/// Floats of scratch `attention_f32` needs for `n` tokens of head width `d`.
static inline size_t mms_attention_scratch_count(size_t n, size_t d) {
    const size_t padded = (n + 15) & ~(size_t)15;
    return n * padded + d * padded + 16;
}

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
/// Hardware instructions where the CPU has them (SSE 4.2, Armv8 CRC32); MMS_KERNELS=portable
/// forces the table version, which gives identical results.
uint32_t mms_crc32c(uint32_t crc, const void *data, size_t n);
/// The table version, always available (for tests).
uint32_t mms_crc32c_portable(uint32_t crc, const void *data, size_t n);

/// C[m×n] = A[m×k]·Bᵀ (or C += A·Bᵀ when `accumulate`), B stored [n×k]
/// row-major, all row-major with the given row strides; single-threaded,
/// AVX-512 (B packed into a temporary first). Returns 1 when done, 0 when this
/// CPU (or MMS_KERNELS) rules out AVX-512 or memory is short — then nothing
/// was written and the caller uses BLAS.
int mms_sgemm_nt_avx512(size_t m, size_t n, size_t k, const float *a, size_t lda, const float *b, size_t ldb,
                        float *c, size_t ldc, int accumulate);

/// Columns per panel of a packed B (see `mms_sgemm_pack_b`).
#define MMS_SGEMM_PANEL 32

/// Floats a B of `n` rows and `k` columns occupies packed: n rounded up to
/// whole panels, times k.
static inline size_t mms_sgemm_packed_count(size_t n, size_t k) {
    return (n + MMS_SGEMM_PANEL - 1) / MMS_SGEMM_PANEL * MMS_SGEMM_PANEL * k;
}

/// Packs B [n×k] (row-major, row stride `ldb`; a linear layer's `[out, in]`
/// weight) for `mms_sgemm_nt_packed`: panel j holds rows 32j … 32j+31 of B
/// as a k × 32 row-major block (element (p, c) at `packed[32j·k + 32p + c]`),
/// rows past n zero. Columns `j0…` of the product (j0 a multiple of 32) read
/// the packed matrix from `packed + j0·k`. Portable C, and one layout for every
/// variant (portable, AVX2, AVX-512): a matrix packed anywhere serves them all.
void mms_sgemm_pack_b(size_t n, size_t k, const float *b, size_t ldb, float *packed);

/// Whether `mms_sgemm_nt_packed` runs on this CPU: AVX2 + FMA or AVX-512, not
/// ruled out by MMS_KERNELS (where only portable C runs, BLAS is faster).
int mms_sgemm_packed_available(void);

/// C[m×n] = act(A·Bᵀ + bias), or C = act(C + A·Bᵀ + bias) when `accumulate`,
/// with B packed by `mms_sgemm_pack_b` (`packed` may be offset to a panel, see
/// there), `bias` n floats or NULL, `activation` an `mms_activation`;
/// single-threaded, allocating nothing, on the process's kernel level: AVX-512
/// (8 × 32 register tiles) or AVX2 (6 × 16), B blocks kept in L2, A read in
/// place. Returns 1 when done, 0 when unavailable (see
/// `mms_sgemm_packed_available`) — then nothing was written.
int mms_sgemm_nt_packed(size_t m, size_t n, size_t k, const float *a, size_t lda, const float *packed,
                        const float *bias, int activation, float *c, size_t ldc, int accumulate);

/// `mms_sgemm_nt_packed` on the kernel of `level` (portable C included: it
/// runs everywhere), whatever MMS_KERNELS says. Returns 0, writing nothing,
/// when this CPU lacks `level`.
int mms_sgemm_nt_packed_level(mms_kernel_level level, size_t m, size_t n, size_t k, const float *a, size_t lda,
                              const float *packed, const float *bias, int activation, float *c, size_t ldc,
                              int accumulate);

/// Columns per panel of an INT8 B packed by `mms_gemm_i8_pack_b`.
#define MMS_GEMM_I8_PANEL 32

/// k rounded up to a whole group of four: the packed depth of an INT8 B and
/// the least row stride of quantised activations.
static inline size_t mms_gemm_i8_depth(size_t k) { return (k + 3) & ~(size_t)3; }

/// n rounded up to whole panels: the length of the column sums, and of the
/// per-column scales `mms_gemm_u8s8_packed` reads (padding scales may be anything finite).
static inline size_t mms_gemm_i8_padded_columns(size_t n) {
    return (n + MMS_GEMM_I8_PANEL - 1) / MMS_GEMM_I8_PANEL * MMS_GEMM_I8_PANEL;
}

/// Bytes of an INT8 B of `n` rows and `k` columns packed.
static inline size_t mms_gemm_i8_packed_bytes(size_t n, size_t k) {
    return mms_gemm_i8_padded_columns(n) * mms_gemm_i8_depth(k);
}

/// Packs INT8 B [n×k] (a linear layer's `[out, in]` codes, row stride `ldb`)
/// for `mms_gemm_u8s8_packed`: panel j (rows 32j … 32j+31 of B) starts at
/// `packed + 32j·depth`; in it, k runs in groups of four and group g holds,
/// for each of the 32 columns c, B[32j+c][4g…4g+3] at `128g + 4c`. Rows past
/// n and steps past k are zero. Writes `mms_gemm_i8_padded_columns(n)`
/// column sums Σ_p B[j][p] (0 for padding). Portable C, one layout for every variant.
void mms_gemm_i8_pack_b(size_t n, size_t k, const int8_t *b, size_t ldb, int8_t *packed, int32_t *column_sums);

/// The largest activation code `mms_gemm_u8s8_packed_level(level, …)` takes:
/// 255, or 127 at the AVX2 level (whose `vpmaddubsw` would saturate on a pair
/// of larger codes).
int mms_gemm_i8_activation_max(mms_kernel_level level);

/// Quantises rows of A [m×k] (row stride `lda`) for the INT8 GEMM, each row
/// on its own (dynamic, asymmetric): with lo = min(0, min row), hi = max(0,
/// max row), scale = (hi − lo)/max_code, zero point z = rint(−lo/scale) and
/// code = clamp(rint(x/scale) + z, 0, max_code), so x ≈ scale·(code − z) and
/// 0 is exact. Writes codes to `q` (row stride `ldq` ≥ `mms_gemm_i8_depth(k)`,
/// zero past k), `scales[i]` and `zero_points[i]`. An all-zero row gets codes 0,
/// z 0. `max_code` is `mms_gemm_i8_activation_max` of the level that will multiply.
void mms_gemm_i8_quantize_a(size_t m, size_t k, const float *a, size_t lda, int max_code, uint8_t *q, size_t ldq,
                            float *scales, int32_t *zero_points);

/// C[m×n] = act(sa_i·sb_j·(Σ_p u[i][p]·w[j][p] − z_i·colsum_j) + bias_j), or
/// that plus C first when `accumulate`: a linear layer on INT8 weights `w`
/// (packed with their column sums by `mms_gemm_i8_pack_b`, one scale `sb_j`
/// per output column in `b_scales`, padded to whole panels) and activations
/// quantised by `mms_gemm_i8_quantize_a` (codes `qa`, row stride `ldq`,
/// `a_scales`, `a_zeros`). The integer sums are exact; only the epilogue rounds.
/// For columns from j0 (a multiple of 32) pass `packed + j0·depth` and the
/// sums, scales and bias from j0. Single-threaded, allocating nothing:
/// AVX-512 VNNI `vpdpbusd` (8 × 32 tiles), AVX2 `vpmaddubsw` + `vpmaddwd`
/// (4 × 16; codes ≤ 127), or portable C, as `level` says. Returns 0, writing
/// nothing, when this CPU lacks `level`.
int mms_gemm_u8s8_packed_level(mms_kernel_level level, size_t m, size_t n, size_t k, const uint8_t *qa, size_t ldq,
                               const float *a_scales, const int32_t *a_zeros, const int8_t *packed,
                               const int32_t *column_sums, const float *b_scales, const float *bias, int activation,
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
