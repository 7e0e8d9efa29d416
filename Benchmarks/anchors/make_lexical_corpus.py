#!/usr/bin/env python3
"""Extracts the corpus and queries of `mms-bench lexical` from Debian's package index.

    apt-get update                       # once, so apt-cache knows every package
    python3 Benchmarks/anchors/make_lexical_corpus.py [--out bench-data/lexical] [--queries 2000]

Reads `apt-cache dumpavail`. A document per package name (the first stanza
seen): its name, and its description (the synopsis line and the long
description, continuation lines joined, the " ." paragraph marks dropped).
Debian's Packages files carry the synopsis only (long descriptions live in
the Translation files, which an apt without translations does not fetch),
so on such a machine each document is its one-line synopsis.
Queries: the synopses of a seeded sample of packages, reduced to letters,
digits and spaces (so every engine's query parser reads them as plain words,
OR-ed together), with the package each came from (a judgement the NDCG
evaluation can use). Writes corpus.jsonl ({"id", "name", "text"} per line,
ids 0…N−1 in the order read) and queries.jsonl ({"text", "package"}).
Standard library only.
"""
import argparse
import json
import pathlib
import random
import re
import subprocess


def stanzas(text):
    for block in text.split("\n\n"):
        fields = {}
        key = None
        for line in block.split("\n"):
            if line.startswith((" ", "\t")) and key:
                fields[key] += "\n" + line
            elif ":" in line:
                key, _, value = line.partition(":")
                fields[key] = value.strip()
        if "Package" in fields:
            yield fields


def description(raw):
    lines = raw.split("\n")
    body = [line.strip() for line in lines[1:] if line.strip() != "."]
    return lines[0].strip(), " ".join([lines[0].strip()] + body)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--out", default="bench-data/lexical")
    parser.add_argument("--queries", type=int, default=2000)
    parser.add_argument("--seed", type=int, default=14)
    args = parser.parse_args()
    dump = subprocess.run(["apt-cache", "dumpavail"], check=True, capture_output=True, text=True).stdout
    seen = set()
    documents = []
    for fields in stanzas(dump):
        name = fields["Package"]
        raw = fields.get("Description") or fields.get("Description-en")
        if name in seen or not raw:
            continue
        seen.add(name)
        synopsis, text = description(raw)
        documents.append({"id": len(documents), "name": name, "text": text, "synopsis": synopsis})
    if len(documents) < 1000:
        raise SystemExit(f"only {len(documents)} packages: run apt-get update first")
    out = pathlib.Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    with open(out / "corpus.jsonl", "w") as f:
        for d in documents:
            f.write(json.dumps({"id": d["id"], "name": d["name"], "text": d["text"]}, ensure_ascii=False) + "\n")
    rng = random.Random(args.seed)
    with open(out / "queries.jsonl", "w") as f:
        written = 0
        for d in rng.sample(documents, min(len(documents), args.queries * 2)):
            words = re.sub(r"[^\w]+|_", " ", d["synopsis"]).split()
            if not words:
                continue
            f.write(json.dumps({"text": " ".join(words), "package": d["id"]}, ensure_ascii=False) + "\n")
            written += 1
            if written == args.queries:
                break
    print(f"wrote {len(documents)} documents and {written} queries to {out}")


if __name__ == "__main__":
    main()
