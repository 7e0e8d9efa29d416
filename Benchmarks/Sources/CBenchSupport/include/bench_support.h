// Measurements of the machine itself, for context in benchmark reports.
#ifndef BENCH_SUPPORT_H
#define BENCH_SUPPORT_H

#include <stddef.h>
#include <stdint.h>

/// Runs `iterations` rounds of 16 independent FMA chains (AVX-512 where the
/// CPU has it, else AVX2+FMA, else scalar) and returns the floating-point
/// operations performed (2 per lane per FMA), so that time ÷ result = peak.
/// `sink` receives a value so the work cannot be elided.
double bench_fma_loop(uint64_t iterations, float *sink);

/// Sums `count` floats with wide loads and several accumulators: a read
/// bandwidth probe when the buffer is far larger than the caches.
float bench_read_sum(const float *data, size_t count);

/// Whether allocation counting works here (glibc: malloc is interposed).
int bench_allocations_counted(void);
/// Starts counting heap allocations, process-wide, from zero.
void bench_allocations_start(void);
/// Stops counting and returns the allocations made since the start.
long bench_allocations_stop(void);

/// Monotonic nanoseconds.
uint64_t bench_now_ns(void);

/// Nanoseconds of CPU time the calling thread has used: unlike the wall
/// clock it does not advance while other processes hold the core.
uint64_t bench_thread_cpu_ns(void);

/// Flushes `path` and asks the kernel to drop its pages from the page cache
/// (posix_fadvise DONTNEED), so the next read comes from the disk. Pages a
/// process still maps stay. Returns 0, or an errno value.
int bench_evict_file(const char *path);

/// The fraction of `path`'s pages resident in the page cache (mincore over a
/// fresh mapping), or -1 when it cannot be measured.
double bench_resident_fraction(const char *path);

/// This process's resident set in bytes (VmRSS), or -1.
long bench_resident_bytes(void);

/// The anonymous part of this process's resident set in bytes (RssAnon:
/// heap and other private memory, not mapped file pages), or -1.
long bench_resident_anonymous_bytes(void);

#endif
