// Chooses one kernel table per process, once.

#include <stdlib.h>
#include <string.h>
#include "kernels_internal.h"

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
#endif
    return MMS_KERNEL_PORTABLE;
}

const mms_kernel_table *mms_kernels_table(mms_kernel_level level) {
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
    default:
        return NULL;
    }
}

static const mms_kernel_table *choose(void) {
    mms_kernel_level level = mms_kernels_best_level();
    const char *requested = getenv("MMS_KERNELS");
    if (requested != NULL) {
        mms_kernel_level cap = level;
        if (strcmp(requested, "portable") == 0) cap = MMS_KERNEL_PORTABLE;
        else if (strcmp(requested, "avx2") == 0) cap = MMS_KERNEL_AVX2;
        else if (strcmp(requested, "avx512") == 0) cap = MMS_KERNEL_AVX512;
        if ((int)cap < (int)level) level = cap;
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
