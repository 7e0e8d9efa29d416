#!/usr/bin/env python3
"""Segment anchors for `mms-bench segments`: usearch `view`, FAISS `IO_FLAG_MMAP_IFC` and hnswlib `load_index`
opened from files built on the same vectors, warm and cold, each measurement in a fresh process.

    segments_anchors.py --base B.fvecs --queries Q.fvecs --groundtruth G.ivecs --workdir DIR --out anchors.json \\
        [--m 16] [--ef-construction 200] [--ef 64] [--k 10] [--build-threads 2] [--repeats 3] \\
        [--warmup-queries 100] [--seed 100] [--libs usearch,faiss,hnswlib]

Files: fvecs rows are a little-endian int32 dimension, then that many little-endian float32 components; ivecs the
same with int32 components (the exact top-k base rows of each query by inner product). The vectors are unit length
and every index uses the inner-product metric: usearch metric "ip" dtype f32, FAISS IndexHNSWFlat(d, M,
METRIC_INNER_PRODUCT), hnswlib space "ip". All get the same M (usearch "connectivity") and efConstruction (usearch
"expansion_add"); searches use ef = --ef (usearch expansion_search, FAISS hnsw.efSearch, hnswlib set_ef).

Build (once per file). Each library's index is built on --build-threads threads in a child process (so its memory
goes back to the system), added in chunks with a progress line on stderr, written to a temporary file, fsynced and
renamed into --workdir as `<base stem>-<lib>-M<m>-efc<efC>.<ext>`. A sidecar `<file>.json` written afterwards (also
by rename) records the cache key (base file name, size and mtime; dimension and count; M, efConstruction, build
threads, seed; library version), the build and save seconds and the file size. A later run reuses the file when the
key matches and the file still has the recorded size; it reports the recorded build_s and `"build_cached": true`.
The old sidecar is deleted before a build starts, so a build interrupted at any point leaves no sidecar and the
next run builds again rather than trust a partial file.

Measure (every figure in a fresh `python segments_anchors.py _measure ...` child that prints one JSON line), so
neither the build nor a previous measurement leaves pages mapped, heap grown or the page cache in a chosen state.
Each child imports numpy and the library, loads the queries and ground truth, sets searching to one thread
(faiss.omp_set_num_threads(1), hnswlib set_num_threads(1) and num_threads=1, usearch threads=1, OMP_NUM_THREADS=1),
evicts the index file from the page cache (below), then:

  warm  reads the whole file once with read(2) (so it is cached; resident_fraction_warm confirms it; reading after
        an eviction means warm never starts from the pages the build wrote, whose larger folios make later faults
        map more per fault and made warm figures depend on whether the build was cached), takes the baseline RSS,
        then times
          open_ms_warm         usearch Index.restore(path, view=True); faiss.read_index(path, IO_FLAG_MMAP_IFC);
                               hnswlib Index("ip", dim) + load_index(path)
          first_query_ms_warm  one search call for query 0, k results, one thread (ef and threads are set between
                               the two, untimed)
        then every query one call at a time on one thread:
          qps                  (queries - warmup) / sum of the per-call times of the queries after the first
                               --warmup-queries (100): those are searched and count for recall, but are not timed
          latency_p50_us/p99   over the same timed calls
          recall               recall@k over all queries against the first k ground-truth columns
          qps_batch            one batched call over all queries on one thread (no per-call Python overhead;
                               the gap to qps is the binding's per-call cost)
        RSS is read after open, after the first query and after all the per-call queries.
  cold  takes the baseline RSS, then times open_ms_cold and first_query_ms_cold (the same calls as warm, with
        nothing in between but setting ef and threads, so readahead started by open gets no head start).
        resident_fraction_after_first_query is how much of the file open + one query pulled into the page cache;
        rss_growth_first_query_mb_cold the RSS growth at that point.

Eviction: open the file read-only, os.fsync (no dirty pages may stay behind), os.posix_fadvise(fd, 0, 0,
POSIX_FADV_DONTNEED), close. It is verified by mapping the file PROT_READ (which faults nothing in) and calling
mincore(2) through ctypes over the whole mapping: resident_fraction_after_evict is the fraction of its pages still
in the page cache. If more than 5 % remain, eviction is retried (up to 3 times); the fraction and attempts are
reported either way. No process holds the file mapped at that moment, so nothing pins its pages. Cold figures
depend on the device's readahead (parameters.read_ahead_kb): a page fault on a mapping without MADV_RANDOM reads
that much around the faulting page. What the libraries do (seen with strace and mincore, 200k x 512): FAISS
1.15.1 with IO_FLAG_MMAP_IFC maps the whole file with MADV_RANDOM, vectors and graph alike (only a few MB of
per-node tables land in the heap), and open faults the graph in page by page; usearch view maps it without advice,
so with a large readahead its first cold query reads nearly the whole file; hnswlib reads the file into the heap.

RSS is VmRSS from /proc/self/status, in MiB; at open also its RssAnon / RssFile parts (a mapped file counts in
RssFile once its pages are touched, data read or copied into the heap in RssAnon). rss_growth_*_mb is RSS minus the
child's baseline before opening (numpy and the library imported, queries and ground truth loaded). For a mapped
file RSS counts the pages the process has faulted in, including the kernel's fault-around neighbours, so it grows
with use. file_mapped_mb is how much of the index file the process maps (from /proc/self/maps after the first
query): it shows whether a library maps the file or reads it. On this kernel a fault on a cached file maps the
whole (large) folio, so after one warm query RSS can already hold most of a mapped file: read the anon figures for
what a library copies into memory, and the RssFile part as shared, reclaimable page cache.

Timing uses time.perf_counter around the library call exactly as a Python caller sees it. The binding overhead
(microseconds per call) is small against millisecond open and first-query figures; for qps it is not negligible,
hence qps_batch alongside.

Every measured figure is repeated --repeats times (warm, then cold, per repeat); the result holds the median under
the figure's name and every run under `<name>_runs`.

Output: {"versions": {...}, "parameters": {...}, "total_s": S, "results": [{"lib": "usearch-view" | "faiss-mmap" |
"hnswlib-load", "file", "file_bytes", "build_s", "save_s", "build_cached", "open_ms_warm", "first_query_ms_warm",
"qps", "qps_batch", "latency_p50_us", "latency_p99_us", "recall", "rss_baseline_mb", "rss_after_open_mb",
"rss_after_first_query_mb", "rss_after_queries_mb", "rss_growth_open_mb", "rss_growth_first_query_mb",
"rss_growth_queries_mb", "rss_anon_growth_open_mb", "rss_file_growth_open_mb", "rss_anon_growth_queries_mb",
"file_mapped_mb", "resident_fraction_warm", "open_ms_cold", "first_query_ms_cold", "rss_growth_first_query_mb_cold",
"resident_fraction_after_evict", "evict_attempts", "resident_fraction_after_first_query", and every measured figure
also as "<name>_runs": [...]}]}. build_s is the time of the add calls only; save_s writing and fsyncing the
file. A library that fails gets {"lib", "error"} and the script exits with status 1 after writing the file.
"""
import argparse
import json
import os
import statistics
import subprocess
import sys
import time

