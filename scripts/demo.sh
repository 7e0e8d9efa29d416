#!/usr/bin/env bash
# The demo: sets up a fresh machine, builds in release and runs the
# quick-start example (embed, index, search with a filter, INT8 codes).
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="/opt/swift/usr/bin:$PATH"
bash scripts/setup.sh
swift run -c release --package-path Examples quick-start
