#!/usr/bin/env python3
"""ANN anchors for `mms-bench ann`: the field's libraries on the very files our index reads.

    ann_anchors.py serve --base B.fvecs --queries Q.fvecs --groundtruth G.ivecs --metric l2 --libs hnswlib,faiss-hnsw
    ann_anchors.py plot  --results report.json --out recall_qps.svg
    ann_anchors.py list                       # every anchor, and whether it imports here
    ann_anchors.py medians --run A1.json,B1.json --run A2.json,B2.json ...   # medians over runs

`serve` builds every index named by --libs (on --threads threads), prints one JSON line
{"event": "ready", "builds": [{"lib", "build_s", "memory_mb", "steps": [label, ...]}], "skipped": [...]},
then answers each `measure STEP` line on stdin with {"event": "measured", "step": STEP, "results": [...]}:
every anchor with a STEP-th point on its sweep is timed there (one batched search over all queries on one
thread, best of --repeats after a warm-up; with --two-threads also on two), until `quit`. mms-bench times
its own index at its STEP-th ef right before, so a change in the machine's load falls on both sides alike.

An anchor that cannot be imported or built is not fatal: it goes into "skipped" with the exact error, and
mms-bench prints it.

Each anchor is swept over the knob its documentation names for the speed/recall trade-off, with the build
parameters its documentation (or ann-benchmarks' configuration for it) recommends for a set of this size:
  hnswlib             M, efConstruction as ours; ef
  faiss-hnsw          IndexHNSWFlat, M, efConstruction as ours; efSearch
  faiss-hnsw-sq8      IndexHNSWSQ (QT_8bit), M, efConstruction as ours; efSearch
  faiss-ivf-rabitq    IndexIVFRaBitQFastScan (nlist ≈ 4·√n, 8-bit query LUT) under IndexRefineFlat (exact
                      re-ranking from the float vectors); (nprobe, k_factor)
  usearch, usearch-i8 connectivity M, expansion_add efConstruction; expansion_search. For L2, usearch-i8
                      is given int8 rows made by one affine map for every vector (its own cast would
                      normalise each vector, which suits cosine only)
  ngt-onng            NGT's ANNG (edge 100) reshaped into an ONNG (out 10, in 120) with ngtpy.Optimizer, the
                      graph NGT-QG quantizes; epsilon. (NGT-QG itself needs the `qbg` tool, absent from the
                      PyPI wheel: see `list`.)
  vsag-hgraph         pyvsag "hgraph", SQ8 base codes with fp32 re-ranking, max_degree 2·M, ef_construction as
                      ours; ef_search (one knn_search call per query: pyvsag has no batch search)
  scann               tree (√n leaves) + asymmetric hashing (2 dims/block, anisotropic threshold 0.2) +
                      exact re-ordering; (leaves_to_search, pre_reorder_num_neighbors)

Memory is the growth of the process's resident set while the index is built (the vectors already loaded).
Recall@k is computed against the exact ground truth, as a set overlap of the first k.
"""
import argparse
import gc
import json
import math
import os
import shutil
import sys
import tempfile
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
    import resource
    with open("/proc/self/statm") as f:
        pages = int(f.read().split()[1])
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


class Anchor:
    """One library: build once, then `search(queries, k, step, threads)` at the step-th point of its sweep."""
    name = "?"

    def __init__(self, args, dim):
        self.args, self.dim = args, dim
        self.metric = args.metric  # "l2" or "ip" (cosine sets are normalised before they get here)

    def steps(self):
        return [str(ef) for ef in self.args.ef_list]


class HnswlibAnchor(Anchor):
    name = "hnswlib"

    def build(self, base, threads):
        import hnswlib
        self.index = hnswlib.Index(space="l2" if self.metric == "l2" else "ip", dim=self.dim)
        self.index.init_index(max_elements=len(base), M=self.args.m, ef_construction=self.args.ef_construction,
                              random_seed=self.args.seed)
        self.index.add_items(base, np.arange(len(base)), num_threads=threads)

    def search(self, queries, k, step, threads):
        self.index.set_ef(max(self.args.ef_list[step], k))
        labels, _ = self.index.knn_query(queries, k=k, num_threads=threads)
        return labels


