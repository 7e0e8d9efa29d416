#!/usr/bin/env bash
# Installs what building and testing swift-multimodal-search needs on a fresh
# Debian or Ubuntu machine: the system libraries, through apt, when missing.
# Idempotent: a machine that has everything is left alone.
set -euo pipefail

# libcurl4 is the HTTP client under Foundation's URLSession on Linux (ModelStore).
# libstemmer-dev: the Snowball stemmers (LexicalIndex); it ships no pkg-config file.
# libtesseract-dev and tesseract-ocr-eng: text inside pictures (Tesseract 5 and its English model).
packages=(libopenblas-dev liblz4-dev libturbojpeg0-dev libpng-dev libstemmer-dev libtesseract-dev tesseract-ocr-eng pkg-config libcurl4)
# --with-browser: headless Chromium too, which the tests use to render mms's HTML page.
# --with-bench: wrk, the HTTP load generator `mms-bench serve` drives the services with.
# --with-arm64: an arm64 cross compiler, its C library and qemu-user, with which
# scripts/test-arm64-kernels.sh checks the NEON kernels on an emulated CPU.
for option in "$@"; do
    case "$option" in
    --with-browser) packages+=(chromium) ;;
    --with-bench) packages+=(wrk) ;;
    --with-arm64) packages+=(gcc-aarch64-linux-gnu libc6-dev-arm64-cross qemu-user) ;;
    *)
        echo "setup: unknown option $option (known: --with-browser, --with-bench, --with-arm64)" >&2
        exit 2
        ;;
    esac
done

missing=()
for p in "${packages[@]}"; do
    if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
        missing+=("$p")
    fi
done

if ((${#missing[@]})); then
    echo "setup: installing ${missing[*]}"
    sudo_cmd=()
    if [[ $(id -u) -ne 0 ]]; then sudo_cmd=(sudo); fi
    "${sudo_cmd[@]}" apt-get update -qq
    DEBIAN_FRONTEND=noninteractive "${sudo_cmd[@]}" apt-get install -y -qq "${missing[@]}" >/dev/null
fi

for module in openblas liblz4 libturbojpeg libpng tesseract; do
    if ! pkg-config --exists "$module"; then
        echo "setup: pkg-config cannot find $module after installing; check the apt output above" >&2
        exit 1
    fi
done

if [[ ! -f /usr/include/libstemmer.h ]]; then
    echo "setup: libstemmer.h is missing after installing libstemmer-dev; check the apt output above" >&2
    exit 1
fi

if ! command -v swift >/dev/null 2>&1; then
    if [[ -x /opt/swift/usr/bin/swift ]]; then
        echo "setup: swift is at /opt/swift/usr/bin; add it to PATH" >&2
    else
        echo "setup: no Swift toolchain found; install Swift 6.1 or later from swift.org" >&2
    fi
    exit 1
fi
echo "setup: system libraries present ($(pkg-config --modversion openblas) OpenBLAS, $(pkg-config --modversion liblz4) LZ4)"
