// A C test harness for the CSearchKernels target, without Swift: it builds
// with any C compiler for any CPU (scripts/test-arm64-kernels.sh cross-compiles
// it for arm64 and runs it under qemu-user, and also runs it natively), and
// checks every kernel of every level the CPU supports against double-precision
// or exact references: odd lengths and tails, misaligned buffers, int8
// extremes, every half value, NaN and infinity, writes past the end.
//
// Usage: harness [--dispatch-only] [--expect-levels a,b,...] [--expect-best NAME] [--expect-active NAME]
//   --dispatch-only  check which tables exist and which one MMS_KERNELS chose, not the kernels
//   --expect-levels  the level names this CPU must offer, no more and no fewer
//   --expect-best    the name of mms_kernels_best_level()'s table
//   --expect-active  the name of mms_kernels()'s table (after MMS_KERNELS)
// The last line is "harness: N passed, M failed"; the exit status is 1 on any failure.

#include <float.h>
#include <math.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "search_kernels.h"

// MARK: - Bookkeeping

static long passed = 0, failed = 0;
static const char *context = "";

#define CHECK(condition, ...)                                  \
    do {                                                       \
        if (condition) {                                       \
            passed++;                                          \
        } else {                                               \
            failed++;                                          \
            if (failed <= 40) {                                \
                printf("FAIL [%s] %s:%d: ", context, __FILE__, __LINE__); \
                printf(__VA_ARGS__);                           \
                printf("\n");                                  \
            }                                                  \
        }                                                      \
    } while (0)

static uint64_t rng_state = 0x9E3779B97F4A7C15ull;

static void seed(uint64_t s) { rng_state = s * 0x9E3779B97F4A7C15ull + 0x2545F4914F6CDD1Dull; }

static uint64_t next_u64(void) {
    rng_state ^= rng_state >> 12;
    rng_state ^= rng_state << 25;
    rng_state ^= rng_state >> 27;
    return rng_state * 0x2545F4914F6CDD1Dull;
}

/// Uniform in [lo, hi).
static float uniform(float lo, float hi) { return lo + (hi - lo) * (float)((next_u64() >> 40) * 0x1.0p-24); }

static int8_t random_i8(void) { return (int8_t)(next_u64() >> 56); }

static float bits_to_float(uint32_t bits) {
    float f;
    memcpy(&f, &bits, 4);
    return f;
}

static uint32_t float_to_bits(float f) {
    uint32_t bits;
    memcpy(&bits, &f, 4);
    return bits;
}

/// Allowed error of an n-term float sum whose terms' magnitudes add to `magnitude`
/// (the same bound the Swift tests use: 4·n·ε/2 relative to Σ|terms|).
static double reduction_tolerance(size_t n, double magnitude) {
    return 4.0 * (double)(n > 0 ? n : 1) * (FLT_EPSILON / 2) * magnitude + 1e-30;
}

/// A float array starting `shift` elements past a 64-byte boundary, so vector
/// loads see every alignment. Free with `free_shifted`.
static float *shifted_floats(size_t n, size_t shift, void **block) {
    *block = aligned_alloc(64, ((n + shift + 16) * sizeof(float) + 63) & ~(size_t)63);
    return (float *)*block + shift;
}

static const size_t lengths[] = {0, 1, 2, 3, 4, 5, 7, 8, 9, 12, 15, 16, 17, 31, 32, 33,
                                 63, 64, 65, 127, 128, 129, 384, 511, 512, 513, 768, 1024};
#define LENGTH_COUNT (sizeof lengths / sizeof lengths[0])
static const size_t shifts[] = {0, 1, 3};

// MARK: - Float reductions

static void check_reductions(const mms_kernel_table *t) {
    for (size_t li = 0; li < LENGTH_COUNT; li++) {
        const size_t n = lengths[li];
        for (size_t si = 0; si < 3; si++) {
            void *ba, *bb;
            float *a = shifted_floats(n, shifts[si], &ba), *b = shifted_floats(n, shifts[si] + 1, &bb);
            seed(n * 7 + si);
            for (size_t i = 0; i < n; i++) {
                a[i] = uniform(-1, 1);
                b[i] = uniform(-1, 1);
            }
            double dot = 0, dot_mag = 0, l2 = 0, aa = 0, bb2 = 0, sum = 0, abs_sum = 0, max_abs = 0;
            for (size_t i = 0; i < n; i++) {
                const double x = a[i], y = b[i];
                dot += x * y;
                dot_mag += fabs(x * y);
                l2 += (x - y) * (x - y);
                aa += x * x;
                bb2 += y * y;
                sum += x;
                abs_sum += fabs(x);
                if (fabs(x) > max_abs) max_abs = fabs(x);
            }
            const double cosine = aa > 0 && bb2 > 0 ? dot / (sqrt(aa) * sqrt(bb2)) : 0;
            const double got_dot = t->dot_f32(a, b, n);
            CHECK(fabs(got_dot - dot) <= reduction_tolerance(n, dot_mag), "dot n=%zu shift=%zu: %.9g vs %.9g", n,
                  shifts[si], got_dot, dot);
            const double got_l2 = t->l2sq_f32(a, b, n);
            CHECK(fabs(got_l2 - l2) <= reduction_tolerance(n, 2 * l2), "l2 n=%zu: %.9g vs %.9g", n, got_l2, l2);
            const double got_cos = t->cosine_f32(a, b, n);
            // Three reductions divided: 1e-5 is ~100 float ulps at 1.
            CHECK(fabs(got_cos - cosine) <= 1e-5, "cosine n=%zu: %.9g vs %.9g", n, got_cos, cosine);
            const double got_sum = t->sum_f32(a, n);
            CHECK(fabs(got_sum - sum) <= reduction_tolerance(n, abs_sum), "sum n=%zu: %.9g vs %.9g", n, got_sum, sum);
            const double got_sq = t->sumsq_f32(a, n);
            CHECK(fabs(got_sq - aa) <= reduction_tolerance(n, aa), "sumsq n=%zu: %.9g vs %.9g", n, got_sq, aa);
            CHECK((double)t->maxabs_f32(a, n) == max_abs, "maxabs n=%zu", n);
            free(ba);
            free(bb);
        }
    }
}

