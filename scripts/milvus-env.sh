#!/usr/bin/env bash
# Makes .venv-milvus, the Python environment with a pinned milvus-lite (a local
# Milvus server) and pymilvus (which milvus-lite needs beside it, and whose
# generated *_pb2.py files are the descriptors Milvus/Sources/MilvusProto was
# generated from):
#
#   scripts/milvus-env.sh            # makes .venv-milvus in the repository root
#   MILVUS_VENV=/some/dir scripts/milvus-env.sh
#
# An environment whose requirements (Milvus/requirements.txt) have not changed
# since it was made is left alone; delete the venv to force a rebuild. Prints
# the venv's path last.
set -euo pipefail
cd "$(dirname "$0")/.."

python=${PYTHON:-python3}
venv=${MILVUS_VENV:-$PWD/.venv-milvus}
requirements=Milvus/requirements.txt
if ! "$python" -c 'import venv, ensurepip' >/dev/null 2>&1; then
    echo "milvus-env: $python lacks venv/ensurepip; install python3-venv (apt-get install python3-venv)" >&2
    exit 1
fi

stamp="$venv/.requirements.sha256"
digest=$(sha256sum "$requirements" | cut -d' ' -f1)
if [[ -x "$venv/bin/milvus-lite" && -f "$stamp" && "$(cat "$stamp")" == "$digest" ]]; then
    echo "milvus-env: $venv is up to date" >&2
else
    echo "milvus-env: making $venv from $requirements" >&2
    rm -rf "$venv"
    "$python" -m venv "$venv"
    "$venv/bin/pip" install --quiet --disable-pip-version-check -r "$requirements" >&2
    echo "$digest" >"$stamp"
fi
echo "$venv"
