import CBenchSupport

/// The process-wide allocation counter behind `mms-bench ann`'s
/// `allocs_per_query` (malloc and its relatives are interposed in
/// CBenchSupport's `bench_alloc.c` on glibc; elsewhere it reports -1).
enum AllocationCounter {
    /// The heap allocations `body` makes, on any thread of the process.
    static func measure(_ body: () -> Void) -> Int {
        guard bench_allocations_counted() != 0 else {
            body()
            return -1
        }
        bench_allocations_start()
        body()
        return Int(bench_allocations_stop())
    }
}
