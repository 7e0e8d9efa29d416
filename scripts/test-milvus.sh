#!/usr/bin/env bash
# The Milvus adapter's tests (Milvus/, its own package): builds it (gRPC,
# SwiftNIO and BoringSSL from source on a first build), makes .venv-milvus
# (scripts/milvus-env.sh) and runs the suite, which starts milvus-lite on
# 127.0.0.1 on a free port; with MILVUS_URI set, against that server instead.
# Not part of scripts/test.sh: a first build adds more minutes than CI's budget
# leaves (see README, "Scale-out: vectors in Milvus").
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="/opt/swift/usr/bin:$PATH"
jobs=()
if [[ "${CI:-}" == "true" ]]; then jobs=(--jobs 2); fi
bash scripts/milvus-env.sh >/dev/null
swift build "${jobs[@]}" --package-path Milvus --build-tests
swift test --skip-build --package-path Milvus
