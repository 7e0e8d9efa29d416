#!/usr/bin/env python3
"""Makes the real data sets of `mms-bench ann --dataset NAME`, with exact ground truth.

    scripts/bench-env.sh ann                       # .venv-bench (numpy)
    apt-get install dataset-fashion-mnist          # for fashion-mnist-784-euclidean
    apt-get update                                 # for debian-minilm-384-angular (apt-cache dumpavail)
    scripts/fetch-test-models.sh                   # all-MiniLM-L6-v2, for the same
    swift build -c release --package-path Benchmarks --product mms-bench   # its `ann-embed`, for the same
    .venv-bench/bin/python Benchmarks/anchors/make_ann_datasets.py [--out bench-data/ann] [NAME ...]

Relative paths (--out, --mms-bench) are taken from the repository root, wherever the script is run from.

Each set is a folder under --out (outside git) holding
  base.fvecs, query.fvecs   little-endian rows: an int32 dimension, then that many float32
  gt.ivecs                  per query: int32 k (100), then the k nearest base rows, nearest first
  info.json                 {"name", "metric" ("l2" | "cosine"), "dimension", "count", "queries", "truth_k", "source"}

Sets:
  fashion-mnist-784-euclidean   Debian's dataset-fashion-mnist: the 60,000 training images as the base, the
                                10,000 test images as queries, pixels 0…255 as floats, squared L2; the split and
                                metric of ann-benchmarks' fashion-mnist-784-euclidean.
  debian-minilm-384-angular     every package description `apt-cache dumpavail` prints (one document per distinct
                                text: synopsis plus long description where apt has it), embedded by this SDK's own
                                all-MiniLM-L6-v2 (`mms-bench ann-embed`: mean pooling, L2-normalised), cosine;
                                a seeded random --held-out of the texts are the queries, the rest the base.

Ground truth is exact: a float32 GEMM proposes the nearest truth_k + 64 rows, which are re-scored in float64
from the vectors themselves (no expansion of the norm) and sorted by (distance, row), so ties go to the lower
row. A set whose files exist is left alone (delete its folder to remake it).
"""
import argparse
import gzip
import json
import os
import pathlib
import random
import shutil
import struct
import subprocess
import sys
import tempfile

import numpy as np

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent))
from make_lexical_corpus import description, stanzas  # noqa: E402  (same folder)

TRUTH_K = 100
FASHION = "/usr/share/datasets/fashion-mnist"
ROOT = pathlib.Path(__file__).resolve().parents[2]  # the repository


# --- file formats -------------------------------------------------------------------------------------

def write_fvecs(path, rows):
    rows = np.ascontiguousarray(rows, dtype="<f4")
    n, d = rows.shape
    out = np.empty((n, d + 1), dtype="<f4")
    out[:, 0] = np.array([d], dtype="<i4").view("<f4")[0]
    out[:, 1:] = rows
    out.tofile(path)


def read_fvecs(path):
    raw = np.fromfile(path, dtype="<i4")
    if raw.size == 0:
        return np.zeros((0, 0), dtype="<f4")
    d = int(raw[0])
    if raw.size % (d + 1) != 0:
        raise ValueError(f"{path}: not rows of {d} floats")
    rows = raw.reshape(-1, d + 1)
    if not (rows[:, 0] == d).all():
        raise ValueError(f"{path}: rows of differing dimension")
    return rows[:, 1:].view("<f4").copy()


def write_ivecs(path, rows):
    rows = np.ascontiguousarray(rows, dtype="<i4")
    n, k = rows.shape
    out = np.empty((n, k + 1), dtype="<i4")
    out[:, 0] = k
    out[:, 1:] = rows
    out.tofile(path)


def read_ivecs(path):
    raw = np.fromfile(path, dtype="<i4")
    k = int(raw[0])
    return raw.reshape(-1, k + 1)[:, 1:].copy()


def read_idx_images(path):
    """The MNIST idx3 format: big-endian magic 2051, count, rows, columns, then unsigned bytes."""
    with gzip.open(path, "rb") as f:
        magic, n, rows, cols = struct.unpack(">iiii", f.read(16))
        if magic != 2051:
            raise ValueError(f"{path}: magic {magic}, expected 2051 (idx3 images)")
        pixels = np.frombuffer(f.read(n * rows * cols), dtype=np.uint8)
    if pixels.size != n * rows * cols:
        raise ValueError(f"{path}: truncated ({pixels.size} of {n * rows * cols} pixels)")
    return pixels.reshape(n, rows * cols).astype(np.float32)


# --- exact ground truth -------------------------------------------------------------------------------

