// Counts heap allocations made while counting is on, for `mms-bench ann`'s
// allocations-per-query figure. On glibc this file defines malloc and its
// relatives: the dynamic linker binds every library's calls (the Swift
// runtime's included) to these, and they forward to glibc's own entry points.

#include "bench_support.h"

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>

static atomic_bool counting = false;
static atomic_long allocations = 0;

#if defined(__GLIBC__)
extern void *__libc_malloc(size_t size);
extern void *__libc_calloc(size_t count, size_t size);
extern void *__libc_realloc(void *pointer, size_t size);
extern void *__libc_memalign(size_t alignment, size_t size);
extern void __libc_free(void *pointer);

static inline void note(void) {
    if (atomic_load_explicit(&counting, memory_order_relaxed)) {
        atomic_fetch_add_explicit(&allocations, 1, memory_order_relaxed);
    }
}

void *malloc(size_t size) {
    note();
    return __libc_malloc(size);
}

void *calloc(size_t count, size_t size) {
    note();
    return __libc_calloc(count, size);
}

void *realloc(void *pointer, size_t size) {
    note();
    return __libc_realloc(pointer, size);
}

void *aligned_alloc(size_t alignment, size_t size) {
    note();
    return __libc_memalign(alignment, size);
}

void *memalign(size_t alignment, size_t size) {
    note();
    return __libc_memalign(alignment, size);
}

int posix_memalign(void **result, size_t alignment, size_t size) {
    note();
    void *pointer = __libc_memalign(alignment, size);
    if (pointer == NULL) return 12;  // ENOMEM
    *result = pointer;
    return 0;
}

void free(void *pointer) { __libc_free(pointer); }

int bench_allocations_counted(void) { return 1; }
#else
int bench_allocations_counted(void) { return 0; }
#endif

void bench_allocations_start(void) {
    atomic_store(&allocations, 0);
    atomic_store(&counting, true);
}

long bench_allocations_stop(void) {
    atomic_store(&counting, false);
    return atomic_load(&allocations);
}