RESIDENT_LIMIT = 0.05  # eviction is retried while more than this fraction of the file stays cached
EVICT_ATTEMPTS = 3


# MARK: files

def fvecs_shape(path):
    """(rows, dimension) of an fvecs/ivecs file from its first int32 (little-endian) and its size."""
    with open(path, "rb") as f:
        head = f.read(4)
    if len(head) != 4:
        raise SystemExit(f"{path}: empty, not an fvecs/ivecs file")
    dim = int.from_bytes(head, "little", signed=True)
    size = os.path.getsize(path)
    if dim <= 0 or size % (4 * (dim + 1)) != 0:
        raise SystemExit(f"{path}: dimension {dim} does not divide the file size {size}")
    return size // (4 * (dim + 1)), dim


def read_rows(path, dtype):
    """All rows of an fvecs (dtype '<f4') or ivecs ('<i4') file as a C-contiguous array, checking every header."""
    import numpy as np
    raw = np.fromfile(path, dtype="<i4")
    dim = int(raw[0])
    table = raw.reshape(-1, dim + 1)
    if not (table[:, 0] == dim).all():
        raise SystemExit(f"{path}: rows of different dimensions")
    return np.ascontiguousarray(table[:, 1:]).view(dtype)


def rss_mb():
    """VmRSS, RssAnon and RssFile of this process in MiB, from /proc/self/status (values are in kB)."""
    fields = {}
    with open("/proc/self/status") as f:
        for line in f:
            name, _, value = line.partition(":")
            if name in ("VmRSS", "RssAnon", "RssFile"):
                fields[name] = int(value.split()[0]) / 1024
    return fields