static void check_non_finite(const mms_kernel_table *t) {
    // A NaN or infinity in the vector body and in every tail position.
    for (size_t position = 0; position < 41; position++) {
        float a[41], b[41];
        for (int i = 0; i < 41; i++) a[i] = b[i] = 1;
        a[position] = NAN;
        CHECK(isnan(t->dot_f32(a, b, 41)), "dot with NaN at %zu", position);
        CHECK(isnan(t->l2sq_f32(a, b, 41)), "l2 with NaN at %zu", position);
        CHECK(isnan(t->sum_f32(a, 41)), "sum with NaN at %zu", position);
        CHECK(isnan(t->maxabs_f32(a, 41)), "maxabs with NaN at %zu", position);
        a[position] = -INFINITY;
        b[position] = -2;
        CHECK(t->dot_f32(a, b, 41) == INFINITY, "dot with -inf·-2 at %zu", position);
        CHECK(t->maxabs_f32(a, 41) == INFINITY, "maxabs with -inf at %zu", position);
    }
    float zero[20] = {0}, one[20];
    for (int i = 0; i < 20; i++) one[i] = 1;
    CHECK(t->cosine_f32(zero, one, 20) == 0, "cosine with a zero vector");
    CHECK(t->cosine_f32(one, zero, 20) == 0, "cosine with a zero vector");
    CHECK(t->maxabs_f32(one, 0) == 0, "maxabs of nothing");
}

// MARK: - One query against many rows

static void check_many(const mms_kernel_table *t) {
    static const size_t many_lengths[] = {1, 3, 4, 7, 8, 16, 17, 64, 384, 513};
    for (size_t li = 0; li < sizeof many_lengths / sizeof many_lengths[0]; li++) {
        const size_t n = many_lengths[li], count = 9, stride = n + 5;
        void *bq, *br;
        float *q = shifted_floats(n, 1, &bq), *rows = shifted_floats(count * stride, 2, &br);
        seed(n * 31);
        for (size_t i = 0; i < n; i++) q[i] = uniform(-1, 1);
        for (size_t i = 0; i < count * stride; i++) rows[i] = uniform(-1, 1);
        float out[10];
        for (int metric = 0; metric < 3; metric++) {
            for (int i = 0; i < 10; i++) out[i] = -12345;
            if (metric == 0) t->dot_f32_many(q, rows, stride, count, n, out);
            if (metric == 1) t->l2sq_f32_many(q, rows, stride, count, n, out);
            if (metric == 2) t->cosine_f32_many(q, rows, stride, count, n, out);
            CHECK(out[count] == -12345, "metric %d n=%zu wrote past the last row", metric, n);
            for (size_t r = 0; r < count; r++) {
                const float *row = rows + r * stride;
                double dot = 0, mag = 0, l2 = 0, qq = 0, rr = 0;
                for (size_t i = 0; i < n; i++) {
                    dot += (double)q[i] * row[i];
                    mag += fabs((double)q[i] * row[i]);
                    l2 += ((double)q[i] - row[i]) * ((double)q[i] - row[i]);
                    qq += (double)q[i] * q[i];
                    rr += (double)row[i] * row[i];
                }
                double expected, tolerance;
                if (metric == 0) {
                    expected = dot;
                    tolerance = reduction_tolerance(n, mag);
                } else if (metric == 1) {
                    expected = l2;
                    tolerance = reduction_tolerance(n, 2 * l2);
                } else {
                    expected = dot / (sqrt(qq) * sqrt(rr));
                    tolerance = 1e-5;
                }
                CHECK(fabs(out[r] - expected) <= tolerance, "metric %d n=%zu row %zu: %.9g vs %.9g", metric, n, r,
                      out[r], expected);
            }
        }
        out[0] = -12345;
        t->dot_f32_many(q, rows, stride, 0, n, out);
        t->cosine_f32_many(q, rows, stride, 0, n, out);
        CHECK(out[0] == -12345, "a scan of no rows wrote");
        free(bq);
        free(br);
    }
}

