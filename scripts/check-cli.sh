#!/usr/bin/env bash
# Checks `mms index` end to end on a folder with broken files: three good
# pictures, a truncated JPEG, an empty file and a text file named .png. The
# run must finish, warn once for each broken file and index the three good
# ones. Usage: scripts/check-cli.sh PATH-TO-MMS
set -euo pipefail
cd "$(dirname "$0")/.."
mms="$1"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
mkdir -p "$work/pictures/animals" "$work/pictures/food"
fixtures=Tests/ImageDecodingTests/Fixtures
cp "$fixtures/rgb.png" "$work/pictures/animals/frog.png"
echo "A green frog." >"$work/pictures/animals/frog.txt"
cp "$fixtures/baseline.jpg" "$work/pictures/animals/cat.jpg"
echo "A sleeping cat." >"$work/pictures/animals/cat.txt"
cp "$fixtures/palette.png" "$work/pictures/food/apple.png"
echo "A red apple." >"$work/pictures/food/apple.txt"
cp "$fixtures/truncated.jpg" "$work/pictures/food/broken.jpg"
: >"$work/pictures/food/empty.png"
echo "not a picture" >"$work/pictures/animals/notes.png"

"$mms" index "$work/pictures" --store "$work/store" >"$work/out.txt" 2>"$work/err.txt"
fail=0
check() {
    if eval "$2"; then echo "ok: $1"; else echo "FAILED: $1" >&2; fail=1; fi
}
check "three warnings" '[[ $(grep -c "^warning: skipped" "$work/err.txt") -eq 3 ]]'
check "a warning for the truncated JPEG" 'grep -q "skipped food/broken.jpg" "$work/err.txt"'
check "a warning for the empty file" 'grep -q "skipped food/empty.png" "$work/err.txt"'
check "a warning for the text file" 'grep -q "skipped animals/notes.png" "$work/err.txt"'
check "three indexed" 'grep -q "Indexed 3 new pictures" "$work/out.txt"'
"$mms" search "a frog" --store "$work/store" -k 1 >"$work/search.txt"
check "the frog is found" 'grep -q "A green frog." "$work/search.txt"'
"$mms" search "an animal" --store "$work/store" -k 3 --html "$work/results.html" >/dev/null
check "the HTML page is written" '[[ -s "$work/results.html" ]]'
# Render the page in headless Chromium: the page records how many thumbnails decoded.
browser=$(command -v chromium || command -v chromium-browser || true)
check "a headless Chromium is installed" '[[ -n "$browser" ]]'
if [[ -n "$browser" ]]; then
    flags=(--headless --no-sandbox --disable-gpu --disable-dev-shm-usage --virtual-time-budget=5000)
    dom=$("$browser" "${flags[@]}" --dump-dom "file://$work/results.html" 2>/dev/null || true)
    check "every thumbnail loads in headless Chromium (3/3)" '[[ "$dom" == *data-images-loaded=\"3/3\"* ]]'
    if [[ -n "${MMS_SCREENSHOT:-}" ]]; then
        "$browser" "${flags[@]}" --window-size=1100,700 --screenshot="$MMS_SCREENSHOT" "file://$work/results.html" >/dev/null 2>&1 || true
    fi
fi
"$mms" index "$work/pictures" --store "$work/store" >"$work/again.txt" 2>/dev/null
check "a second run resumes with nothing new to index" 'grep -q "3 already in" "$work/again.txt"'
if ((fail)); then
    cat "$work/out.txt" "$work/err.txt" >&2
    exit 1
fi
