#!/usr/bin/env bash
# Creates the Python environments that `mms-bench` runs its anchors in, from
# pinned requirements, so any fresh clone can rerun every comparison:
#
#   scripts/bench-env.sh              # every anchor environment
#   scripts/bench-env.sh encoders     # only the ones named (ann, encoders, ranking, lexical, serve)
#
# Each environment is a venv in the repository root, where `mms-bench` looks
# for it by default:
#   .venv-bench           ann, segments (hnswlib, FAISS, USearch,    Benchmarks/anchors/requirements.txt
#                         NGT, VSAG, ScaNN)
#   .venv-bench-encoders  encoders (onnxruntime, PyTorch, Pillow)    Benchmarks/anchors/requirements-encoders.txt
#   .venv-ranking         ranking (LightGBM)                         scripts/fixtures/requirements-ranking.txt
#   .venv-lexical         lexical (tantivy, bm25s, PyStemmer)        scripts/fixtures/requirements-lexical.txt
#   .venv-serve           serve (FastAPI, uvicorn, sentence-transformers, FAISS)
#                                                                    Benchmarks/anchors/requirements-serve.txt
#
# PyTorch comes from a local CPU wheel when one exists (MMS_TORCH_WHEEL, or
# the first torch-<version>+cpu wheel under /opt/wheels), otherwise from
# PyTorch's CPU index. An environment whose requirements have not changed since
# it was made is left alone; delete the venv to force a rebuild.
set -euo pipefail
cd "$(dirname "$0")/.."

python=${PYTHON:-python3}
if ! "$python" -c 'import venv, ensurepip' >/dev/null 2>&1; then
    echo "bench-env: $python lacks venv/ensurepip; install python3-venv (apt-get install python3-venv)" >&2
    exit 1
fi

# make_env NAME REQUIREMENTS [EXTRA PIP ARGUMENTS...]
make_env() {
    local venv=$1 requirements=$2
    shift 2
    local stamp="$venv/.requirements.sha256"
    local digest
    digest=$(cat "$requirements" <(printf '%s\n' "$@") | sha256sum | cut -d' ' -f1)
    if [[ -x "$venv/bin/python" && -f "$stamp" && "$(cat "$stamp")" == "$digest" ]]; then
        echo "bench-env: $venv is up to date"
        return
    fi
    echo "bench-env: making $venv from $requirements"
    rm -rf "$venv"
    "$python" -m venv "$venv"
    "$venv/bin/pip" install --quiet --disable-pip-version-check "$@" -r "$requirements"
    echo "$digest" >"$stamp"
}

# torch_source REQUIREMENTS: the wheel (or index) for the torch pinned there.
torch_source() {
    local pinned wheel
    pinned=$(sed -n 's/^torch==\(.*\)$/\1/p' "$1")
    wheel=${MMS_TORCH_WHEEL:-}
    if [[ -z "$wheel" ]]; then
        wheel=$(ls /opt/wheels/torch-"$pinned"+cpu-*.whl 2>/dev/null | head -1 || true)
    fi
    if [[ -n "$wheel" ]]; then
        # Named in the same command as the requirements, so pip keeps this build.
        echo "$wheel"
    else
        echo "--extra-index-url=https://download.pytorch.org/whl/cpu"
    fi
}

targets=("$@")
if ((${#targets[@]} == 0)); then targets=(ann encoders ranking lexical serve); fi
for target in "${targets[@]}"; do
    case "$target" in
    ann | segments) make_env .venv-bench Benchmarks/anchors/requirements.txt ;;
    encoders) make_env .venv-bench-encoders Benchmarks/anchors/requirements-encoders.txt \
        "$(torch_source Benchmarks/anchors/requirements-encoders.txt)" ;;
    serve) make_env .venv-serve Benchmarks/anchors/requirements-serve.txt \
        "$(torch_source Benchmarks/anchors/requirements-serve.txt)" ;;
    ranking) make_env .venv-ranking scripts/fixtures/requirements-ranking.txt ;;
    lexical) make_env .venv-lexical scripts/fixtures/requirements-lexical.txt ;;
    *)
        echo "bench-env: unknown anchor set '$target' (ann, segments, encoders, ranking, lexical, serve)" >&2
        exit 2
        ;;
    esac
done