class FaissHNSWAnchor(Anchor):
    """IndexHNSWFlat, or IndexHNSWSQ with 8-bit codes."""

    def __init__(self, args, dim, sq8):
        super().__init__(args, dim)
        self.sq8 = sq8
        self.name = "faiss-hnsw-sq8" if sq8 else "faiss-hnsw"

    def build(self, base, threads):
        import faiss
        self.faiss = faiss
        faiss.omp_set_num_threads(threads)
        metric = faiss.METRIC_L2 if self.metric == "l2" else faiss.METRIC_INNER_PRODUCT
        if self.sq8:
            self.index = faiss.IndexHNSWSQ(self.dim, faiss.ScalarQuantizer.QT_8bit, self.args.m, metric)
            self.index.train(base)
        else:
            self.index = faiss.IndexHNSWFlat(self.dim, self.args.m, metric)
        self.index.hnsw.efConstruction = self.args.ef_construction
        self.index.add(base)

    def search(self, queries, k, step, threads):
        self.faiss.omp_set_num_threads(threads)
        self.index.hnsw.efSearch = max(self.args.ef_list[step], k)
        _, labels = self.index.search(queries, k)
        return labels


class FaissRaBitQAnchor(Anchor):
    """IVF + RaBitQ fast-scan codes, re-ranked exactly by IndexRefineFlat."""
    name = "faiss-ivf-rabitq"
    sweep = [(1, 2), (2, 2), (4, 2), (8, 3), (16, 3), (24, 4), (32, 4), (48, 5), (64, 6), (96, 8), (128, 10),
             (192, 12), (256, 16)]

    def steps(self):
        return [f"nprobe={p},k_factor={f}" for p, f in self.sweep]

    def build(self, base, threads):
        import faiss
        self.faiss = faiss
        faiss.omp_set_num_threads(threads)
        metric = faiss.METRIC_L2 if self.metric == "l2" else faiss.METRIC_INNER_PRODUCT
        self.nlist = max(16, int(4 * math.sqrt(len(base))))
        self.quantizer = faiss.IndexFlat(self.dim, metric)
        self.ivf = faiss.IndexIVFRaBitQFastScan(self.quantizer, self.dim, self.nlist, metric)
        self.ivf.qb = 8
        self.index = faiss.IndexRefineFlat(self.ivf)
        self.index.train(base)
        self.index.add(base)

    def search(self, queries, k, step, threads):
        self.faiss.omp_set_num_threads(threads)
        nprobe, k_factor = self.sweep[step]
        self.ivf.nprobe = min(nprobe, self.nlist)
        params = self.faiss.IndexRefineSearchParameters(k_factor=k_factor)
        _, labels = self.index.search(queries, k, params=params)
        return labels


class UsearchAnchor(Anchor):
    def __init__(self, args, dim, dtype):
        super().__init__(args, dim)
        self.dtype = dtype
        self.name = "usearch" if dtype == "f32" else f"usearch-{dtype}"

    def build(self, base, threads):
        from usearch.index import Index
        # usearch's own float → i8 cast scales every vector to length 127 whatever the metric, which keeps
        # cosine but not L2 (it would rank by direction alone). For L2 the i8 anchor gets int8 rows from one
        # affine map for all vectors, (x − centre) · scale, which keeps L2's order up to rounding.
        self.to_int8 = None
        if self.metric == "l2":
            metric = "l2sq"
            if self.dtype == "i8":
                low, high = float(base.min()), float(base.max())
                centre, scale = (low + high) / 2, 127 / max((high - low) / 2, 1e-30)
                self.to_int8 = lambda x: np.clip(np.rint((x - centre) * scale), -127, 127).astype(np.int8)
        else:
            # Unit vectors: "cos" ranks exactly as "ip"; usearch's int8 cast is meant for cosine, so i8 runs
            # with "cos".
            metric = "ip" if self.dtype == "f32" else "cos"
        self.index = Index(ndim=self.dim, metric=metric, dtype=self.dtype, connectivity=self.args.m,
                           expansion_add=self.args.ef_construction, expansion_search=64)
        self.index.add(np.arange(len(base)), self.to_int8(base) if self.to_int8 else base, threads=threads)

    def search(self, queries, k, step, threads):
        self.index.expansion_search = max(self.args.ef_list[step], k)
        if self.to_int8:
            queries = self.to_int8(queries)  # timed with the search, as the caller would pay it
        return self.index.search(queries, k, threads=threads).keys