// MARK: - Half precision

/// The value of a half by its definition, in double.
static double half_value(uint16_t h) {
    const int sign = h >> 15, exponent = (h >> 10) & 31, mantissa = h & 1023;
    double v;
    if (exponent == 0) v = ldexp(mantissa, -24);
    else if (exponent == 31) v = mantissa ? NAN : INFINITY;
    else v = ldexp(1024 + mantissa, exponent - 25);
    return sign ? -v : v;
}

static void check_half_widening(const mms_kernel_table *t) {
    uint16_t *all = malloc(65536 * sizeof(uint16_t));
    float *wide = malloc((65536 + 1) * sizeof(float));
    for (uint32_t i = 0; i < 65536; i++) all[i] = (uint16_t)i;
    wide[65536] = -12345;
    t->f16_to_f32(all, wide, 65536);
    long wrong = 0;
    for (uint32_t i = 0; i < 65536; i++) {
        const double expected = half_value((uint16_t)i);
        const uint32_t bits = float_to_bits(wide[i]), scalar = float_to_bits(mms_f16_to_f32_scalar((uint16_t)i));
        int ok = bits == scalar;
        if (isnan(expected)) {
            // Quiet NaN, sign and payload kept.
            ok = ok && isnan(wide[i]) && (bits >> 31) == (i >> 15) && (bits & 0x400000u) &&
                 ((bits >> 13) & 0x3ffu) == ((i & 0x3ffu) | 0x200u);
        } else {
            ok = ok && (double)wide[i] == expected && !signbit(wide[i]) == !signbit(expected);
        }
        if (!ok) wrong++;
    }
    CHECK(wrong == 0, "%ld of the 65,536 halves widened wrongly", wrong);
    CHECK(wide[65536] == -12345, "f16_to_f32 wrote past the end");
    // Every short length, for the tails.
    for (size_t n = 0; n < 20; n++) {
        float out[21];
        for (int i = 0; i < 21; i++) out[i] = -12345;
        t->f16_to_f32(all + 0x3bf0 + n, out, n);
        int ok = out[n] == -12345;
        for (size_t i = 0; i < n; i++) ok = ok && out[i] == mms_f16_to_f32_scalar(all[0x3bf0 + n + i]);
        CHECK(ok, "f16_to_f32 of %zu halves", n);
    }
    free(all);
    free(wide);
}

/// Whether `h` is the half nearest to finite `x`, ties to even, overflow to infinity.
static int is_nearest_half(float x, uint16_t h) {
    const double v = x, magnitude = fabs(v);
    if ((h & 0x8000u) != (signbit(x) ? 0x8000u : 0)) return 0;
    const uint16_t m = h & 0x7fffu;
    if (magnitude >= 65520.0) return m == 0x7c00u;
    if (m >= 0x7c00u) return 0;
    const double here = fabs(half_value(m) - magnitude);
    if (m > 0 && fabs(half_value((uint16_t)(m - 1)) - magnitude) < here) return 0;
    if (m < 0x7bffu && fabs(half_value((uint16_t)(m + 1)) - magnitude) < here) return 0;
    // A tie: the even neighbour.
    if ((m > 0 && fabs(half_value((uint16_t)(m - 1)) - magnitude) == here) ||
        (m < 0x7bffu && fabs(half_value((uint16_t)(m + 1)) - magnitude) == here)) {
        return (m & 1u) == 0;
    }
    return 1;
}

