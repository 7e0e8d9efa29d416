#!/usr/bin/env bash
# The concurrency tests under ThreadSanitizer: concurrent searches beside a
# writer (FlatIndex, HNSWIndex, PersistentIndex), searches of a mapped segment
# decoding its graph blocks concurrently, the write-ahead log, the
# engagement store and the encoders used from several tasks.
#     bash scripts/tsan.sh
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="/opt/swift/usr/bin:$PATH"
bash scripts/setup.sh
# Not the collection's concurrency test: under contention Synchronization.Mutex on Linux
# locks through FUTEX_LOCK_PI in the kernel, which ThreadSanitizer cannot see, so it
# reports the engagement store's reads and writes (both inside withLock) as a race.
swift test --sanitize=thread --scratch-path .build-tsan \
    --filter "FlatIndex|HNSW|PersistentIndex|SegmentGraph|WriteAheadLog|Engagement|Concurren"