def exact_truth(base, queries, metric, k=TRUTH_K, chunk=500):
    """The k nearest base rows of every query, exactly: float32 candidates, float64 re-scoring."""
    n = base.shape[0]
    take = min(n, k + 64)
    base64 = base.astype(np.float64)
    norms = (base.astype(np.float64) ** 2).sum(axis=1).astype(np.float32)
    truth = np.empty((queries.shape[0], min(k, n)), dtype=np.int32)
    for start in range(0, queries.shape[0], chunk):
        q = queries[start:start + chunk]
        scores = q @ base.T  # float32
        if metric == "l2":
            approx = norms[None, :] - 2 * scores
        else:
            approx = -scores / np.sqrt(np.maximum(norms, 1e-30))[None, :]
        candidates = np.argpartition(approx, take - 1, axis=1)[:, :take]
        for i in range(q.shape[0]):
            rows = np.sort(candidates[i])
            x = base64[rows]
            qi = q[i].astype(np.float64)
            if metric == "l2":
                dist = ((x - qi) ** 2).sum(axis=1)
            else:
                dist = 1 - (x @ qi) / (np.sqrt((x * x).sum(axis=1)) * np.sqrt(qi @ qi))
            order = np.lexsort((rows, dist))[:k]
            truth[start + i] = rows[order]
    return truth


def check_truth(base, queries, truth, metric, samples=20, seed=3):
    """Spot-checks the truth of a few queries against a full float64 scan."""
    rng = np.random.default_rng(seed)
    base64 = base.astype(np.float64)
    for i in rng.choice(queries.shape[0], size=min(samples, queries.shape[0]), replace=False):
        qi = queries[i].astype(np.float64)
        if metric == "l2":
            dist = ((base64 - qi) ** 2).sum(axis=1)
        else:
            dist = 1 - (base64 @ qi) / (np.sqrt((base64 * base64).sum(axis=1)) * np.sqrt(qi @ qi))
        order = np.lexsort((np.arange(len(dist)), dist))[:truth.shape[1]]
        if not (order == truth[i]).all():
            raise SystemExit(f"ground truth check failed for query {i}")


def write_set(out, name, base, queries, metric, source):
    folder = pathlib.Path(out) / name
    folder.mkdir(parents=True, exist_ok=True)
    print(f"{name}: {base.shape[0]} × {base.shape[1]} base, {queries.shape[0]} queries, {metric}; exact truth…",
          flush=True)
    truth = exact_truth(base, queries, metric)
    check_truth(base, queries, truth, metric)
    write_fvecs(folder / "base.fvecs", base)
    write_fvecs(folder / "query.fvecs", queries)
    write_ivecs(folder / "gt.ivecs", truth)
    info = {"name": name, "metric": metric, "dimension": int(base.shape[1]), "count": int(base.shape[0]),
            "queries": int(queries.shape[0]), "truth_k": int(truth.shape[1]), "source": source}
    # info.json last: its presence says the set is complete.
    (folder / "info.json").write_text(json.dumps(info, indent=1) + "\n")
    print(f"{name}: wrote {folder}", flush=True)


def complete(out, name):
    return (pathlib.Path(out) / name / "info.json").exists()


# --- the sets -----------------------------------------------------------------------------------------

def fashion_mnist(args):
    name = "fashion-mnist-784-euclidean"
    train = os.path.join(args.fashion_dir, "train-images-idx3-ubyte.gz")
    test = os.path.join(args.fashion_dir, "t10k-images-idx3-ubyte.gz")
    if not os.path.exists(train):
        raise SystemExit(f"{train} not found: apt-get install dataset-fashion-mnist (or pass --fashion-dir)")
    base, queries = read_idx_images(train), read_idx_images(test)
    write_set(args.out, name, base, queries, "l2",
              "Debian dataset-fashion-mnist: train-images (base), t10k-images (queries)")


def debian_texts():
    dump = subprocess.run(["apt-cache", "dumpavail"], check=True, capture_output=True, text=True).stdout
    seen = set()
    texts = []
    for fields in stanzas(dump):
        raw = fields.get("Description") or fields.get("Description-en")
        if not raw:
            continue
        _, text = description(raw)
        if text not in seen:
            seen.add(text)
            texts.append(text)
    return texts


def debian_minilm(args):
    name = "debian-minilm-384-angular"
    texts = debian_texts()
    if len(texts) < 10 * args.held_out:
        raise SystemExit(f"only {len(texts)} distinct descriptions: run apt-get update first")
    order = list(range(len(texts)))
    random.Random(args.seed).shuffle(order)
    query_rows, base_rows = sorted(order[:args.held_out]), sorted(order[args.held_out:])
    if not os.access(args.mms_bench, os.X_OK):
        raise SystemExit(f"{args.mms_bench} not found: swift build -c release --package-path Benchmarks "
                         f"--product mms-bench (or pass --mms-bench)")
    print(f"{name}: {len(texts)} distinct package descriptions; embedding with {args.mms_bench} ann-embed…",
          flush=True)
    with tempfile.TemporaryDirectory() as tmp:
        listing = os.path.join(tmp, "texts.jsonl")
        with open(listing, "w") as f:
            for text in texts:
                f.write(json.dumps({"text": text}, ensure_ascii=False) + "\n")
        vectors = os.path.join(tmp, "vectors.fvecs")
        command = [args.mms_bench, "ann-embed", "--texts", listing, "--out", vectors]
        if args.text_model:
            command += ["--text-model", args.text_model]
        subprocess.run(command, check=True)
        embedded = read_fvecs(vectors)
    if embedded.shape[0] != len(texts):
        raise SystemExit(f"ann-embed wrote {embedded.shape[0]} vectors for {len(texts)} texts")
    write_set(args.out, name, embedded[base_rows], embedded[query_rows], "cosine",
              f"apt-cache dumpavail: {len(texts)} distinct descriptions, all-MiniLM-L6-v2 (this SDK), "
              f"{args.held_out} held out as queries (seed {args.seed})")