class NGTAnchor(Anchor):
    """NGT's ONNG, built in a temporary folder with ngtpy alone."""
    name = "ngt-onng"
    sweep = [0.8, 0.9, 0.95, 1.0, 1.02, 1.04, 1.06, 1.08, 1.1, 1.15, 1.2, 1.3]

    def steps(self):
        return [f"epsilon={e - 1:+.2f}" for e in self.sweep]

    def build(self, base, threads):
        import ngtpy
        self.folder = tempfile.mkdtemp(prefix="mms-ngt-")
        anng, onng = os.path.join(self.folder, "anng"), os.path.join(self.folder, "onng")
        ngtpy.create(anng.encode(), self.dim, edge_size_for_creation=100, edge_size_for_search=-2,
                     distance_type="L2" if self.metric == "l2" else "Inner Product", object_type="Float")
        index = ngtpy.Index(anng)
        index.batch_insert(base, num_threads=threads)
        index.save()
        index.close()
        optimizer = ngtpy.Optimizer(num_of_outgoings=10, num_of_incomings=120, log_disabled=True)
        # The degree adjustment alone (`ngt reconstruct-graph -mS`, as ann-benchmarks builds QG's graph):
        # the optimizer's search-parameter and prefetch tuning runs queries of its own for minutes.
        optimizer.set_processing_modes(search_parameter_optimization=False, prefetch_parameter_optimization=False,
                                       accuracy_table_generation=False)
        optimizer.execute(anng, onng)
        self.index = ngtpy.Index(onng, read_only=True, log_disabled=True)

    def search(self, queries, k, step, threads):
        epsilon = self.sweep[step] - 1
        out = np.empty((len(queries), k), dtype=np.int64)
        for i, q in enumerate(queries):
            found = self.index.search(q, size=k, epsilon=epsilon, with_distance=False)
            out[i, :len(found)] = found
            out[i, len(found):] = -1
        return out

    def __del__(self):
        shutil.rmtree(getattr(self, "folder", ""), ignore_errors=True)


class VSAGAnchor(Anchor):
    name = "vsag-hgraph"

    def steps(self):
        return [str(ef) for ef in self.args.ef_list]

    def build(self, base, threads):
        import pyvsag
        pyvsag.set_logger_off()
        parameters = {
            "dtype": "float32", "metric_type": "l2" if self.metric == "l2" else "ip", "dim": self.dim,
            "index_param": {"base_quantization_type": "sq8", "use_reorder": True, "precise_quantization_type": "fp32",
                            "max_degree": 2 * self.args.m, "ef_construction": self.args.ef_construction,
                            "build_thread_count": threads},
        }
        self.index = pyvsag.Index("hgraph", json.dumps(parameters))
        self.index.build(vectors=np.ascontiguousarray(base).reshape(-1), ids=np.arange(len(base), dtype=np.int64),
                         num_elements=len(base), dim=self.dim)

    def search(self, queries, k, step, threads):
        parameters = json.dumps({"hgraph": {"ef_search": max(self.args.ef_list[step], k)}})
        out = np.empty((len(queries), k), dtype=np.int64)
        for i, q in enumerate(queries):
            first, second = self.index.knn_search(vector=q, k=k, parameters=parameters)
            # 0.18 returns (ids, distances), though its docstring says (distances, ids).
            ids = first if first.dtype.kind in "iu" else second
            out[i, :len(ids)] = ids
            out[i, len(ids):] = -1
        return out


