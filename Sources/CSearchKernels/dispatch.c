// Chooses one kernel table per process, once.

#include <stdlib.h>
#include <string.h>
#include "kernels_internal.h"

#if defined(MMS_HAVE_ARM_VARIANTS)
#if defined(__linux__)
#include <sys/auxv.h>
// The bits of AT_HWCAP, as the Linux arm64 ABI defines them (asm/hwcap.h);
// spelled out for C libraries whose headers lack them.
#ifndef HWCAP_ASIMD
#define HWCAP_ASIMD (1ul << 1)
#endif
#ifndef HWCAP_CRC32
#define HWCAP_CRC32 (1ul << 7)
#endif
#ifndef HWCAP_ASIMDDP
#define HWCAP_ASIMDDP (1ul << 20)
#endif
#elif defined(__APPLE__)
#include <sys/sysctl.h>

/// Whether the integer sysctl `name` exists and is nonzero.
static int sysctl_enabled(const char *name) {
    int value = 0;
    size_t size = sizeof value;
    if (sysctlbyname(name, &value, &size, NULL, 0) != 0) return 0;
    return value != 0;
}
#endif

static unsigned detect_arm_features(void) {
    unsigned features = 0;
#if defined(__linux__)
    const unsigned long hwcap = getauxval(AT_HWCAP);
    if (hwcap & HWCAP_ASIMD) features |= MMS_ARM_NEON;
    if ((hwcap & HWCAP_ASIMD) && (hwcap & HWCAP_ASIMDDP)) features |= MMS_ARM_DOTPROD;
    if (hwcap & HWCAP_CRC32) features |= MMS_ARM_CRC32;
#elif defined(__APPLE__)
    // Every Apple arm64 CPU has NEON. The FEAT_* names arrived in macOS 12 and
    // iOS 15; the armv8_* spellings are their older forms.
    features |= MMS_ARM_NEON;
    if (sysctl_enabled("hw.optional.arm.FEAT_DotProd") || sysctl_enabled("hw.optional.armv8_2_dotprod")) {
        features |= MMS_ARM_DOTPROD;
    }
    if (sysctl_enabled("hw.optional.armv8_crc32")) features |= MMS_ARM_CRC32;
#else
    // No way to ask: what the compiler was told the target has.
#if defined(__ARM_NEON)
    features |= MMS_ARM_NEON;
#endif
#if defined(__ARM_FEATURE_DOTPROD)
    features |= MMS_ARM_DOTPROD;
#endif
#if defined(__ARM_FEATURE_CRC32)
    features |= MMS_ARM_CRC32;
#endif
#endif
    return features;
}

unsigned mms_arm_features(void) {
    // 0 means "not asked yet": the answer always has a marker bit set.
    static unsigned cached = 0;
    unsigned features = __atomic_load_n(&cached, __ATOMIC_RELAXED);
    if (features == 0) {
        features = detect_arm_features() | 0x80000000u;
        __atomic_store_n(&cached, features, __ATOMIC_RELAXED);
    }
    return features & 0x7fffffffu;
}
#endif

mms_kernel_level mms_kernels_best_level(void) {
#if defined(MMS_HAVE_X86_VARIANTS) && (defined(__GNUC__) || defined(__clang__))
    __builtin_cpu_init();
    if (__builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw") &&
        __builtin_cpu_supports("avx512vl") && __builtin_cpu_supports("avx512dq") &&
        __builtin_cpu_supports("avx512vnni") && __builtin_cpu_supports("f16c") && __builtin_cpu_supports("fma")) {
        return MMS_KERNEL_AVX512;
    }
    if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma") && __builtin_cpu_supports("f16c")) {
        return MMS_KERNEL_AVX2;
    }
#elif defined(MMS_HAVE_ARM_VARIANTS)
    const unsigned features = mms_arm_features();
    if (features & MMS_ARM_DOTPROD) return MMS_KERNEL_NEON_DOTPROD;
    if (features & MMS_ARM_NEON) return MMS_KERNEL_NEON;
#endif
    return MMS_KERNEL_PORTABLE;
}

const mms_kernel_table *mms_kernels_table(mms_kernel_level level) {
    // Each architecture's levels rise with their raw values, and the other
    // architecture's levels have no case below.
    if ((int)level > (int)mms_kernels_best_level()) return NULL;
    switch (level) {
    case MMS_KERNEL_PORTABLE:
        return &mms_portable_table;
#if defined(MMS_HAVE_X86_VARIANTS)
    case MMS_KERNEL_AVX2:
        return &mms_avx2_table;
    case MMS_KERNEL_AVX512:
        return &mms_avx512_table;
#endif
#if defined(MMS_HAVE_ARM_VARIANTS)
    case MMS_KERNEL_NEON:
        return &mms_neon_table;
    case MMS_KERNEL_NEON_DOTPROD:
        return &mms_neon_dotprod_table;
#endif
    default:
        return NULL;
    }
}

/// The level an MMS_KERNELS value names on this architecture, or -1 (unknown,
/// or a level of the other architecture: such a request is ignored).
static int requested_level(const char *name) {
    if (strcmp(name, "portable") == 0) return MMS_KERNEL_PORTABLE;
#if defined(MMS_HAVE_X86_VARIANTS)
    if (strcmp(name, "avx2") == 0) return MMS_KERNEL_AVX2;
    if (strcmp(name, "avx512") == 0) return MMS_KERNEL_AVX512;
#endif
#if defined(MMS_HAVE_ARM_VARIANTS)
    if (strcmp(name, "neon") == 0) return MMS_KERNEL_NEON;
    if (strcmp(name, "neon_dotprod") == 0) return MMS_KERNEL_NEON_DOTPROD;
#endif
    return -1;
}

static const mms_kernel_table *choose(void) {
    mms_kernel_level level = mms_kernels_best_level();
    const char *requested = getenv("MMS_KERNELS");
    if (requested != NULL) {
        const int cap = requested_level(requested);
        if (cap >= 0 && cap < (int)level) level = (mms_kernel_level)cap;
    }
    const mms_kernel_table *table = mms_kernels_table(level);
    return table != NULL ? table : &mms_portable_table;
}

const mms_kernel_table *mms_kernels(void) {
    static const mms_kernel_table *chosen = NULL;
    const mms_kernel_table *table = __atomic_load_n(&chosen, __ATOMIC_ACQUIRE);
    if (table == NULL) {
        // Racing first callers compute the same answer; any store wins.
        table = choose();
        __atomic_store_n(&chosen, table, __ATOMIC_RELEASE);
    }
    return table;
}