SETS = {"fashion-mnist-784-euclidean": fashion_mnist, "debian-minilm-384-angular": debian_minilm}


def self_test(out):
    """Checks the format code on small seeded data and writes two tiny sets (`self-test-l2`,
    `self-test-cosine`) under `out` for `mms-bench ann --dataset` to read (CI runs both)."""
    rng = np.random.default_rng(16)
    with tempfile.TemporaryDirectory() as tmp:
        images = rng.integers(0, 256, size=(7, 28 * 28), dtype=np.uint8)
        path = os.path.join(tmp, "images.gz")
        with gzip.open(path, "wb") as f:
            f.write(struct.pack(">iiii", 2051, 7, 28, 28) + images.tobytes())
        if not (read_idx_images(path) == images.astype(np.float32)).all():
            raise SystemExit("self-test: idx3 images read back wrong")
        with gzip.open(path, "wb") as f:
            f.write(struct.pack(">iiii", 2049, 7, 28, 28))
        try:
            read_idx_images(path)
            raise SystemExit("self-test: a labels file was read as images")
        except ValueError:
            pass
        rows = rng.standard_normal((5, 3)).astype(np.float32)
        write_fvecs(os.path.join(tmp, "r.fvecs"), rows)
        raw = open(os.path.join(tmp, "r.fvecs"), "rb").read()
        if len(raw) != 5 * 16 or struct.unpack("<i3f", raw[:16])[0] != 3 or \
                struct.unpack("<i3f", raw[:16])[1:] != tuple(float(x) for x in rows[0]):
            raise SystemExit("self-test: fvecs layout is not <int32 d, d float32> per row")
        if not (read_fvecs(os.path.join(tmp, "r.fvecs")) == rows).all():
            raise SystemExit("self-test: fvecs round trip")
        ids = rng.integers(0, 1000, size=(4, 6)).astype(np.int32)
        write_ivecs(os.path.join(tmp, "g.ivecs"), ids)
        if not (read_ivecs(os.path.join(tmp, "g.ivecs")) == ids).all():
            raise SystemExit("self-test: ivecs round trip")
    for metric in ("l2", "cosine"):
        base = rng.standard_normal((2000, 32)).astype(np.float32)
        queries = rng.standard_normal((50, 32)).astype(np.float32)
        base[7] = base[3]  # an exact tie: the lower row must come first
        queries[0] = base[3]
        folder = pathlib.Path(out) / f"self-test-{metric}"
        shutil.rmtree(folder, ignore_errors=True)
        write_set(out, f"self-test-{metric}", base, queries, metric, "make_ann_datasets.py --self-test")
        truth = read_ivecs(folder / "gt.ivecs")
        if list(truth[0, :2]) != [3, 7]:
            raise SystemExit(f"self-test: tie order {list(truth[0, :2])}, expected [3, 7]")
        check_truth(base, queries, truth, metric, samples=50)
    print("self-test: passed")


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("names", nargs="*", help=f"sets to make (default all): {', '.join(SETS)}")
    parser.add_argument("--out", default="bench-data/ann")
    parser.add_argument("--fashion-dir", default=FASHION)
    parser.add_argument("--mms-bench", default="Benchmarks/.build/release/mms-bench")
    parser.add_argument("--text-model", help="all-MiniLM-L6-v2 folder (default: mms-bench's)")
    parser.add_argument("--held-out", type=int, default=5000, help="queries held out of the Debian texts")
    parser.add_argument("--seed", type=int, default=16)
    parser.add_argument("--self-test", metavar="DIR", help="check the format code; write two tiny sets under DIR")
    args = parser.parse_args()
    args.out = str(ROOT / args.out)  # an absolute --out stays as it is
    args.mms_bench = str(ROOT / args.mms_bench)
    if args.self_test:
        self_test(args.self_test)
        return
    for name in args.names or list(SETS):
        if name not in SETS:
            raise SystemExit(f"unknown set {name!r}; known: {', '.join(SETS)}")
        if complete(args.out, name):
            print(f"{name}: already in {args.out}")
            continue
        SETS[name](args)


if __name__ == "__main__":
    main()