static void check_half_narrowing(const mms_kernel_table *t) {
    // Ties and their neighbours at every half, the edges of the range, NaNs, and random bit patterns.
    const size_t count = 3 * 0x7c00 + 64 + 40000;
    float *x = malloc(count * sizeof(float));
    size_t k = 0;
    for (uint32_t h = 0; h < 0x7c00u; h++) {
        const double mid = (half_value((uint16_t)h) + half_value((uint16_t)(h + 1))) / 2;  // exact in float
        const float f = (float)mid;
        x[k++] = (h & 1) ? f : -f;
        x[k++] = nextafterf(f, 0);
        x[k++] = -nextafterf(f, INFINITY);
    }
    const uint32_t specials[] = {0x00000000u, 0x80000000u, 0x7f800000u, 0xff800000u, 0x7fc00000u, 0xffc00001u,
                                 0x7f800001u, 0x7fbfffffu, 0xff801234u, 0x477fe000u, 0x477ff000u, 0x477fefffu,
                                 0x47800000u, 0x33000000u, 0x33000001u, 0x32ffffffu, 0x387fe000u, 0x387ff000u,
                                 0x38800000u, 0x00000001u, 0x807fffffu, 0x7f7fffffu, 0x3f800000u, 0xbf801000u};
    for (size_t i = 0; i < sizeof specials / sizeof specials[0]; i++) x[k++] = bits_to_float(specials[i]);
    seed(77);
    while (k < count) x[k++] = bits_to_float((uint32_t)(next_u64() >> 32));
    uint16_t *out = malloc((count + 1) * sizeof(uint16_t));
    out[count] = 0xABCD;
    t->f32_to_f16(x, out, count);
    long wrong = 0;
    for (size_t i = 0; i < count; i++) {
        const uint16_t scalar = mms_f32_to_f16_scalar(x[i]);
        int ok = out[i] == scalar;
        if (isnan(x[i])) {
            const uint32_t bits = float_to_bits(x[i]);
            ok = ok && (out[i] & 0x7c00u) == 0x7c00u && (out[i] & 0x200u) &&
                 (out[i] & 0x8000u) == ((bits >> 16) & 0x8000u) && (out[i] & 0x1ffu) == ((bits >> 13) & 0x1ffu);
        } else {
            ok = ok && is_nearest_half(x[i], out[i]);
        }
        if (!ok) {
            if (wrong < 5) printf("  f32_to_f16(%a = 0x%08x) = 0x%04x, scalar 0x%04x\n", x[i], float_to_bits(x[i]),
                                  out[i], scalar);
            wrong++;
        }
    }
    CHECK(wrong == 0, "%ld of %zu floats narrowed wrongly", wrong, count);
    CHECK(out[count] == 0xABCD, "f32_to_f16 wrote past the end");
    for (size_t n = 0; n < 20; n++) {
        uint16_t h[21];
        for (int i = 0; i < 21; i++) h[i] = 0xABCD;
        t->f32_to_f16(x + 5 + n, h, n);
        int ok = h[n] == 0xABCD;
        for (size_t i = 0; i < n; i++) ok = ok && h[i] == mms_f32_to_f16_scalar(x[5 + n + i]);
        CHECK(ok, "f32_to_f16 of %zu floats", n);
    }
    free(x);
    free(out);
}

static void check_mixed_half(const mms_kernel_table *t) {
    for (size_t li = 0; li < LENGTH_COUNT; li++) {
        const size_t n = lengths[li];
        for (size_t si = 0; si < 3; si++) {
            void *ba, *bh;
            float *a = shifted_floats(n, shifts[si], &ba);
            bh = malloc((n + 8) * sizeof(uint16_t) * 5 + 16);
            uint16_t *h = (uint16_t *)bh + shifts[si] + 1;
            seed(n * 101 + si);
            for (size_t i = 0; i < n; i++) a[i] = uniform(-1, 1);
            for (size_t i = 0; i < 5 * n; i++) h[i] = mms_f32_to_f16_scalar(uniform(-1, 1));
            double dot = 0, mag = 0, l2 = 0;
            for (size_t i = 0; i < n; i++) {
                const double x = a[i], y = mms_f16_to_f32_scalar(h[i]);
                dot += x * y;
                mag += fabs(x * y);
                l2 += (x - y) * (x - y);
            }
            const double got = t->dot_f32_f16(a, h, n);
            CHECK(fabs(got - dot) <= reduction_tolerance(n, mag), "f32·f16 n=%zu: %.9g vs %.9g", n, got, dot);
            const double got_l2 = t->l2sq_f32_f16(a, h, n);
            CHECK(fabs(got_l2 - l2) <= reduction_tolerance(n, 2 * l2), "f32-f16 l2 n=%zu: %.9g vs %.9g", n, got_l2,
                  l2);
            // Five rows `n` halves apart.
            float out[6];
            out[5] = -12345;
            t->dot_f32_f16_many(a, h, n, 5, n, out);
            CHECK(out[5] == -12345, "f32·f16 many wrote past the last row");
            for (size_t r = 0; r < 5; r++) {
                double e = 0, m = 0;
                for (size_t i = 0; i < n; i++) {
                    e += (double)a[i] * mms_f16_to_f32_scalar(h[r * n + i]);
                    m += fabs((double)a[i] * mms_f16_to_f32_scalar(h[r * n + i]));
                }
                CHECK(fabs(out[r] - e) <= reduction_tolerance(n, m), "f32·f16 many n=%zu row %zu", n, r);
            }
            free(ba);
            free(bh);
        }
    }
}

// MARK: - int8

static int64_t exact_dot_i8(const int8_t *a, const int8_t *b, size_t n) {
    int64_t s = 0;
    for (size_t i = 0; i < n; i++) s += (int64_t)a[i] * b[i];
    return s;
}

