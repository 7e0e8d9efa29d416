#!/usr/bin/env python3
"""ANN anchors for `mms-bench ann`: hnswlib, FAISS and usearch on the same files.

    ann_anchors.py run   --base B.fvecs --queries Q.fvecs --groundtruth G.ivecs --out anchors.json
    ann_anchors.py serve --base B.fvecs --queries Q.fvecs --groundtruth G.ivecs
    ann_anchors.py plot  --results combined.json --out recall_qps.png

`serve` builds every index, prints one JSON line {"event": "ready", "builds": [...]}, then answers each
`measure EF` line on stdin with {"event": "measured", "ef": EF, "results": [...]}, until `quit`. mms-bench
uses it to time the anchors right after its own index at the same ef, round after round, so a change in
the machine's load during the run falls on both sides alike.

`run` builds each library's HNSW index with the same M and efConstruction as
ours on `--threads` threads, then for every ef times ONE batched search call
over all queries on one thread (and again on two), so Python's per-call
overhead is paid once per batch, not per query. Recall@k is computed against
the exact ground truth written by mms-bench. Memory is the growth of the
process's resident set while the index is built (the vectors already loaded).

Output: {"results": [{"lib", "ef", "recall", "qps1", "qps2", "build_s", "memory_mb"}], "versions": {...}}.
"""
import argparse
import gc
import json
import sys
import time

import numpy as np


def read_fvecs(path):
    raw = np.fromfile(path, dtype="<i4")
    dim = int(raw[0])
    return raw.reshape(-1, dim + 1)[:, 1:].view("<f4").copy()


def read_ivecs(path):
    raw = np.fromfile(path, dtype="<i4")
    k = int(raw[0])
    return raw.reshape(-1, k + 1)[:, 1:].copy()


def rss_bytes():
    with open("/proc/self/statm") as f:
        pages = int(f.read().split()[1])
    import resource
    return pages * resource.getpagesize()


def recall_at(found, truth, k):
    hits = 0
    for row, true_row in zip(found, truth):
        hits += len(set(int(x) for x in row[:k]) & set(int(x) for x in true_row[:k]))
    return hits / (len(truth) * k)


def best_time(call, repeats):
    call()  # warm up
    best = float("inf")
    for _ in range(repeats):
        start = time.perf_counter()
        call()
        best = min(best, time.perf_counter() - start)
    return best


class HnswlibAnchor:
    name = "hnswlib"

    def __init__(self, dim, m, ef_construction, seed):
        import hnswlib
        self.module = hnswlib
        self.dim, self.m, self.ef_construction, self.seed = dim, m, ef_construction, seed

    def build(self, base, threads):
        self.index = self.module.Index(space="ip", dim=self.dim)
        self.index.init_index(max_elements=len(base), M=self.m, ef_construction=self.ef_construction,
                              random_seed=self.seed)
        self.index.add_items(base, np.arange(len(base)), num_threads=threads)

    def search(self, queries, k, ef, threads):
        self.index.set_ef(ef)
        labels, _ = self.index.knn_query(queries, k=k, num_threads=threads)
        return labels


class FaissAnchor:
    name = "faiss"

    def __init__(self, dim, m, ef_construction, seed):
        import faiss
        self.faiss = faiss
        self.dim, self.m, self.ef_construction = dim, m, ef_construction

    def build(self, base, threads):
        self.faiss.omp_set_num_threads(threads)
        self.index = self.faiss.IndexHNSWFlat(self.dim, self.m, self.faiss.METRIC_INNER_PRODUCT)
        self.index.hnsw.efConstruction = self.ef_construction
        self.index.add(base)

    def search(self, queries, k, ef, threads):
        self.faiss.omp_set_num_threads(threads)
        self.index.hnsw.efSearch = ef
        _, labels = self.index.search(queries, k)
        return labels


