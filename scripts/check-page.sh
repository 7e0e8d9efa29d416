#!/usr/bin/env bash
# The search page of `mms serve`, in headless Chromium, against the real server:
# builds a small collection from the test fixtures (eight pictures with captions,
# the tiny SigLIP fixture as the picture encoder so picture queries work, the
# keyword index), serves it on 127.0.0.1 with a free port, and runs
# scripts/check-page.py, which types a query, checks the rendered results
# against the API's answer, takes a screenshot and checks it, clicks Save and
# Hide and checks the server recorded both events, shows an API error, searches
# with a picture from the file picker and by drag and drop, and checks that a
# caption with markup stays text. Then stops the server with SIGTERM.
# Usage: scripts/check-page.sh PATH-TO-MMS   (MMS_PAGE_SCREENSHOT=FILE keeps the screenshot)
set -euo pipefail
cd "$(dirname "$0")/.."
mms="$1"
work="$(mktemp -d)"
server=""
cleanup() {
    if [[ -n "$server" ]] && kill -0 "$server" 2>/dev/null; then
        kill "$server" 2>/dev/null || true
        wait "$server" 2>/dev/null || true
    fi
    rm -rf "$work"
}
trap cleanup EXIT

pictures=Tests/ImageDecodingTests/Fixtures
signs=Tests/MultimodalSearchTests/Fixtures/ocr
mkdir -p "$work/pictures/animals" "$work/pictures/food" "$work/pictures/signs" "$work/pictures/sky"
add() { cp "$1" "$work/pictures/$2"; echo "$3" >"$work/pictures/${2%.*}.txt"; }
add "$pictures/rgb.png" animals/frog.png "A green frog."
add "$pictures/baseline.jpg" animals/cat.jpg "A sleeping cat."
add "$pictures/palette.png" food/apple.png "A red apple."
add "$pictures/gray.png" food/bread.png "A grey loaf of bread."
add "$signs/label.png" signs/label.png "A printed label on a jar."
add "$signs/poster.png" signs/poster.png "A poster for a jazz festival."
add "$signs/shop-sign.png" signs/shop-sign.png "A shop sign above a door."
add "$signs/blank-sky.png" sky/sky.png "A blue sky with no clouds."
model=Tests/EncodersTests/Fixtures/siglip_hf

if ! "$mms" index "$work/pictures" --store "$work/store" --clip "$model" >"$work/index.txt" 2>&1; then
    cat "$work/index.txt" >&2
    echo "check-page: could not build the test collection" >&2
    exit 1
fi

key="page-test-$RANDOM$RANDOM"
"$mms" serve --store "$work/store" --clip "$model" --host 127.0.0.1 --port 0 --api-key "$key" \
    --picture-root "$work/pictures" >"$work/serve.out" 2>"$work/serve.err" &
server=$!
url=""
for _ in $(seq 600); do
    url=$(grep -o -m1 'http://127\.0\.0\.1:[0-9]*' "$work/serve.out" 2>/dev/null || true)
    [[ -n "$url" ]] && break
    if ! kill -0 "$server" 2>/dev/null; then break; fi
    sleep 0.1
done
if [[ -z "$url" ]]; then
    cat "$work/serve.out" "$work/serve.err" >&2
    echo "check-page: mms serve did not start listening within 60 s" >&2
    exit 1
fi

status=0
python3 scripts/check-page.py --url "$url" --query "a green frog" --expect "A green frog." \
    --picture "$work/pictures/animals/frog.png" --api-key "$key" \
    --screenshot "${MMS_PAGE_SCREENSHOT:-$work/page.png}" || status=$?

kill -TERM "$server"
stopped=0
wait "$server" || stopped=$?
server=""
if ((stopped != 0)); then
    echo "FAILED: mms serve exits 0 on SIGTERM (exit $stopped)" >&2
    tail -n 20 "$work/serve.err" >&2
    status=1
fi
if ((status != 0)); then
    tail -n 40 "$work/serve.err" >&2
fi
exit "$status"