static void check_int8(const mms_kernel_table *t) {
    for (size_t li = 0; li <= LENGTH_COUNT; li++) {
        const size_t n = li < LENGTH_COUNT ? lengths[li] : 4096;
        for (size_t si = 0; si < 3; si++) {
            int8_t *ba = malloc(n + 16), *bb = malloc(n + 16);
            int8_t *a = ba + shifts[si], *b = bb + shifts[si] + 2;
            seed(n * 13 + si);
            for (size_t i = 0; i < n; i++) {
                a[i] = random_i8();
                b[i] = random_i8();
            }
            // The extremes, in the body and in the tail.
            if (n > 2) {
                a[0] = -128, b[0] = -128;
                a[1] = 127, b[1] = -128;
                a[n - 1] = -128, b[n - 1] = -128;
            }
            const int64_t expected = exact_dot_i8(a, b, n);
            CHECK(t->dot_i8(a, b, n) == expected, "int8 dot n=%zu shift=%zu: %d vs %lld", n, shifts[si],
                  t->dot_i8(a, b, n), (long long)expected);
            int32_t one = 0;
            t->dot_i8_many(a, b, n, 1, n, &one);
            CHECK(one == expected, "int8 dot_many of one row n=%zu", n);
            free(ba);
            free(bb);
        }
    }
    // Every value pair's product: a sweeps −128…127 against each b in turn.
    {
        int8_t a[256], b[256];
        for (int i = 0; i < 256; i++) a[i] = (int8_t)(i - 128);
        long wrong = 0;
        for (int v = -128; v <= 127; v++) {
            for (int i = 0; i < 256; i++) b[i] = (int8_t)v;
            if (t->dot_i8(a, b, 256) != exact_dot_i8(a, b, 256)) wrong++;
            if (t->dot_i8(a + 1, b, 255) != exact_dot_i8(a + 1, b, 255)) wrong++;
        }
        CHECK(wrong == 0, "int8 dot against constant rows: %ld wrong", wrong);
    }
    // The documented limit, all −128 (the largest positive sum) and −128 · 127 (the most negative).
    {
        const size_t n = 131071;
        int8_t *a = malloc(n), *b = malloc(n);
        memset(a, 0x80, n);
        memset(b, 0x80, n);
        CHECK(t->dot_i8(a, b, n) == (int64_t)n * 16384, "int8 dot of %zu × (−128·−128)", n);
        memset(b, 127, n);
        CHECK(t->dot_i8(a, b, n) == -(int64_t)n * 16256, "int8 dot of %zu × (−128·127)", n);
        free(a);
        free(b);
    }
    // Many rows, odd stride.
    {
        const size_t n = 77, count = 7, stride = 83;
        int8_t *q = malloc(n + 1), *rows = malloc(count * stride + 3);
        seed(5);
        for (size_t i = 0; i < n; i++) q[i] = random_i8();
        for (size_t i = 0; i < count * stride + 3; i++) rows[i] = random_i8();
        int32_t out[8];
        out[count] = -12345;
        t->dot_i8_many(q, rows + 3, stride, count, n, out);
        int ok = out[count] == -12345;
        for (size_t r = 0; r < count; r++) ok = ok && out[r] == exact_dot_i8(q, rows + 3 + r * stride, n);
        CHECK(ok, "int8 dot_many over %zu rows", count);
        free(q);
        free(rows);
    }
}

// MARK: - Quantisation

static int8_t quantize_definition(float x, float inverse_scale) {
    const float v = x * inverse_scale;
    if (isnan(v)) return 0;
    const double clamped = v > 127 ? 127 : v < -127 ? -127 : v;
    return (int8_t)nearbyint(clamped);  // default rounding: nearest, ties to even
}

static void check_quantize(const mms_kernel_table *t) {
    const float specials[] = {0.5f, -0.5f, 1.5f, 2.5f, -2.5f, 1000, -1000, NAN, INFINITY, -INFINITY, 0, -0.0f};
    const float inverse_scale = 42.3f;
    for (size_t li = 0; li < LENGTH_COUNT; li++) {
        const size_t n = lengths[li];
        void *bx;
        float *x = shifted_floats(n, 1, &bx);
        seed(n + 5);
        for (size_t i = 0; i < n; i++) x[i] = uniform(-3, 3);
        // Specials spread over the body and the tail.
        for (size_t s = 0; s < 12 && n > 0; s++) x[(s * 7) % n] = specials[s] / ((s < 5) ? inverse_scale : 1);
        int8_t *codes = malloc(n + 1);
        codes[n] = 99;
        t->quantize_i8(x, n, inverse_scale, codes);
        int ok = codes[n] == 99;
        for (size_t i = 0; i < n; i++) ok = ok && codes[i] == quantize_definition(x[i], inverse_scale);
        CHECK(ok, "quantize n=%zu", n);
        for (size_t i = 0; i < n; i++) x[i] = (float)(int)(i % 9) - 4.5f;  // ties at scale 1
        t->quantize_i8(x, n, 1.0f, codes);
        ok = codes[n] == 99;
        for (size_t i = 0; i < n; i++) ok = ok && codes[i] == quantize_definition(x[i], 1.0f);
        CHECK(ok, "quantize ties n=%zu", n);
        for (size_t i = 0; i < n; i++) codes[i] = (int8_t)(i * 37 + 128);
        float *back = malloc((n + 1) * sizeof(float));
        back[n] = 7;
        t->dequantize_i8(codes, n, 0.25f, back);
        ok = back[n] == 7;
        for (size_t i = 0; i < n; i++) ok = ok && back[i] == (float)codes[i] * 0.25f;
        CHECK(ok, "dequantize n=%zu", n);
        free(bx);
        free(codes);
        free(back);
    }
}

