#include "bench_support.h"

#include <time.h>
#if defined(__x86_64__)
#include <immintrin.h>
#endif

uint64_t bench_now_ns(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

uint64_t bench_thread_cpu_ns(void) {
    struct timespec ts;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

#if defined(__x86_64__)
__attribute__((target("avx512f"))) static double fma_avx512(uint64_t iterations, float *sink) {
    __m512 acc[16];
    const __m512 x = _mm512_set1_ps(0.999999f), y = _mm512_set1_ps(1e-7f);
    for (int j = 0; j < 16; j++) acc[j] = _mm512_set1_ps((float)j);
    for (uint64_t i = 0; i < iterations; i++) {
        for (int j = 0; j < 16; j++) acc[j] = _mm512_fmadd_ps(acc[j], x, y);
    }
    __m512 total = acc[0];
    for (int j = 1; j < 16; j++) total = _mm512_add_ps(total, acc[j]);
    *sink = _mm512_reduce_add_ps(total);
    return (double)iterations * 16.0 * 16.0 * 2.0;
}

__attribute__((target("avx2,fma"))) static double fma_avx2(uint64_t iterations, float *sink) {
    __m256 acc[12];
    const __m256 x = _mm256_set1_ps(0.999999f), y = _mm256_set1_ps(1e-7f);
    for (int j = 0; j < 12; j++) acc[j] = _mm256_set1_ps((float)j);
    for (uint64_t i = 0; i < iterations; i++) {
        for (int j = 0; j < 12; j++) acc[j] = _mm256_fmadd_ps(acc[j], x, y);
    }
    float lanes[8];
    __m256 total = acc[0];
    for (int j = 1; j < 12; j++) total = _mm256_add_ps(total, acc[j]);
    _mm256_storeu_ps(lanes, total);
    *sink = lanes[0] + lanes[7];
    return (double)iterations * 12.0 * 8.0 * 2.0;
}

__attribute__((target("avx512f"))) static float read_avx512(const float *data, size_t count) {
    __m512 a0 = _mm512_setzero_ps(), a1 = _mm512_setzero_ps(), a2 = _mm512_setzero_ps(), a3 = _mm512_setzero_ps();
    size_t i = 0;
    for (; i + 64 <= count; i += 64) {
        a0 = _mm512_add_ps(a0, _mm512_loadu_ps(data + i));
        a1 = _mm512_add_ps(a1, _mm512_loadu_ps(data + i + 16));
        a2 = _mm512_add_ps(a2, _mm512_loadu_ps(data + i + 32));
        a3 = _mm512_add_ps(a3, _mm512_loadu_ps(data + i + 48));
    }
    float total = _mm512_reduce_add_ps(_mm512_add_ps(_mm512_add_ps(a0, a1), _mm512_add_ps(a2, a3)));
    for (; i < count; i++) total += data[i];
    return total;
}
#endif

double bench_fma_loop(uint64_t iterations, float *sink) {
#if defined(__x86_64__)
    __builtin_cpu_init();
    if (__builtin_cpu_supports("avx512f")) return fma_avx512(iterations, sink);
    if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma")) return fma_avx2(iterations, sink);
#endif
    float acc[8] = {0, 1, 2, 3, 4, 5, 6, 7};
    for (uint64_t i = 0; i < iterations; i++) {
        for (int j = 0; j < 8; j++) acc[j] = acc[j] * 0.999999f + 1e-7f;
    }
    *sink = acc[0] + acc[7];
    return (double)iterations * 8.0 * 2.0;
}

float bench_read_sum(const float *data, size_t count) {
#if defined(__x86_64__)
    __builtin_cpu_init();
    if (__builtin_cpu_supports("avx512f")) return read_avx512(data, count);
#endif
    float acc[16] = {0};
    size_t i = 0;
    for (; i + 16 <= count; i += 16) {
        for (int j = 0; j < 16; j++) acc[j] += data[i + j];
    }
    float total = 0;
    for (int j = 0; j < 16; j++) total += acc[j];
    for (; i < count; i++) total += data[i];
    return total;
}

#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <errno.h>
#include <stdlib.h>
#include <unistd.h>

int bench_evict_file(const char *path) {
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) return errno;
    int status = 0;
    if (fdatasync(fd) != 0) status = errno;
    int advice = posix_fadvise(fd, 0, 0, POSIX_FADV_DONTNEED);
    if (status == 0) status = advice;
    close(fd);
    return status;
}

double bench_resident_fraction(const char *path) {
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) return -1;
    struct stat info;
    if (fstat(fd, &info) != 0 || info.st_size == 0) {
        close(fd);
        return -1;
    }
    size_t length = (size_t)info.st_size;
    void *base = mmap(NULL, length, PROT_READ, MAP_SHARED, fd, 0);
    close(fd);
    if (base == MAP_FAILED) return -1;
    long page = sysconf(_SC_PAGESIZE);
    size_t pages = (length + (size_t)page - 1) / (size_t)page;
    unsigned char *vector = malloc(pages);
    double fraction = -1;
    if (vector && mincore(base, length, vector) == 0) {
        size_t resident = 0;
        for (size_t i = 0; i < pages; i++) resident += vector[i] & 1;
        fraction = (double)resident / (double)pages;
    }
    free(vector);
    munmap(base, length);
    return fraction;
}

/// The value in kB of the /proc/self/status line starting with `key`, in bytes, or -1.
static long status_bytes(const char *key) {
    FILE *status = fopen("/proc/self/status", "r");
    if (!status) return -1;
    char line[256];
    size_t length = strlen(key);
    long kilobytes = -1;
    while (fgets(line, sizeof line, status)) {
        if (strncmp(line, key, length) == 0) {
            kilobytes = strtol(line + length, NULL, 10);
            break;
        }
    }
    fclose(status);
    return kilobytes < 0 ? -1 : kilobytes * 1024;
}

long bench_resident_bytes(void) { return status_bytes("VmRSS:"); }

long bench_resident_anonymous_bytes(void) { return status_bytes("RssAnon:"); }
