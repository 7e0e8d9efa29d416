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
swift test --sanitize=thread --scratch-path .build-tsan \
    --filter "FlatIndex|HNSW|PersistentIndex|SegmentGraph|WriteAheadLog|Engagement|Concurren|concurrent"