// MARK: - Transformer kernels

static double activation_reference(double x, int activation) {
    switch (activation) {
    case MMS_ACTIVATION_GELU: return 0.5 * x * (1 + erf(x / sqrt(2.0)));
    case MMS_ACTIVATION_GELU_TANH: return 0.5 * x * (1 + tanh(sqrt(2 / M_PI) * (x + 0.044715 * x * x * x)));
    case MMS_ACTIVATION_QUICK_GELU: return x / (1 + exp(-1.702 * x));
    default: return x;
    }
}

static void check_activation(const mms_kernel_table *t) {
    enum { COUNT = 1010 };
    float values[COUNT];
    seed(41);
    for (int i = 0; i < 1000; i++) values[i] = uniform(-8, 8);
    const float extra[] = {0, -0.0f, 1e-6f, -1e-6f, 30, -30, 90, -90, 500, -500};
    memcpy(values + 1000, extra, sizeof extra);
    static const size_t counts[] = {0, 1, 3, 4, 5, 7, 8, 9, 15, 16, 17, COUNT};
    for (int activation = 0; activation <= 3; activation++) {
        for (size_t ci = 0; ci < sizeof counts / sizeof counts[0]; ci++) {
            const size_t n = counts[ci];
            float x[COUNT + 1];
            memcpy(x, values + (COUNT - n), n * sizeof(float));  // the extremes land in every tail
            x[n] = -12345;
            t->activation_f32(x, n, activation);
            long wrong = 0;
            for (size_t i = 0; i < n; i++) {
                const double v = values[COUNT - n + i], expected = activation_reference(v, activation);
                // erf within 1.5e-7 absolute, e^x within 2 ulp, then a few roundings.
                const double tolerance = 4e-7 * fmax(1, fabs(v)) + 4 * FLT_EPSILON * fabs(expected);
                if (!(fabs(x[i] - expected) <= tolerance)) {
                    if (wrong == 0) printf("  activation %d (%.9g) = %.9g, expected %.9g\n", activation, v, x[i], expected);
                    wrong++;
                }
            }
            CHECK(wrong == 0 && x[n] == -12345, "activation %d over %zu values: %ld wrong", activation, n, wrong);
        }
    }
}

static void check_softmax(const mms_kernel_table *t) {
    static const size_t counts[] = {1, 2, 3, 4, 5, 7, 8, 16, 17, 50, 77, 300};
    for (size_t ci = 0; ci < sizeof counts / sizeof counts[0]; ci++) {
        const size_t n = counts[ci];
        float x[301];
        double e[300], top = -INFINITY, total = 0;
        seed(n + 5);
        for (size_t i = 0; i < n; i++) x[i] = uniform(-12, 12);
        x[n / 2] = 1e30f;  // overflows e^x unless the maximum is subtracted first
        x[n] = -12345;
        for (size_t i = 0; i < n; i++) top = fmax(top, x[i]);
        for (size_t i = 0; i < n; i++) total += (e[i] = exp(x[i] - top));
        t->softmax_f32(x, n);
        double worst = 0, sum = 0;
        for (size_t i = 0; i < n; i++) {
            worst = fmax(worst, fabs(x[i] - e[i] / total));
            sum += x[i];
            if (isnan(x[i])) worst = INFINITY;
        }
        CHECK(worst <= 1e-6 && fabs(sum - 1) <= 1e-5 && x[n] == -12345, "softmax of %zu: max |Δ| %g, sum %.9g", n,
              worst, sum);
    }
    // The largest logit last, in the scalar tail.
    float y[7] = {1, 2, 3, 4, 5, 6, 50};
    t->softmax_f32(y, 7);
    CHECK(fabs(y[6] - 1) <= 1e-6 && y[0] >= 0, "softmax with the maximum in the tail: %.9g", y[6]);
}