class ScaNNAnchor(Anchor):
    name = "scann"
    sweep = [(1, 40), (2, 40), (4, 60), (6, 80), (8, 100), (12, 120), (16, 150), (24, 200), (32, 250), (48, 300),
             (64, 400), (96, 500)]

    def steps(self):
        return [f"leaves={a},reorder={b}" for a, b in self.sweep]

    def build(self, base, threads):
        import scann
        leaves = max(16, int(math.sqrt(len(base))))
        self.leaves = leaves
        builder = scann.scann_ops_pybind.builder(base, 10, "squared_l2" if self.metric == "l2" else "dot_product")
        builder = builder.tree(num_leaves=leaves, num_leaves_to_search=min(32, leaves), training_sample_size=len(base))
        builder = builder.score_ah(2, anisotropic_quantization_threshold=0.2).reorder(500)
        self.index = builder.set_n_training_threads(threads).build()

    def search(self, queries, k, step, threads):
        leaves, reorder = self.sweep[step]
        leaves = min(leaves, self.leaves)
        if threads == 1:
            labels, _ = self.index.search_batched(queries, final_num_neighbors=k, leaves_to_search=leaves,
                                                  pre_reorder_num_neighbors=reorder)
        else:
            labels, _ = self.index.search_batched_parallel(queries, final_num_neighbors=k, leaves_to_search=leaves,
                                                           pre_reorder_num_neighbors=reorder)
        return labels


MAKERS = {
    "hnswlib": lambda a, d: HnswlibAnchor(a, d),
    "faiss-hnsw": lambda a, d: FaissHNSWAnchor(a, d, sq8=False),
    "faiss-hnsw-sq8": lambda a, d: FaissHNSWAnchor(a, d, sq8=True),
    "faiss-ivf-rabitq": lambda a, d: FaissRaBitQAnchor(a, d),
    "usearch": lambda a, d: UsearchAnchor(a, d, "f32"),
    "usearch-i8": lambda a, d: UsearchAnchor(a, d, "i8"),
    "ngt-onng": lambda a, d: NGTAnchor(a, d),
    "vsag-hgraph": lambda a, d: VSAGAnchor(a, d),
    "scann": lambda a, d: ScaNNAnchor(a, d),
}

# Anchors the issue names that cannot run from their PyPI packages, with the reason.
UNAVAILABLE = {
    "ngt-qg": "ngt 2.8.0.post1 (PyPI) opens a quantized graph (ngtpy.QuantizedIndex) but cannot make one: "
              "building it takes NGT's `qbg create-qg` / `qbg build-qg` tools, which the wheel does not ship, and "
              "Debian has no NGT package; ngtpy.QuantizedIndex on a plain ONNG fails with "
              "'Quantizer::getQuantizer: Cannot load the property ... qg/prf'. ngt-onng (the graph QG quantizes) runs instead.",
}


def load(args):
    base, queries = read_fvecs(args.base), read_fvecs(args.queries)
    truth = read_ivecs(args.groundtruth)
    if args.query_limit:
        queries, truth = queries[:args.query_limit], truth[:args.query_limit]
    if args.metric == "cosine":
        base /= np.linalg.norm(base, axis=1, keepdims=True)
        queries /= np.linalg.norm(queries, axis=1, keepdims=True)
        args.metric = "ip"
    return np.ascontiguousarray(base), np.ascontiguousarray(queries), truth


