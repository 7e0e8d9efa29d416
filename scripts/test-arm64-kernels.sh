#!/usr/bin/env bash
# Checks the C kernels (Sources/CSearchKernels) with the C harness in
# Tests/CKernelsHarness, without Swift:
#  1. natively, on this machine's kernel tables (and once more with
#     MMS_KERNELS=portable), so the harness itself cannot rot;
#  2. cross-compiled for arm64 with aarch64-linux-gnu-gcc (and with clang where
#     one is installed, as SwiftPM builds the target with clang) and run under
#     qemu-user on two emulated CPUs: `max` (NEON and SDOT) and `cortex-a53`
#     (NEON without SDOT), so every arm64 table runs; then the MMS_KERNELS
#     choices on both.
# Correctness only: speed under emulation says nothing about an arm64 CPU.
# Needs `scripts/setup.sh --with-arm64` (gcc-aarch64-linux-gnu, qemu-user).
set -euo pipefail
cd "$(dirname "$0")/.."

out=.build/ckernels-harness
mkdir -p "$out"
sources=(Sources/CSearchKernels/*.c Tests/CKernelsHarness/harness.c)
flags=(-std=gnu11 -O2 -Wall -Wextra -Wno-unknown-pragmas -ISources/CSearchKernels/include -ISources/CSearchKernels)

run() {
    echo "-- $*"
    "$@" >"$out/run.log" 2>&1 || {
        cat "$out/run.log"
        echo "test-arm64-kernels: failed: $*" >&2
        exit 1
    }
    grep -E "^(best level|harness:)" "$out/run.log"
}

for tool in aarch64-linux-gnu-gcc qemu-aarch64; do
    if ! command -v "$tool" >/dev/null 2>&1; then
        echo "test-arm64-kernels: $tool is missing; run scripts/setup.sh --with-arm64" >&2
        exit 1
    fi
done
export QEMU_LD_PREFIX=/usr/aarch64-linux-gnu
clang_bin=$(command -v clang || true)
if [[ -z "$clang_bin" && -x /opt/swift/usr/bin/clang ]]; then clang_bin=/opt/swift/usr/bin/clang; fi

# The builds run side by side; each one's output goes to its own log.
build() {
    local name=$1
    shift
    if ! "$@" >"$out/build-$name.log" 2>&1; then
        cat "$out/build-$name.log" >&2
        return 1
    fi
}
clang_arm64() {
    # clang compiles (SwiftPM's compiler), the cross gcc links (it knows where the arm64 C library is).
    mkdir -p "$out/clang-objects"
    for source in "${sources[@]}"; do
        "$clang_bin" --target=aarch64-linux-gnu --sysroot=/usr/aarch64-linux-gnu "${flags[@]}" \
            -c "$source" -o "$out/clang-objects/$(basename "$source").o" || return 1
    done
    aarch64-linux-gnu-gcc "$out"/clang-objects/*.o -lm -lpthread -o "$out/harness-arm64-clang"
}
pids=()
build native "${CC:-cc}" "${flags[@]}" "${sources[@]}" -lm -lpthread -o "$out/harness-native" &
pids+=($!)
build arm64-gcc aarch64-linux-gnu-gcc "${flags[@]}" "${sources[@]}" -lm -lpthread -o "$out/harness-arm64-gcc" &
pids+=($!)
builds=("$out/harness-arm64-gcc")
if [[ -n "$clang_bin" ]]; then
    build arm64-clang clang_arm64 &
    pids+=($!)
    builds+=("$out/harness-arm64-clang")
fi
for pid in "${pids[@]}"; do
    wait "$pid" || {
        echo "test-arm64-kernels: a build failed (log above)" >&2
        exit 1
    }
done
# Compiler warnings are shown, not fatal.
cat "$out"/build-*.log

echo "== C kernel harness, native ($(uname -m))"
run "$out/harness-native"
run env MMS_KERNELS=portable "$out/harness-native" --expect-active portable

echo "== C kernel harness, arm64 under qemu-user"
for harness in "${builds[@]}"; do
    run qemu-aarch64 -cpu max "$harness" --expect-levels portable,neon,neon_dotprod \
        --expect-best neon_dotprod --expect-active neon_dotprod
    run qemu-aarch64 -cpu cortex-a53 "$harness" --expect-levels portable,neon --expect-best neon \
        --expect-active neon
done
harness="$out/harness-arm64-gcc"
run env MMS_KERNELS=neon qemu-aarch64 -cpu max "$harness" --dispatch-only --expect-active neon
run env MMS_KERNELS=portable qemu-aarch64 -cpu max "$harness" --expect-active portable
run env MMS_KERNELS=neon_dotprod qemu-aarch64 -cpu cortex-a53 "$harness" --dispatch-only --expect-active neon
# Another architecture's name is ignored, as an unknown one is.
run env MMS_KERNELS=avx2 qemu-aarch64 -cpu max "$harness" --dispatch-only --expect-active neon_dotprod