static void check_attention(const mms_kernel_table *t) {
    static const size_t shapes[][2] = {{1, 64}, {4, 64}, {5, 16}, {50, 64}, {77, 64}, {33, 80},
                                       {20, 8}, {130, 32}, {7, 5},  {9, 3},   {6, 18}, {17, 1}};
    for (size_t si = 0; si < sizeof shapes / sizeof shapes[0]; si++) {
        const size_t n = shapes[si][0], d = shapes[si][1];
        const size_t heads = 3, width = heads * d, stride = 3 * width, ldo = width + 5;
        float *qkv = malloc(n * stride * sizeof(float));
        float *out = malloc(n * ldo * sizeof(float));
        float *scratch = malloc(mms_attention_scratch_count(n, d) * sizeof(float));
        double *logits = malloc(n * sizeof(double));
        seed(n * 131 + d);
        for (size_t i = 0; i < n * stride; i++) qkv[i] = uniform(-2, 2);
        const float scale = 1 / sqrtf((float)d);
        for (int causal = 0; causal <= 1; causal++) {
            for (size_t h = 0; h < heads; h += heads - 1) {
                const size_t q = h * d, k = width + h * d, v = 2 * width + h * d;
                for (size_t i = 0; i < n * ldo; i++) out[i] = NAN;
                for (size_t i = 0; i < mms_attention_scratch_count(n, d); i++) scratch[i] = NAN;
                t->attention_f32(qkv + q, qkv + k, qkv + v, stride, n, d, scale, causal, scratch, out, ldo);
                double worst = 0;
                int outside_written = 0;
                for (size_t i = 0; i < n; i++) {
                    const size_t limit = causal ? i + 1 : n;
                    double top = -INFINITY, total = 0;
                    for (size_t j = 0; j < limit; j++) {
                        double dot = 0;
                        for (size_t c = 0; c < d; c++) dot += (double)qkv[i * stride + q + c] * qkv[j * stride + k + c];
                        logits[j] = scale * dot;
                        top = fmax(top, logits[j]);
                    }
                    for (size_t j = 0; j < limit; j++) total += (logits[j] = exp(logits[j] - top));
                    for (size_t c = 0; c < d; c++) {
                        double expected = 0;
                        for (size_t j = 0; j < limit; j++) expected += logits[j] / total * qkv[j * stride + v + c];
                        const double error = fabs(out[i * ldo + c] - expected);
                        worst = isnan(error) ? INFINITY : fmax(worst, error);
                    }
                    for (size_t c = d; c < ldo && i * ldo + c < n * ldo; c++) {
                        if (!isnan(out[i * ldo + c])) outside_written = 1;
                    }
                }
                // Values within ±2, weights summing to 1: d- and n-term float sums stay near 1e-6.
                CHECK(worst <= 2e-5, "attention n=%zu d=%zu causal=%d head %zu: max |Δ| %g", n, d, causal, h, worst);
                CHECK(!outside_written, "attention n=%zu d=%zu wrote past the head's columns", n, d);
            }
        }
        free(qkv);
        free(out);
        free(scratch);
        free(logits);
    }
}

// MARK: - Not per table: CRC-32C and the packed GEMM's availability

static void check_crc32c(void) {
    context = "crc32c";
    CHECK(mms_crc32c(0, "123456789", 9) == 0xE3069283u, "CRC-32C check value: 0x%08x", mms_crc32c(0, "123456789", 9));
    CHECK(mms_crc32c_portable(0, "123456789", 9) == 0xE3069283u, "portable CRC-32C check value");
    uint8_t data[1100];
    seed(3);
    for (size_t i = 0; i < sizeof data; i++) data[i] = (uint8_t)(next_u64() >> 56);
    long wrong = 0;
    for (size_t n = 0; n < 300; n++) {
        const size_t offset = n % 8;
        if (mms_crc32c(0, data + offset, n) != mms_crc32c_portable(0, data + offset, n)) wrong++;
        // Chained: a then b equals a followed by b.
        const size_t split = n / 3;
        const uint32_t chained = mms_crc32c(mms_crc32c(0, data + offset, split), data + offset + split, n - split);
        if (chained != mms_crc32c_portable(0, data + offset, n)) wrong++;
    }
    if (mms_crc32c(0, data, sizeof data) != mms_crc32c_portable(0, data, sizeof data)) wrong++;
    CHECK(wrong == 0, "%ld CRC-32C values differ from the table version", wrong);
}

static void check_packed_gemm(void) {
    context = "sgemm";
    enum { M = 5, N = 7, K = 9 };
    float a[M * K], b[N * K], c[M * N], packed[((N + MMS_SGEMM_PANEL - 1) / MMS_SGEMM_PANEL) * MMS_SGEMM_PANEL * K];
    seed(11);
    for (int i = 0; i < M * K; i++) a[i] = uniform(-1, 1);
    for (int i = 0; i < N * K; i++) b[i] = uniform(-1, 1);
    for (int i = 0; i < M * N; i++) c[i] = -12345;
    mms_sgemm_pack_b(N, K, b, K, packed);
    const int available = mms_sgemm_packed_available();
#if defined(__aarch64__)
    CHECK(!available, "the packed GEMM claims to run on arm64, which has no variant of it");
#endif
    const int done = mms_sgemm_nt_packed(M, N, K, a, K, packed, NULL, MMS_ACTIVATION_NONE, c, N, 0);
    CHECK(done == available, "mms_sgemm_nt_packed returned %d, availability %d", done, available);
    if (done) {
        double worst = 0;
        for (int i = 0; i < M; i++)
            for (int j = 0; j < N; j++) {
                double s = 0;
                for (int p = 0; p < K; p++) s += (double)a[i * K + p] * b[j * K + p];
                worst = fmax(worst, fabs(c[i * N + j] - s));
            }
        CHECK(worst <= 1e-5, "packed GEMM: max |Δ| %g", worst);
    } else {
        int untouched = 1;
        for (int i = 0; i < M * N; i++) untouched = untouched && c[i] == -12345;
        CHECK(untouched, "an unavailable packed GEMM wrote its output");
        CHECK(mms_sgemm_nt_avx512(M, N, K, a, K, b, K, c, N, 0) == 0, "mms_sgemm_nt_avx512 ran while unavailable");
        untouched = 1;
        for (int i = 0; i < M * N; i++) untouched = untouched && c[i] == -12345;
        CHECK(untouched, "an unavailable mms_sgemm_nt_avx512 wrote its output");
    }
    printf("packed GEMM: %s\n", available ? "available" : "unavailable (callers use BLAS)");
}