def serve(args):
    args.ef_list = [int(x) for x in args.efs.split(",")]
    base, queries, truth = load(args)
    dim = base.shape[1]
    anchors, builds, skipped = [], [], []
    for lib in [x for x in args.libs.split(",") if x]:
        if lib in UNAVAILABLE:
            skipped.append({"lib": lib, "reason": UNAVAILABLE[lib]})
            continue
        if lib not in MAKERS:
            skipped.append({"lib": lib, "reason": f"unknown anchor (known: {', '.join(MAKERS)})"})
            continue
        anchor = MAKERS[lib](args, dim)
        gc.collect()
        before = rss_bytes()
        start = time.perf_counter()
        try:
            anchor.build(base, args.threads)
            anchor.search(queries[:2], args.k, 0, 1)
        except Exception as error:  # reported with its reason, never silently dropped
            skipped.append({"lib": lib, "reason": f"{type(error).__name__}: {error}"})
            print(f"{lib}: skipped: {type(error).__name__}: {error}", file=sys.stderr, flush=True)
            continue
        build_s = time.perf_counter() - start
        memory_mb = (rss_bytes() - before) / (1 << 20)
        print(f"{anchor.name}: built in {build_s:.1f} s, {memory_mb:.0f} MiB", file=sys.stderr, flush=True)
        anchors.append(anchor)
        builds.append({"lib": anchor.name, "build_s": build_s, "memory_mb": memory_mb, "steps": anchor.steps()})
    print(json.dumps({"event": "ready", "builds": builds, "skipped": skipped, "versions": versions()}), flush=True)
    cache = {}
    for line in sys.stdin:
        words = line.split()
        if not words or words[0] == "quit":
            break
        step = int(words[1])
        results = []
        for anchor in anchors:
            if step >= len(anchor.steps()):
                continue
            key = (anchor.name, step)
            if key not in cache:
                cache[key] = recall_at(anchor.search(queries, args.k, step, 1), truth, args.k)
            t1 = best_time(lambda: anchor.search(queries, args.k, step, 1), args.repeats)
            t2 = best_time(lambda: anchor.search(queries, args.k, step, 2), args.repeats) if args.two_threads else 0
            results.append({"lib": anchor.name, "params": anchor.steps()[step], "recall": cache[key],
                            "qps1": len(queries) / t1, "qps2": len(queries) / t2 if t2 else 0})
        print(json.dumps({"event": "measured", "step": step, "results": results}), flush=True)


def versions():
    found = {}
    for dist in ("hnswlib", "faiss-cpu", "usearch", "ngt", "pyvsag", "scann", "numpy"):
        try:
            from importlib.metadata import version
            found[dist] = version(dist)
        except Exception:
            found[dist] = "missing"
    return found


def list_anchors(args):
    for lib, module in (("hnswlib", "hnswlib"), ("faiss-hnsw", "faiss"), ("faiss-hnsw-sq8", "faiss"),
                        ("faiss-ivf-rabitq", "faiss"), ("usearch", "usearch.index"), ("usearch-i8", "usearch.index"),
                        ("ngt-onng", "ngtpy"), ("vsag-hgraph", "pyvsag"), ("scann", "scann")):
        try:
            __import__(module)
            print(f"{lib}: ok")
        except Exception as error:
            print(f"{lib}: cannot import {module}: {type(error).__name__}: {error}")
    for lib, reason in UNAVAILABLE.items():
        print(f"{lib}: unavailable: {reason}")
    print(json.dumps(versions()))