class UsearchAnchor:
    def __init__(self, dim, m, ef_construction, seed, dtype):
        from usearch.index import Index
        self.Index = Index
        self.dim, self.m, self.ef_construction, self.dtype = dim, m, ef_construction, dtype
        self.name = "usearch" if dtype == "f32" else f"usearch-{dtype}"

    def build(self, base, threads):
        # The vectors are unit length, so "cos" ranks exactly as "ip"; usearch's int8 cast is
        # meant for cosine (it scales each vector by 127/|x|), so i8 runs with "cos".
        metric = "ip" if self.dtype == "f32" else "cos"
        self.index = self.Index(ndim=self.dim, metric=metric, dtype=self.dtype, connectivity=self.m,
                                expansion_add=self.ef_construction, expansion_search=64)
        self.index.add(np.arange(len(base)), base, threads=threads)

    def search(self, queries, k, ef, threads):
        self.index.expansion_search = ef
        matches = self.index.search(queries, k, threads=threads)
        return matches.keys


def run(args):
    base = read_fvecs(args.base)
    queries = read_fvecs(args.queries)
    truth = read_ivecs(args.groundtruth)
    efs = [int(x) for x in args.efs.split(",")]
    dim = base.shape[1]
    makers = {
        "hnswlib": lambda: HnswlibAnchor(dim, args.m, args.ef_construction, args.seed),
        "faiss": lambda: FaissAnchor(dim, args.m, args.ef_construction, args.seed),
        "usearch": lambda: UsearchAnchor(dim, args.m, args.ef_construction, args.seed, "f32"),
        "usearch-i8": lambda: UsearchAnchor(dim, args.m, args.ef_construction, args.seed, "i8"),
    }
    results = []
    for lib in args.libs.split(","):
        anchor = makers[lib]()
        gc.collect()
        before = rss_bytes()
        start = time.perf_counter()
        anchor.build(base, args.threads)
        build_s = time.perf_counter() - start
        memory_mb = (rss_bytes() - before) / (1 << 20)
        print(f"{anchor.name}: built in {build_s:.1f} s, {memory_mb:.0f} MiB", file=sys.stderr, flush=True)
        for ef in efs:
            found = anchor.search(queries, args.k, ef, 1)
            recall = recall_at(found, truth, args.k)
            t1 = best_time(lambda: anchor.search(queries, args.k, ef, 1), args.repeats)
            t2 = best_time(lambda: anchor.search(queries, args.k, ef, 2), args.repeats)
            results.append({"lib": anchor.name, "ef": ef, "recall": recall, "qps1": len(queries) / t1,
                            "qps2": len(queries) / t2, "build_s": build_s, "memory_mb": memory_mb})
            print(f"  ef={ef}: recall {recall:.4f}, {len(queries) / t1:.0f} QPS (1 thread)", file=sys.stderr,
                  flush=True)
        del anchor
        gc.collect()
    versions = {}
    for module in ("hnswlib", "faiss", "usearch", "numpy"):
        try:
            versions[module] = getattr(__import__(module), "__version__", "?")
        except Exception:  # an anchor not installed is reported, not fatal
            versions[module] = "missing"
    with open(args.out, "w") as f:
        json.dump({"results": results, "versions": versions}, f, indent=1)


def measure(anchor, queries, truth, k, ef, repeats, cache):
    if (anchor.name, ef) not in cache:
        cache[(anchor.name, ef)] = recall_at(anchor.search(queries, k, ef, 1), truth, k)
    t1 = best_time(lambda: anchor.search(queries, k, ef, 1), repeats)
    t2 = best_time(lambda: anchor.search(queries, k, ef, 2), repeats)
    return {"lib": anchor.name, "ef": ef, "recall": cache[(anchor.name, ef)], "qps1": len(queries) / t1,
            "qps2": len(queries) / t2}


