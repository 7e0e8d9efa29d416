#!/usr/bin/env python3
"""tantivy and bm25s anchors for `mms-bench lexical`, timed in the same run.

    lexical_anchor.py --corpus corpus.jsonl --queries queries.jsonl --work DIR --out anchor.json

One thread each. Both analyse as the index under test does: lower-casing,
English Snowball stemming, no stop words.

* tantivy: a schema with one stored id and one text field with the
  `en_stem` tokenizer, an on-disk index in DIR/tantivy, a writer with one
  indexing thread; indexing time is every `add_document`, the `commit` and
  the reload of the searcher. Per query: `parse_query` (the words OR-ed)
  and `search(query, 10)`, timed together.
* bm25s: method "lucene", k1 1.2, b 0.75; indexing time is
  `bm25s.tokenize` with PyStemmer's English stemmer plus `BM25.index`. Per
  query: `tokenize` and `retrieve(k=10)` of the one query.

Output: {"tantivy": {...}, "bm25s": {...}} each with "index_seconds",
"documents", "query_us" (one per query, in order) and "top10" (document ids
per query, for a sanity check of agreement), plus the versions.
"""
import argparse
import importlib.metadata
import json
import os
import shutil
import time

os.environ.setdefault("OMP_NUM_THREADS", "1")
os.environ.setdefault("NUMBA_NUM_THREADS", "1")

import bm25s  # noqa: E402
import Stemmer  # noqa: E402
import tantivy  # noqa: E402


def run_tantivy(texts, queries, work):
    path = os.path.join(work, "tantivy")
    shutil.rmtree(path, ignore_errors=True)
    os.makedirs(path)
    builder = tantivy.SchemaBuilder()
    builder.add_unsigned_field("id", stored=True, indexed=False)
    builder.add_text_field("text", stored=False, tokenizer_name="en_stem")
    schema = builder.build()
    index = tantivy.Index(schema, path=path)
    start = time.perf_counter()
    writer = index.writer(heap_size=200_000_000, num_threads=1)
    for i, text in enumerate(texts):
        writer.add_document(tantivy.Document(id=i, text=text))
    writer.commit()
    writer.wait_merging_threads()
    index.reload()
    index_seconds = time.perf_counter() - start
    searcher = index.searcher()
    times, top = [], []
    for q in queries[:50]:  # warm-up
        searcher.search(index.parse_query(q, ["text"]), 10)
    for q in queries:
        t0 = time.perf_counter_ns()
        result = searcher.search(index.parse_query(q, ["text"]), 10)
        times.append((time.perf_counter_ns() - t0) / 1e3)
        top.append([searcher.doc(address)["id"][0] for _, address in result.hits])
    return {"index_seconds": index_seconds, "documents": searcher.num_docs, "query_us": times, "top10": top}


def run_bm25s(texts, queries):
    # bm25s answers one query at a time slowly (its per-call overhead): the first queries only.
    stemmer = Stemmer.Stemmer("english")
    start = time.perf_counter()
    tokens = bm25s.tokenize(texts, stopwords=None, stemmer=stemmer, show_progress=False)
    retriever = bm25s.BM25(method="lucene", k1=1.2, b=0.75)
    retriever.index(tokens, show_progress=False)
    index_seconds = time.perf_counter() - start
    times, top = [], []
    for q in queries[:50]:
        retriever.retrieve(bm25s.tokenize([q], stopwords=None, stemmer=stemmer, show_progress=False), k=10,
                           show_progress=False, n_threads=1)
    for q in queries:
        t0 = time.perf_counter_ns()
        query_tokens = bm25s.tokenize([q], stopwords=None, stemmer=stemmer, show_progress=False)
        docs, _ = retriever.retrieve(query_tokens, k=10, show_progress=False, n_threads=1)
        times.append((time.perf_counter_ns() - t0) / 1e3)
        top.append([int(d) for d in docs[0]])
    return {"index_seconds": index_seconds, "documents": len(texts), "query_us": times, "top10": top}


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--corpus", required=True)
    parser.add_argument("--queries", required=True)
    parser.add_argument("--work", required=True)
    parser.add_argument("--out", required=True)
    parser.add_argument("--skip-bm25s", action="store_true")
    parser.add_argument("--bm25s-queries", type=int, default=200, help="bm25s is timed on the first N queries")
    args = parser.parse_args()
    with open(args.corpus) as f:
        texts = [json.loads(line)["text"] for line in f]
    with open(args.queries) as f:
        queries = [json.loads(line)["text"] for line in f]
    out = {
        "versions": {p: importlib.metadata.version(p) for p in ("tantivy", "bm25s", "PyStemmer")},
        "tantivy": run_tantivy(texts, queries, args.work),
    }
    if not args.skip_bm25s:
        out["bm25s"] = run_bm25s(texts, queries[: args.bm25s_queries])
    with open(args.out, "w") as f:
        json.dump(out, f)


if __name__ == "__main__":
    main()