def plot(args):
    """A recall–QPS chart as a self-contained SVG (log QPS), ours solid, anchors dashed."""
    with open(args.results) as f:
        results = json.load(f)["results"]
    libs = []
    for r in results:
        if r["lib"] not in libs:
            libs.append(r["lib"])
    points = {lib: sorted((r["recall"], r["qps1"]) for r in results if r["lib"] == lib and r["qps1"] > 0)
              for lib in libs}
    all_points = [p for ps in points.values() for p in ps if p[0] >= args.min_recall]
    if not all_points:
        raise SystemExit("nothing to plot")
    width, height, left, right, top, bottom = 900, 560, 70, 190, 40, 50
    x0, x1 = args.min_recall, 1.0
    y0 = math.log10(min(p[1] for p in all_points)) - 0.05
    y1 = math.log10(max(p[1] for p in all_points)) + 0.05

    def sx(recall):
        return left + (recall - x0) / (x1 - x0) * (width - left - right)

    def sy(qps):
        return top + (y1 - math.log10(qps)) / (y1 - y0) * (height - top - bottom)

    palette = ["#d62728", "#ff7f0e", "#8c564b", "#e377c2", "#1f77b4", "#2ca02c", "#9467bd", "#17becf",
               "#bcbd22", "#7f7f7f", "#393b79", "#637939", "#843c39", "#7b4173"]
    out = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" font-family="sans-serif" '
           f'font-size="12"><rect width="100%" height="100%" fill="white"/>',
           f'<text x="{left}" y="22" font-size="14">{escape(args.title)}</text>']
    for i in range(11):
        recall = x0 + (x1 - x0) * i / 10
        out.append(f'<line x1="{sx(recall):.1f}" y1="{top}" x2="{sx(recall):.1f}" y2="{height - bottom}" stroke="#eee"/>'
                   f'<text x="{sx(recall):.1f}" y="{height - bottom + 16}" text-anchor="middle">{recall:.3f}</text>')
    for e in range(int(math.floor(y0)), int(math.ceil(y1)) + 1):
        for m in (1, 2, 5):
            qps = m * 10 ** e
            if y0 <= math.log10(qps) <= y1:
                out.append(f'<line x1="{left}" y1="{sy(qps):.1f}" x2="{width - right}" y2="{sy(qps):.1f}" stroke="#eee"/>'
                           f'<text x="{left - 6}" y="{sy(qps) + 4:.1f}" text-anchor="end">{qps:g}</text>')
    for recall in (0.95, 0.99):
        if x0 < recall < x1:
            out.append(f'<line x1="{sx(recall):.1f}" y1="{top}" x2="{sx(recall):.1f}" y2="{height - bottom}" '
                       f'stroke="#999" stroke-dasharray="2,3"/>')
    out.append(f'<text x="{(left + width - right) / 2}" y="{height - 12}" text-anchor="middle">recall@10</text>'
               f'<text x="16" y="{(top + height - bottom) / 2}" transform="rotate(-90 16 {(top + height - bottom) / 2})" '
               f'text-anchor="middle">queries per second, one thread (log)</text>')
    for n, lib in enumerate(libs):
        colour = palette[n % len(palette)]
        ours = lib.startswith("mms-")
        shown = [(r, q) for r, q in points[lib] if r >= x0]
        if shown:
            path = " ".join(f"{sx(r):.1f},{sy(q):.1f}" for r, q in shown)
            dash = "" if ours else ' stroke-dasharray="6,3"'
            out.append(f'<polyline points="{path}" fill="none" stroke="{colour}" stroke-width="{2.4 if ours else 1.3}"{dash}/>')
            for r, q in shown:
                out.append(f'<circle cx="{sx(r):.1f}" cy="{sy(q):.1f}" r="{3 if ours else 2.2}" fill="{colour}"/>')
        y = top + 14 + 18 * n
        dash = "" if ours else ' stroke-dasharray="6,3"'
        out.append(f'<line x1="{width - right + 12}" y1="{y - 4}" x2="{width - right + 36}" y2="{y - 4}" stroke="{colour}" '
                   f'stroke-width="{2.4 if ours else 1.3}"{dash}/>'
                   f'<text x="{width - right + 42}" y="{y}">{escape(lib)}</text>')
    out.append("</svg>")
    with open(args.out, "w") as f:
        f.write("\n".join(out) + "\n")
    print(f"wrote {args.out}", file=sys.stderr)


# --- medians over runs --------------------------------------------------------------------------------

def qps_at(recall, points):
    """QPS at `recall` on one curve of (recall, qps1) points, as mms-bench's summary interpolates it:
    linear between the two points around it; the best QPS when every point is above; None if never reached."""
    points = sorted(points)
    if not points or points[-1][0] < recall:
        return None
    if points[0][0] >= recall:
        return max(q for r, q in points)
    for (ra, qa), (rb, qb) in zip(points, points[1:]):
        if ra <= recall <= rb:
            t = 0 if rb == ra else (recall - ra) / (rb - ra)
            return qa + t * (qb - qa)
    return None


def median(values):
    values = sorted(values)
    if not values:
        return None
    middle = len(values) // 2
    return values[middle] if len(values) % 2 else (values[middle - 1] + values[middle]) / 2


