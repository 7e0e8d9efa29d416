#!/usr/bin/env bash
# Builds the full-geometry parity models (seeded random weights, saved as
# save_pretrained / open_clip write them, with the reference libraries'
# embeddings) into the git-ignored .build/full-geometry/NAME, where
# Tests/EncodersTests/FullGeometryParityTests reads them:
#
#   scripts/full-geometry.sh siglip-base-patch16-224     # one or more by name
#   scripts/full-geometry.sh all                         # every one (~8 GB, some minutes each)
#
# Names: siglip-base-patch16-224 siglip-so400m-patch14-384 clip-vit-b32-hf
# clip-vit-b32-openclip clip-vit-l14-336-hf clip-vit-l14-336-openclip xlmr-base-mclip
# nllb-clip-base-siglip (scripts/fixtures/make_nllb_fixtures.py).
# The fixture venv (.venv-encoders) is made from scripts/fixtures/requirements-encoders.txt
# when missing, PyTorch from the local CPU wheel (MMS_TORCH_WHEEL, or /opt/wheels).
# A model whose reference.json exists is kept (delete its folder to rebuild).
set -euo pipefail
cd "$(dirname "$0")/.."

if (($# == 0)); then
    echo "usage: scripts/full-geometry.sh NAME... | all" >&2
    exit 2
fi
venv=.venv-encoders
requirements=scripts/fixtures/requirements-encoders.txt
stamp="$venv/.requirements.sha256"
digest=$(sha256sum "$requirements" | cut -d' ' -f1)
if [[ ! -x "$venv/bin/python" || ! -f "$stamp" || "$(cat "$stamp")" != "$digest" ]]; then
    wheel=${MMS_TORCH_WHEEL:-$(ls /opt/wheels/torch-2.13.0+cpu-*.whl 2>/dev/null | head -1 || true)}
    source=${wheel:---extra-index-url=https://download.pytorch.org/whl/cpu}
    echo "full-geometry: making $venv from $requirements"
    rm -rf "$venv"
    python3 -m venv "$venv"
    "$venv/bin/pip" install --quiet --disable-pip-version-check "$source" torch==2.13.0 -r "$requirements"
    echo "$digest" >"$stamp"
fi
names=("$@")
if [[ "${names[0]}" == "all" ]]; then
    names=(siglip-base-patch16-224 siglip-so400m-patch14-384 clip-vit-b32-hf clip-vit-b32-openclip
        clip-vit-l14-336-hf clip-vit-l14-336-openclip xlmr-base-mclip nllb-clip-base-siglip)
fi
for name in "${names[@]}"; do
    if [[ -f ".build/full-geometry/$name/reference.json" ]]; then
        echo "full-geometry: $name is there"
        continue
    fi
    start=$SECONDS
    script=scripts/fixtures/make_siglip_fixtures.py
    [[ "$name" == nllb-* ]] && script=scripts/fixtures/make_nllb_fixtures.py
    OMP_NUM_THREADS=1 "$venv/bin/python" "$script" --skip-tiny --full "$name" 2>&1 |
        grep -v -e '^\[transformers\]' -e '^Writing' -e 'No pretrained weights' || true
    [[ -f ".build/full-geometry/$name/reference.json" ]] || { echo "full-geometry: $name failed" >&2; exit 1; }
    echo "full-geometry: $name in $((SECONDS - start)) s"
done