// MARK: - Driver

static const char *level_names[] = {"portable", "avx2", "avx512", "neon", "neon_dotprod"};
#define LEVEL_COUNT 5

static int name_in_list(const char *name, const char *list) {
    const size_t length = strlen(name);
    for (const char *p = list; *p;) {
        const char *end = strchr(p, ',');
        const size_t item = end ? (size_t)(end - p) : strlen(p);
        if (item == length && strncmp(p, name, length) == 0) return 1;
        if (!end) break;
        p = end + 1;
    }
    return 0;
}

int main(int argc, char **argv) {
    const char *expect_levels = NULL, *expect_best = NULL, *expect_active = NULL;
    int dispatch_only = 0;
    for (int i = 1; i < argc; i += 2) {
        if (strcmp(argv[i], "--dispatch-only") == 0) {
            dispatch_only = 1;
            i -= 1;
        } else if (i + 1 >= argc) {
            fprintf(stderr, "harness: %s needs a value\n", argv[i]);
            return 2;
        } else if (strcmp(argv[i], "--expect-levels") == 0) expect_levels = argv[i + 1];
        else if (strcmp(argv[i], "--expect-best") == 0) expect_best = argv[i + 1];
        else if (strcmp(argv[i], "--expect-active") == 0) expect_active = argv[i + 1];
        else {
            fprintf(stderr, "harness: unknown option %s\n", argv[i]);
            return 2;
        }
    }

    context = "dispatch";
    const mms_kernel_level best = mms_kernels_best_level();
    const mms_kernel_table *active = mms_kernels();
    const mms_kernel_table *best_table = mms_kernels_table(best);
    CHECK(best_table != NULL && best_table->level == best, "the best level has no table");
    CHECK(active != NULL && mms_kernels_table(active->level) == active, "the active table is not a supported level");
    printf("best level: %s; active (MMS_KERNELS=%s): %s\n", best_table ? best_table->name : "?",
           getenv("MMS_KERNELS") ? getenv("MMS_KERNELS") : "unset", active->name);
    if (expect_best) CHECK(best_table && strcmp(best_table->name, expect_best) == 0, "best is not %s", expect_best);
    if (expect_active) CHECK(strcmp(active->name, expect_active) == 0, "active is %s, not %s", active->name, expect_active);

    // Levels past the known ones too, so a level added later is checked (and must be expected).
    for (int level = 0; level < 32; level++) {
        context = "dispatch";
        const mms_kernel_table *t = mms_kernels_table((mms_kernel_level)level);
        const char *name = level < LEVEL_COUNT ? level_names[level] : t != NULL ? t->name : NULL;
        if (expect_levels && name != NULL) {
            CHECK((t != NULL) == name_in_list(name, expect_levels), "level %s is %s", name, t ? "offered" : "missing");
        }
        if (t == NULL) continue;
        context = t->name;
        CHECK(t->level == (mms_kernel_level)level && t->name != NULL && strcmp(t->name, name) == 0,
              "table of level %d", level);
        const void *const *entries = (const void *const *)&t->dot_f32;
        const size_t entry_count = (sizeof(mms_kernel_table) - offsetof(mms_kernel_table, dot_f32)) / sizeof(void *);
        int complete = 1;
        for (size_t e = 0; e < entry_count; e++) complete = complete && entries[e] != NULL;
        CHECK(complete, "a table entry is missing");
        if (dispatch_only) continue;
        const long before = failed;
        check_reductions(t);
        check_non_finite(t);
        check_many(t);
        check_mixed_half(t);
        check_half_widening(t);
        check_half_narrowing(t);
        check_int8(t);
        check_quantize(t);
        check_activation(t);
        check_softmax(t);
        check_attention(t);
        printf("%-13s %s\n", t->name, failed == before ? "ok" : "FAILED");
    }
    if (!dispatch_only) {
        check_crc32c();
        check_packed_gemm();
    }

    printf("harness: %ld passed, %ld failed\n", passed, failed);
    return failed == 0 ? 0 : 1;
}