def run_figures(parts):
    """One run (reports of `mms-bench ann` that split the anchors, each measuring ours too): per library its
    QPS at 0.95 and 0.99 (ours: every part's curve), and the ratios mms-bench's summary takes, each within one
    part: ours (the best of our encodings there) ÷ the anchor it is lowest against, and ÷ hnswlib."""
    qps = {}  # lib -> recall -> [qps of each part that measured it]
    ratios = {}
    for part in parts:
        by_lib = {}
        for row in part["results"]:
            if row["qps1"] > 0:
                by_lib.setdefault(row["lib"].split("#")[0], []).append((row["recall"], row["qps1"]))
        for recall in (0.95, 0.99):
            at = {lib: qps_at(recall, points) for lib, points in by_lib.items()}
            for lib, value in at.items():
                qps.setdefault(lib, {}).setdefault(recall, [])
                if value is not None:
                    qps[lib][recall].append(value)
            ours = [(v, lib) for lib, v in at.items() if lib.startswith("mms-") and v is not None]
            if not ours:
                continue
            ours_qps, ours_lib = max(ours)
            for lib, value in at.items():
                if lib.startswith("mms-") or value is None:
                    continue
                best = ratios.get(("best", recall))
                if best is None or ours_qps / value < best[0]:
                    ratios[("best", recall)] = (ours_qps / value, lib, ours_lib)
                if lib == "hnswlib":
                    ratios[("hnswlib", recall)] = (ours_qps / value, lib, ours_lib)
    return qps, ratios


def medians_self_test():
    """Checks the interpolation and the per-run ratios on curves worked out by hand (CI runs this)."""
    def fail(what, got, expected):
        raise SystemExit(f"medians self-test: {what}: {got!r}, expected {expected!r}")

    curve = [(0.90, 1000.0), (0.96, 800.0), (0.99, 500.0), (0.995, 300.0)]
    for recall, expected in ((0.95, 1000 - 200 * (0.05 / 0.06)), (0.99, 500.0), (0.999, None)):
        got = qps_at(recall, list(reversed(curve)))
        if (got is None) != (expected is None) or (got is not None and abs(got - expected) > 1e-9):
            fail(f"qps_at({recall})", got, expected)
    if qps_at(0.95, [(0.97, 700.0), (0.98, 900.0)]) != 900.0:
        fail("qps_at below the curve", qps_at(0.95, [(0.97, 700.0), (0.98, 900.0)]), 900.0)
    if median([3, 1, 2]) != 2 or median([4, 1, 2, 3]) != 2.5 or median([]) is not None:
        fail("median", (median([3, 1, 2]), median([4, 1, 2, 3]), median([])), (2, 2.5, None))

    def rows(lib, points):
        return [{"lib": lib, "recall": r, "qps1": q} for r, q in points]

    # Part 1: ours (two encodings) 2000 and 1500 at 0.95; hnswlib 1000. Part 2: ours 1200 (renamed "#2" as
    # --merge does); a faster anchor, 1000. The best anchor is the one ours beats least within its own part.
    parts = [{"results": rows("mms-f32", [(0.94, 1500.0), (0.96, 1500.0)]) + rows("mms-i8", [(0.95, 2000.0)])
              + rows("hnswlib", [(0.95, 1000.0)])},
             {"results": rows("mms-i8#2", [(0.95, 1200.0)]) + rows("fast", [(0.95, 1000.0), (0.999, 10.0)])}]
    qps, ratios = run_figures(parts)
    if qps["mms-i8"][0.95] != [2000.0, 1200.0]:
        fail("ours from every part", qps["mms-i8"][0.95], [2000.0, 1200.0])
    if ratios[("best", 0.95)] != (1.2, "fast", "mms-i8"):
        fail("best ratio", ratios[("best", 0.95)], (1.2, "fast", "mms-i8"))
    if ratios[("hnswlib", 0.95)] != (2.0, "hnswlib", "mms-i8"):
        fail("hnswlib ratio", ratios[("hnswlib", 0.95)], (2.0, "hnswlib", "mms-i8"))
    if ("best", 0.99) in ratios:
        fail("a ratio where ours never reaches 0.99", ratios[("best", 0.99)], None)
    print("medians self-test: passed")