def mapped_mb(path):
    """MiB of `path` mapped into this process, summed over its lines in /proc/self/maps."""
    real = os.path.realpath(path)
    total = 0
    with open("/proc/self/maps") as f:
        for line in f:
            parts = line.split(maxsplit=5)
            if len(parts) == 6 and parts[5].rstrip("\n") == real:
                start, end = (int(x, 16) for x in parts[0].split("-"))
                total += end - start
    return total / (1 << 20)


def resident_fraction(path):
    """Fraction of the file's pages in the page cache: mmap it PROT_READ (no page is faulted) and ask mincore(2)."""
    import ctypes
    import mmap
    size = os.path.getsize(path)
    if size == 0:
        return 0.0
    libc = ctypes.CDLL(None, use_errno=True)  # the C library the interpreter links (find_library would fork)
    libc.mmap.restype = ctypes.c_void_p
    libc.mmap.argtypes = [ctypes.c_void_p, ctypes.c_size_t, ctypes.c_int, ctypes.c_int, ctypes.c_int, ctypes.c_long]
    libc.mincore.restype = ctypes.c_int
    libc.mincore.argtypes = [ctypes.c_void_p, ctypes.c_size_t, ctypes.POINTER(ctypes.c_ubyte)]
    libc.munmap.restype = ctypes.c_int
    libc.munmap.argtypes = [ctypes.c_void_p, ctypes.c_size_t]
    page = mmap.PAGESIZE
    pages = (size + page - 1) // page
    fd = os.open(path, os.O_RDONLY)
    try:
        address = libc.mmap(None, size, mmap.PROT_READ, mmap.MAP_SHARED, fd, 0)
        if address is None or address == ctypes.c_void_p(-1).value:
            raise OSError(ctypes.get_errno(), f"mmap {path}")
    finally:
        os.close(fd)  # the mapping keeps its own reference to the file
    try:
        vector = (ctypes.c_ubyte * pages)()
        if libc.mincore(address, size, vector) != 0:
            raise OSError(ctypes.get_errno(), f"mincore {path}")
        resident = sum(1 for byte in bytes(vector) if byte & 1)
    finally:
        libc.munmap(address, size)
    return resident / pages


def evict(path):
    """Drops the file from the page cache; returns (fraction still resident, attempts)."""
    for attempt in range(1, EVICT_ATTEMPTS + 1):
        fd = os.open(path, os.O_RDONLY)
        try:
            os.fsync(fd)
            os.posix_fadvise(fd, 0, 0, os.POSIX_FADV_DONTNEED)
        finally:
            os.close(fd)
        fraction = resident_fraction(path)
        if fraction <= RESIDENT_LIMIT:
            break
    return fraction, attempt


