// CRC-32C (Castagnoli, reflected polynomial 0x82F63B78), the checksum of the
// on-disk formats. SSE 4.2's crc32 instruction where the CPU has it, the Armv8
// CRC32 extension where an arm64 CPU has it (optional in Armv8.0, so asked of
// the system at run time; the function carries "+crc" in a target attribute,
// which GCC and clang both accept), else slicing-by-8 tables. All give
// identical results.

#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include "search_kernels.h"

#if defined(__x86_64__)
#include <immintrin.h>
#endif
#if defined(__aarch64__)
#include <arm_acle.h>
#include "kernels_internal.h"
#endif

static uint32_t table[8][256];
static pthread_once_t table_once = PTHREAD_ONCE_INIT;

static void build_table(void) {
    for (uint32_t i = 0; i < 256; i++) {
        uint32_t crc = i;
        for (int k = 0; k < 8; k++) crc = (crc >> 1) ^ (0x82F63B78u & (0u - (crc & 1u)));
        table[0][i] = crc;
    }
    for (uint32_t i = 0; i < 256; i++) {
        for (int t = 1; t < 8; t++) table[t][i] = (table[t - 1][i] >> 8) ^ table[0][table[t - 1][i] & 0xFF];
    }
}

uint32_t mms_crc32c_portable(uint32_t crc, const void *data, size_t n) {
    pthread_once(&table_once, build_table);
    const uint8_t *p = (const uint8_t *)data;
    crc = ~crc;
    while (n >= 8) {
        uint64_t word;
        memcpy(&word, p, 8);
        // Little-endian load: the tables assume the first byte is the lowest.
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
        word = __builtin_bswap64(word);
#endif
        const uint32_t lo = (uint32_t)word ^ crc, hi = (uint32_t)(word >> 32);
        crc = table[7][lo & 0xFF] ^ table[6][(lo >> 8) & 0xFF] ^ table[5][(lo >> 16) & 0xFF] ^ table[4][lo >> 24] ^
              table[3][hi & 0xFF] ^ table[2][(hi >> 8) & 0xFF] ^ table[1][(hi >> 16) & 0xFF] ^ table[0][hi >> 24];
        p += 8;
        n -= 8;
    }
    while (n--) crc = (crc >> 8) ^ table[0][(crc ^ *p++) & 0xFF];
    return ~crc;
}

#if defined(__x86_64__)
__attribute__((target("sse4.2"))) static uint32_t crc32c_sse42(uint32_t crc, const void *data, size_t n) {
    const uint8_t *p = (const uint8_t *)data;
    uint64_t c = ~crc;
    while (n >= 8) {
        uint64_t word;
        memcpy(&word, p, 8);
        c = _mm_crc32_u64(c, word);
        p += 8;
        n -= 8;
    }
    uint32_t c32 = (uint32_t)c;
    while (n--) c32 = _mm_crc32_u8(c32, *p++);
    return ~c32;
}
#endif

#if defined(__aarch64__)
__attribute__((target("+crc"))) static uint32_t crc32c_arm(uint32_t crc, const void *data, size_t n) {
    const uint8_t *p = (const uint8_t *)data;
    crc = ~crc;
    while (n >= 8) {
        uint64_t word;
        memcpy(&word, p, 8);
        crc = __crc32cd(crc, word);
        p += 8;
        n -= 8;
    }
    while (n--) crc = __crc32cb(crc, *p++);
    return ~crc;
}
#endif

uint32_t mms_crc32c(uint32_t crc, const void *data, size_t n) {
#if defined(__x86_64__)
    static int hardware = -1;
    int h = __atomic_load_n(&hardware, __ATOMIC_RELAXED);
    if (h < 0) {
        __builtin_cpu_init();
        h = __builtin_cpu_supports("sse4.2") ? 1 : 0;
        const char *requested = getenv("MMS_KERNELS");
        if (requested != NULL && strcmp(requested, "portable") == 0) h = 0;
        __atomic_store_n(&hardware, h, __ATOMIC_RELAXED);
    }
    if (h) return crc32c_sse42(crc, data, n);
#elif defined(__aarch64__)
    static int hardware = -1;
    int h = __atomic_load_n(&hardware, __ATOMIC_RELAXED);
    if (h < 0) {
        h = (mms_arm_features() & MMS_ARM_CRC32) ? 1 : 0;
        const char *requested = getenv("MMS_KERNELS");
        if (requested != NULL && strcmp(requested, "portable") == 0) h = 0;
        __atomic_store_n(&hardware, h, __ATOMIC_RELAXED);
    }
    if (h) return crc32c_arm(crc, data, n);
#endif
    return mms_crc32c_portable(crc, data, n);
}