def medians(args):
    """The medians table of several runs, in Markdown."""
    if args.self_test:
        medians_self_test()
        return
    runs = [[json.load(open(path)) for path in run.split(",") if path] for run in args.run]
    if not runs or not all(runs):
        raise SystemExit("medians: give each run as --run PART.json[,PART.json...]")
    figures = [run_figures(parts) for parts in runs]
    libs, memory, build = [], {}, {}
    for parts in runs:
        for part in parts:
            for row in part["results"]:
                lib = row["lib"].split("#")[0]
                if lib not in libs:
                    libs.append(lib)
                memory.setdefault(lib, []).append(row["bytes_per_vector"])
                build.setdefault(lib, []).append(row["build_s"])
    first = runs[0][0]
    machine = first["machine"]
    out = [f"{first['dataset']}: medians of {len(runs)} runs; {machine['cpu']}; kernels {machine['kernels']}; "
           f"OpenBLAS core {machine['openblas_core']}", "",
           "| library | QPS @0.95 | QPS @0.99 | curves | bytes/vector | build s |",
           "|---|---:|---:|---:|---:|---:|"]

    def cell(value, digits=0):
        return "never" if value is None else f"{value:,.{digits}f}"

    for lib in sorted(libs, key=lambda x: (not x.startswith("mms-"), x)):
        curves = sum(1 for parts in runs for part in parts if any(r["lib"].split("#")[0] == lib for r in part["results"]))
        at = {}
        for recall in (0.95, 0.99):
            values = [v for qps, _ in figures for v in qps.get(lib, {}).get(recall, [])]
            # A median over the curves that reach the recall; how many did, when not all.
            at[recall] = cell(median(values)) + (f" ({len(values)} of {curves})" if 0 < len(values) < curves else "")
        out.append(f"| {lib} | {at[0.95]} | {at[0.99]} | {curves} | {cell(median(memory[lib]))} | "
                   f"{cell(median(build[lib]), 1)} |")
    out.append("")
    for kind, recall, key in (("best", 0.95, "qps_ratio_vs_best_at_095"), ("best", 0.99, "qps_ratio_vs_best_at_099"),
                              ("hnswlib", 0.95, "qps_ratio_vs_hnswlib_at_095"),
                              ("hnswlib", 0.99, "qps_ratio_vs_hnswlib_at_099")):
        per_run = [ratios.get((kind, recall)) for _, ratios in figures]
        values = [r[0] for r in per_run if r]
        named = ", ".join(f"{r[0]:.2f} ({r[2]} ÷ {r[1]})" if r else "none" for r in per_run)
        if not values:
            out.append(f"- {key}: no run has both ours and that anchor at {recall}")
            continue
        out.append(f"- {key}: median {cell(median(values), 2)} over {len(values)} runs — per run: {named}")
    text = "\n".join(out) + "\n"
    print(text, end="")
    if args.out:
        with open(args.out, "w") as f:
            f.write(text)


def escape(text):
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="command", required=True)
    v = sub.add_parser("serve")
    for flag in ("--base", "--queries", "--groundtruth"):
        v.add_argument(flag, required=True)
    v.add_argument("--metric", choices=["l2", "ip", "cosine"], default="ip")
    v.add_argument("--m", type=int, default=16)
    v.add_argument("--ef-construction", type=int, default=200)
    v.add_argument("--threads", type=int, default=2, help="build threads")
    v.add_argument("--efs", default="16,32,64,128,256", help="the ef sweep of the HNSW anchors (ours too)")
    v.add_argument("--k", type=int, default=10)
    v.add_argument("--repeats", type=int, default=3)
    v.add_argument("--seed", type=int, default=100)
    v.add_argument("--query-limit", type=int, default=0)
    v.add_argument("--two-threads", action="store_true")
    v.add_argument("--libs", default="hnswlib,faiss-hnsw,usearch,usearch-i8")
    p = sub.add_parser("plot")
    p.add_argument("--results", required=True)
    p.add_argument("--out", required=True)
    p.add_argument("--title", default="recall@10 vs QPS")
    p.add_argument("--min-recall", type=float, default=0.8)
    sub.add_parser("list")
    md = sub.add_parser("medians", help="medians over runs of QPS at recall 0.95 / 0.99 and of the ratios")
    md.add_argument("--run", action="append", default=[], help="one run: its report JSON files, comma-separated")
    md.add_argument("--self-test", action="store_true", help="check the interpolation and ratios (CI)")
    md.add_argument("--out", help="also write the Markdown table here")
    args = parser.parse_args()
    {"serve": serve, "plot": plot, "list": list_anchors, "medians": medians}[args.command](args)


if __name__ == "__main__":
    main()