def read_ahead_kb(path):
    """The readahead window of the block device holding `path`, from sysfs (None when it cannot be told)."""
    device = os.stat(path).st_dev
    queue = f"/sys/dev/block/{os.major(device)}:{os.minor(device)}"
    for candidate in (f"{queue}/queue/read_ahead_kb", f"{queue}/../queue/read_ahead_kb"):  # disk, or partition
        try:
            with open(candidate) as f:
                return int(f.read())
        except (OSError, ValueError):
            continue
    return None


def read_through(path):
    """Reads the whole file once into a reused buffer, so it is in the page cache (and not in our heap)."""
    buffer = bytearray(8 << 20)
    with open(path, "rb", buffering=0) as f:
        while f.readinto(buffer):
            pass


# MARK: libraries

class Usearch:
    key, label, ext, package = "usearch", "usearch-view", "usearch", "usearch"

    def __init__(self):
        from usearch.index import Index
        self.Index = Index

    def build(self, dim, count, m, ef_construction, seed):
        # usearch takes no seed; its level draws are its own.
        return self.Index(ndim=dim, metric="ip", dtype="f32", connectivity=m, expansion_add=ef_construction)

    def add(self, index, keys, vectors, threads):
        index.add(keys, vectors, threads=threads)

    def save(self, index, path):
        index.save(path)

    def open(self, path, dim):
        index = self.Index.restore(path, view=True)
        if index is None:
            raise SystemExit(f"{path}: not a usearch index")
        return index

    def prepare(self, index, ef):
        index.expansion_search = ef

    def search(self, index, query, k):
        return index.search(query, k, threads=1).keys

    def search_batch(self, index, queries, k):
        return index.search(queries, k, threads=1).keys


class Faiss:
    key, label, ext, package = "faiss", "faiss-mmap", "faiss", "faiss-cpu"

    def __init__(self):
        import faiss
        self.faiss = faiss

    def build(self, dim, count, m, ef_construction, seed):
        # FAISS's HNSW draws levels from its own fixed-seed generator.
        index = self.faiss.IndexHNSWFlat(dim, m, self.faiss.METRIC_INNER_PRODUCT)
        index.hnsw.efConstruction = ef_construction
        return index

    def add(self, index, keys, vectors, threads):
        self.faiss.omp_set_num_threads(threads)
        index.add(vectors)  # FAISS labels are insertion order, which is the row index

    def save(self, index, path):
        self.faiss.write_index(index, path)

    def open(self, path, dim):
        return self.faiss.read_index(path, self.faiss.IO_FLAG_MMAP_IFC)

    def prepare(self, index, ef):
        self.faiss.omp_set_num_threads(1)
        index.hnsw.efSearch = ef

    def search(self, index, query, k):
        return index.search(query.reshape(1, -1), k)[1][0]

    def search_batch(self, index, queries, k):
        return index.search(queries, k)[1]


class Hnswlib:
    key, label, ext, package = "hnswlib", "hnswlib-load", "hnswlib", "hnswlib"

    def __init__(self):
        import hnswlib
        self.hnswlib = hnswlib

    def build(self, dim, count, m, ef_construction, seed):
        index = self.hnswlib.Index(space="ip", dim=dim)
        index.init_index(max_elements=count, M=m, ef_construction=ef_construction, random_seed=seed)
        return index

    def add(self, index, keys, vectors, threads):
        index.add_items(vectors, keys, num_threads=threads)

    def save(self, index, path):
        index.save_index(path)

    def open(self, path, dim):
        index = self.hnswlib.Index(space="ip", dim=dim)
        index.load_index(path)
        return index

    def prepare(self, index, ef):
        index.set_ef(ef)
        index.set_num_threads(1)

    def search(self, index, query, k):
        return index.knn_query(query, k=k, num_threads=1)[0][0]

    def search_batch(self, index, queries, k):
        return index.knn_query(queries, k=k, num_threads=1)[0]


LIBRARIES = {lib.key: lib for lib in (Usearch, Faiss, Hnswlib)}


