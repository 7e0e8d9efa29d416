#!/usr/bin/env bash
# Builds every fuzzer in Fuzz/ with libFuzzer and AddressSanitizer and runs
# each for a bounded time. Usage: bash Fuzz/run.sh [seconds per fuzzer, default 60]
# Exits non-zero when a fuzzer finds a crash (the reproducer is left in
# Fuzz/artifacts/); a corpus is kept in Fuzz/corpus/<fuzzer>/ between runs.
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="/opt/swift/usr/bin:$PATH"
seconds="${1:-60}"

fuzzers=(fuzz-safetensors-header fuzz-image-decoder fuzz-segment fuzz-wal fuzz-sentencepiece-model fuzz-lexical-segment)

swift build --package-path Fuzz -c debug \
    -Xswiftc -sanitize=fuzzer,address -Xswiftc -parse-as-library \
    --scratch-path Fuzz/.build

bin=$(swift build --package-path Fuzz -c debug --scratch-path Fuzz/.build --show-bin-path \
    -Xswiftc -sanitize=fuzzer,address -Xswiftc -parse-as-library)

mkdir -p Fuzz/artifacts
status=0
for fuzzer in "${fuzzers[@]}"; do
    corpus="Fuzz/corpus/$fuzzer"
    mkdir -p "$corpus"
    seeds="Fuzz/seeds/$fuzzer"
    echo "== $fuzzer for ${seconds}s"
    if ! "$bin/$fuzzer" -max_total_time="$seconds" -max_len=65536 -rss_limit_mb=2048 \
        -artifact_prefix="Fuzz/artifacts/$fuzzer-" -print_final_stats=1 "$corpus" $( [[ -d "$seeds" ]] && echo "$seeds" ) \
        2>&1 | tail -n 25; then
        echo "fuzz: $fuzzer found a crash; reproducer in Fuzz/artifacts/" >&2
        status=1
    fi
done
exit $status