def serve(args):
    base = read_fvecs(args.base)
    queries = read_fvecs(args.queries)
    truth = read_ivecs(args.groundtruth)
    dim = base.shape[1]
    anchors, builds = [], []
    for lib in args.libs.split(","):
        anchor = {
            "hnswlib": lambda: HnswlibAnchor(dim, args.m, args.ef_construction, args.seed),
            "faiss": lambda: FaissAnchor(dim, args.m, args.ef_construction, args.seed),
            "usearch": lambda: UsearchAnchor(dim, args.m, args.ef_construction, args.seed, "f32"),
            "usearch-i8": lambda: UsearchAnchor(dim, args.m, args.ef_construction, args.seed, "i8"),
        }[lib]()
        gc.collect()
        before = rss_bytes()
        start = time.perf_counter()
        anchor.build(base, args.threads)
        build_s = time.perf_counter() - start
        memory_mb = (rss_bytes() - before) / (1 << 20)
        print(f"{anchor.name}: built in {build_s:.1f} s, {memory_mb:.0f} MiB", file=sys.stderr, flush=True)
        anchors.append(anchor)
        builds.append({"lib": anchor.name, "build_s": build_s, "memory_mb": memory_mb})
    print(json.dumps({"event": "ready", "builds": builds}), flush=True)
    cache = {}
    for line in sys.stdin:
        words = line.split()
        if not words or words[0] == "quit":
            break
        ef = int(words[1])
        results = [measure(a, queries, truth, args.k, ef, args.repeats, cache) for a in anchors]
        print(json.dumps({"event": "measured", "ef": ef, "results": results}), flush=True)


def plot(args):
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    with open(args.results) as f:
        results = json.load(f)["results"]
    libs = []
    for r in results:
        if r["lib"] not in libs:
            libs.append(r["lib"])
    fig, ax = plt.subplots(figsize=(8, 5.5))
    for lib in libs:
        points = sorted((r["recall"], r["qps1"]) for r in results if r["lib"] == lib)
        ours = lib.startswith("mms")
        ax.plot([p[0] for p in points], [p[1] for p in points], marker="o" if ours else "s",
                linewidth=2.2 if ours else 1.2, linestyle="-" if ours else "--", label=lib)
    ax.set_xlabel("recall@10")
    ax.set_ylabel("queries per second (1 thread)")
    ax.set_yscale("log")
    ax.set_title(args.title)
    ax.grid(True, which="both", alpha=0.3)
    ax.legend()
    fig.tight_layout()
    fig.savefig(args.out, dpi=120)
    print(f"wrote {args.out}", file=sys.stderr)


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="command", required=True)
    r = sub.add_parser("run")
    r.add_argument("--base", required=True)
    r.add_argument("--queries", required=True)
    r.add_argument("--groundtruth", required=True)
    r.add_argument("--out", required=True)
    r.add_argument("--m", type=int, default=16)
    r.add_argument("--ef-construction", type=int, default=200)
    r.add_argument("--threads", type=int, default=2)
    r.add_argument("--efs", default="16,32,64,128,256")
    r.add_argument("--k", type=int, default=10)
    r.add_argument("--repeats", type=int, default=3)
    r.add_argument("--seed", type=int, default=100)
    r.add_argument("--libs", default="hnswlib,faiss,usearch,usearch-i8")
    v = sub.add_parser("serve")
    for flag in ("--base", "--queries", "--groundtruth"):
        v.add_argument(flag, required=True)
    v.add_argument("--m", type=int, default=16)
    v.add_argument("--ef-construction", type=int, default=200)
    v.add_argument("--threads", type=int, default=2)
    v.add_argument("--k", type=int, default=10)
    v.add_argument("--repeats", type=int, default=3)
    v.add_argument("--seed", type=int, default=100)
    v.add_argument("--libs", default="hnswlib,faiss,usearch,usearch-i8")
    p = sub.add_parser("plot")
    p.add_argument("--results", required=True)
    p.add_argument("--out", required=True)
    p.add_argument("--title", default="recall@10 vs QPS, 100k x 512, inner product, M=16, efC=200")
    args = parser.parse_args()
    {"run": run, "serve": serve, "plot": plot}[args.command](args)


if __name__ == "__main__":
    main()