# MARK: child: build

def build_child(args):
    """Builds one index from the base file and writes it to args.index by way of a temporary file and a rename."""
    import numpy as np
    count, dim = fvecs_shape(args.base)
    library = LIBRARIES[args.lib]()
    table = np.memmap(args.base, dtype="<i4", mode="r").reshape(count, dim + 1)
    index = library.build(dim, count, args.m, args.ef_construction, args.seed)
    chunk = max(10_000, min(100_000, count // 20))
    built = 0.0
    for start in range(0, count, chunk):
        stop = min(start + chunk, count)
        rows = np.ascontiguousarray(table[start:stop])
        if not (rows[:, 0] == dim).all():
            raise SystemExit(f"{args.base}: a row between {start} and {stop} has another dimension")
        vectors = np.ascontiguousarray(rows[:, 1:]).view("<f4")
        keys = np.arange(start, stop, dtype=np.uint64)
        began = time.perf_counter()
        library.add(index, keys, vectors, args.threads)
        built += time.perf_counter() - began
        eta = built / stop * (count - stop)
        print(f"  {library.label}: {stop:,}/{count:,} added, {built:.1f} s, about {eta:.0f} s to go",
              file=sys.stderr, flush=True)
    temporary = f"{args.index}.tmp-{os.getpid()}"
    began = time.perf_counter()
    library.save(index, temporary)
    fd = os.open(temporary, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
    os.replace(temporary, args.index)
    saved = time.perf_counter() - began
    print(json.dumps({"build_s": built, "save_s": saved, "count": count, "dim": dim}), flush=True)


# MARK: child: measure

def measure_child(args):
    """One warm or cold measurement of one library; prints one JSON line."""
    import numpy as np
    library = LIBRARIES[args.lib]()
    queries = read_rows(args.queries, "<f4")
    truth = read_rows(args.groundtruth, "<i4")
    k = args.k
    if truth.shape[1] < k or len(truth) != len(queries):
        raise SystemExit(f"{args.groundtruth}: needs {len(queries)} rows of at least {k} ids")
    dim = queries.shape[1]
    out = {"mode": args.mode}
    # Warm starts from a file read once with read(2) after an eviction, never from the pages the build wrote:
    # those can sit in larger folios, which makes later page faults map more at a time (and RSS jump).
    out["resident_fraction_after_evict"], out["evict_attempts"] = evict(args.index)
    if args.mode == "warm":
        read_through(args.index)
        out["resident_fraction_warm"] = resident_fraction(args.index)
    baseline = rss_mb()

    # Cold: nothing but setting ef and threads between open and the first query, so that readahead started by
    # open gets no extra time to finish. Warm: RSS is read right after open as well (a /proc read, ~0.1 ms).
    began = time.perf_counter()
    index = library.open(args.index, dim)
    out["open_ms"] = (time.perf_counter() - began) * 1e3
    opened = rss_mb() if args.mode == "warm" else None
    library.prepare(index, args.ef)
    began = time.perf_counter()
    library.search(index, queries[0], k)
    out["first_query_ms"] = (time.perf_counter() - began) * 1e3
    first = rss_mb()

    out["rss_baseline_mb"] = baseline["VmRSS"]
    out["rss_after_first_query_mb"] = first["VmRSS"]
    out["rss_growth_first_query_mb"] = first["VmRSS"] - baseline["VmRSS"]
    out["file_mapped_mb"] = mapped_mb(args.index)
    if args.mode == "cold":
        out["resident_fraction_after_first_query"] = resident_fraction(args.index)
        print(json.dumps(out), flush=True)
        return
    out["rss_after_open_mb"] = opened["VmRSS"]
    out["rss_growth_open_mb"] = opened["VmRSS"] - baseline["VmRSS"]
    out["rss_anon_growth_open_mb"] = opened["RssAnon"] - baseline["RssAnon"]
    out["rss_file_growth_open_mb"] = opened["RssFile"] - baseline["RssFile"]

    n = len(queries)
    warmup = min(args.warmup_queries, n // 2)
    found = np.full((n, k), -1, dtype=np.int64)
    seconds = np.zeros(n)
    clock = time.perf_counter
    for i in range(n):
        began = clock()
        labels = library.search(index, queries[i], k)
        seconds[i] = clock() - began
        found[i, :len(labels)] = labels
    timed = seconds[warmup:]
    out["qps"] = len(timed) / timed.sum()
    out["latency_p50_us"] = float(np.percentile(timed, 50) * 1e6)
    out["latency_p99_us"] = float(np.percentile(timed, 99) * 1e6)
    out["warmup_queries"] = warmup
    hits = sum(len(set(found[i].tolist()) & set(truth[i, :k].tolist())) for i in range(n))
    out["recall"] = hits / (n * k)
    after = rss_mb()
    out["rss_after_queries_mb"] = after["VmRSS"]
    out["rss_growth_queries_mb"] = after["VmRSS"] - baseline["VmRSS"]
    out["rss_anon_growth_queries_mb"] = after["RssAnon"] - baseline["RssAnon"]
    began = time.perf_counter()
    library.search_batch(index, queries, k)
    out["qps_batch"] = n / (time.perf_counter() - began)
    print(json.dumps(out), flush=True)


# MARK: parent

def run_child(arguments, threads):
    """Runs this script with `arguments` in a fresh interpreter; returns its last stdout line as JSON."""
    env = dict(os.environ, OMP_NUM_THREADS=str(threads))
    done = subprocess.run([sys.executable, os.path.abspath(__file__)] + arguments, env=env, stdout=subprocess.PIPE,
                          text=True)
    lines = [line for line in done.stdout.splitlines() if line.strip()]
    if done.returncode != 0 or not lines:
        raise RuntimeError(f"{' '.join(arguments[:3])}: child exited with status {done.returncode}")
    return json.loads(lines[-1])


def library_version(package):
    from importlib import metadata
    try:
        return metadata.version(package)
    except metadata.PackageNotFoundError:
        return "missing"


def cached_build(library, args, count, dim):
    """The index file for `library`, built now or reused; returns (path, sidecar dict, cached)."""
    stem = os.path.basename(args.base)
    for suffix in (".fvecs", ".base"):
        stem = stem[: -len(suffix)] if stem.endswith(suffix) else stem
    path = os.path.join(args.workdir, f"{stem}-{library.key}-M{args.m}-efc{args.ef_construction}.{library.ext}")
    sidecar_path = path + ".json"
    stat = os.stat(args.base)
    key = {"lib": library.key, "version": library_version(library.package), "base_name": os.path.basename(args.base),
           "base_bytes": stat.st_size, "base_mtime_ns": stat.st_mtime_ns, "count": count, "dim": dim, "m": args.m,
           "ef_construction": args.ef_construction, "build_threads": args.build_threads, "seed": args.seed}
    try:
        with open(sidecar_path) as f:
            sidecar = json.load(f)
        if sidecar.get("key") == key and os.path.getsize(path) == sidecar.get("file_bytes"):
            print(f"{library.label}: reusing {path} (built in {sidecar['build_s']:.1f} s)", file=sys.stderr, flush=True)
            return path, sidecar, True
    except (OSError, ValueError, KeyError, TypeError):
        pass  # no sidecar, unreadable, or no file: build
    for name in os.listdir(args.workdir):  # an old sidecar and any temporary left by a killed build
        if name == os.path.basename(sidecar_path) or name.startswith(os.path.basename(path) + ".tmp-"):
            os.remove(os.path.join(args.workdir, name))
    print(f"{library.label}: building {count:,} x {dim} on {args.build_threads} threads -> {path}",
          file=sys.stderr, flush=True)
    built = run_child(["_build", "--lib", library.key, "--base", args.base, "--index", path, "--m", str(args.m),
                       "--ef-construction", str(args.ef_construction), "--threads", str(args.build_threads),
                       "--seed", str(args.seed)], args.build_threads)
    sidecar = {"key": key, "build_s": built["build_s"], "save_s": built["save_s"], "file_bytes": os.path.getsize(path)}
    temporary = sidecar_path + ".tmp"
    with open(temporary, "w") as f:
        json.dump(sidecar, f, indent=1)
        f.flush()
        os.fsync(f.fileno())
    os.replace(temporary, sidecar_path)
    print(f"{library.label}: built in {built['build_s']:.1f} s, saved in {built['save_s']:.1f} s",
          file=sys.stderr, flush=True)
    return path, sidecar, False


def summarise(label, path, sidecar, cached, warm_runs, cold_runs):
    result = {"lib": label, "file": path, "file_bytes": sidecar["file_bytes"], "build_s": sidecar["build_s"],
              "save_s": sidecar["save_s"], "build_cached": cached}
    figures = [("open_ms_warm", warm_runs, "open_ms"), ("first_query_ms_warm", warm_runs, "first_query_ms")]
    for name in ("qps", "qps_batch", "latency_p50_us", "latency_p99_us", "recall", "rss_baseline_mb",
                 "rss_after_open_mb", "rss_after_first_query_mb", "rss_after_queries_mb", "rss_growth_open_mb",
                 "rss_growth_first_query_mb", "rss_growth_queries_mb", "rss_anon_growth_open_mb",
                 "rss_file_growth_open_mb", "rss_anon_growth_queries_mb", "file_mapped_mb",
                 "resident_fraction_warm"):
        figures.append((name, warm_runs, name))
    figures += [("open_ms_cold", cold_runs, "open_ms"), ("first_query_ms_cold", cold_runs, "first_query_ms"),
                ("rss_growth_first_query_mb_cold", cold_runs, "rss_growth_first_query_mb"),
                ("resident_fraction_after_evict", cold_runs, "resident_fraction_after_evict"),
                ("evict_attempts", cold_runs, "evict_attempts"),
                ("resident_fraction_after_first_query", cold_runs, "resident_fraction_after_first_query")]
    for name, runs, field in figures:
        values = [run[field] for run in runs]
        result[name] = statistics.median(values)
        result[name + "_runs"] = values
    return result


def run(args):
    started = time.perf_counter()
    count, dim = fvecs_shape(args.base)
    query_count, query_dim = fvecs_shape(args.queries)
    if query_dim != dim:
        raise SystemExit(f"{args.queries}: dimension {query_dim}, base has {dim}")
    os.makedirs(args.workdir, exist_ok=True)
    keys = [x for x in args.libs.split(",") if x]
    unknown = [x for x in keys if x not in LIBRARIES]
    if unknown:
        raise SystemExit(f"unknown --libs {','.join(unknown)}; choose from {','.join(LIBRARIES)}")
    results, failed = [], False
    for lib in keys:
        library = LIBRARIES[lib]
        try:
            path, sidecar, cached = cached_build(library, args, count, dim)
            measure = ["_measure", "--lib", lib, "--index", path, "--queries", args.queries, "--groundtruth",
                       args.groundtruth, "--k", str(args.k), "--ef", str(args.ef), "--warmup-queries",
                       str(args.warmup_queries), "--mode"]
            warm_runs, cold_runs = [], []
            for repeat in range(args.repeats):
                warm = run_child(measure + ["warm"], 1)
                cold = run_child(measure + ["cold"], 1)
                warm_runs.append(warm)
                cold_runs.append(cold)
                print(f"{library.label} #{repeat + 1}: warm open {warm['open_ms']:.2f} ms, first query "
                      f"{warm['first_query_ms']:.2f} ms, {warm['qps']:.0f} QPS, recall {warm['recall']:.4f}, "
                      f"RSS +{warm['rss_growth_open_mb']:.0f}/+{warm['rss_growth_queries_mb']:.0f} MiB; cold open "
                      f"{cold['open_ms']:.2f} ms, first query {cold['first_query_ms']:.2f} ms "
                      f"(resident after evict {cold['resident_fraction_after_evict']:.3f})",
                      file=sys.stderr, flush=True)
            results.append(summarise(library.label, path, sidecar, cached, warm_runs, cold_runs))
        except (RuntimeError, OSError, ValueError) as error:
            print(f"{library.label}: {error}", file=sys.stderr, flush=True)
            results.append({"lib": library.label, "error": str(error)})
            failed = True
    versions = {package: library_version(package) for package in ("usearch", "faiss-cpu", "hnswlib", "numpy")}
    versions["python"] = sys.version.split()[0]
    versions["kernel"] = os.uname().release
    parameters = {"base": args.base, "queries": args.queries, "groundtruth": args.groundtruth, "count": count,
                  "dim": dim, "query_count": query_count, "metric": "ip", "dtype": "f32", "m": args.m,
                  "ef_construction": args.ef_construction, "ef": args.ef, "k": args.k,
                  "build_threads": args.build_threads, "search_threads": 1, "repeats": args.repeats,
                  "warmup_queries": args.warmup_queries, "seed": args.seed, "faiss_io_flags": "IO_FLAG_MMAP_IFC",
                  "read_ahead_kb": read_ahead_kb(args.workdir),
                  "resident_limit": RESIDENT_LIMIT}
    summary = {"versions": versions, "parameters": parameters, "total_s": time.perf_counter() - started,
               "results": results}
    temporary = args.out + ".tmp"
    with open(temporary, "w") as f:
        json.dump(summary, f, indent=1)
    os.replace(temporary, args.out)
    print(f"wrote {args.out} in {summary['total_s']:.0f} s", file=sys.stderr)
    if failed:
        sys.exit(1)


def main():
    if len(sys.argv) > 1 and sys.argv[1] in ("_build", "_measure"):
        child = argparse.ArgumentParser(prog=f"segments_anchors.py {sys.argv[1]}")
        child.add_argument("--lib", required=True, choices=sorted(LIBRARIES))
        child.add_argument("--index", required=True)
        if sys.argv[1] == "_build":
            child.add_argument("--base", required=True)
            child.add_argument("--m", type=int, required=True)
            child.add_argument("--ef-construction", type=int, required=True)
            child.add_argument("--threads", type=int, required=True)
            child.add_argument("--seed", type=int, required=True)
            build_child(child.parse_args(sys.argv[2:]))
        else:
            child.add_argument("--queries", required=True)
            child.add_argument("--groundtruth", required=True)
            child.add_argument("--k", type=int, required=True)
            child.add_argument("--ef", type=int, required=True)
            child.add_argument("--warmup-queries", type=int, required=True)
            child.add_argument("--mode", required=True, choices=("warm", "cold"))
            measure_child(child.parse_args(sys.argv[2:]))
        return
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--base", required=True)
    parser.add_argument("--queries", required=True)
    parser.add_argument("--groundtruth", required=True)
    parser.add_argument("--workdir", required=True, help="where the index files and their sidecars are kept")
    parser.add_argument("--out", required=True)
    parser.add_argument("--m", type=int, default=16)
    parser.add_argument("--ef-construction", type=int, default=200)
    parser.add_argument("--ef", type=int, default=64)
    parser.add_argument("--k", type=int, default=10)
    parser.add_argument("--build-threads", type=int, default=2)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--warmup-queries", type=int, default=100)
    parser.add_argument("--seed", type=int, default=100, help="hnswlib's level seed (usearch and FAISS fix their own)")
    parser.add_argument("--libs", default="usearch,faiss,hnswlib")
    run(parser.parse_args())


if __name__ == "__main__":
    main()
