#!/usr/bin/env python3
"""Builds the Debian package retrieval set that `mms-bench hybrid` measures
keyword, dense and hybrid search on.

Source: this machine's package index (`apt-cache dumpavail`, after
`apt-get update`). Standard library only. Debian's index here carries only
each package's synopsis (the one-line description; the long descriptions
live in Translation files this machine's apt does not fetch), so the set is
built from names and synopses:

* A document is one binary package: "NAME: SYNOPSIS" (e.g.
  "zsh-doc: zsh documentation - info/HTML format").
* A query is the synopsis of one binary package P (without its name), for
  packages whose source package builds at least two other binary packages
  and whose synopsis has at least three words.
* Its relevant documents (grade 1) are the other binary packages built from
  P's source package (same `Source:`, or the same name when there is none);
  P itself is left out of the corpus, so a query never finds its own text.
  "Packages built from the same source as the one described" is the honest
  judgement the index gives; some unjudged packages are related too, so
  the figures are conservative, equally for every retriever.
* One query per source package (a seeded choice), a seeded sample of
  sources; the corpus is every package of the sampled sources (but the
  query packages) plus a seeded sample of all other packages, up to
  --documents in all.

Writes OUT/documents.tsv (id, package, text), OUT/queries.tsv (id, text),
OUT/qrels (TREC) and OUT/README.txt with the counts. Usage:

    python3 scripts/eval/make_debian_set.py --out .eval/debian [--queries 500] [--documents 20000] [--seed 14]
"""

import argparse
import pathlib
import random
import subprocess


def stanzas(text):
    current = {}
    key = None
    for line in text.split("\n"):
        if not line.strip():
            if current:
                yield current
            current, key = {}, None
        elif line[0] in " \t" and key:
            current[key] += "\n" + line
        elif ":" in line:
            key, _, value = line.partition(":")
            current[key] = value.strip()
    if current:
        yield current


def clean(text):
    return " ".join(text.replace("\t", " ").split())


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--out", required=True)
    parser.add_argument("--queries", type=int, default=500)
    parser.add_argument("--documents", type=int, default=20000)
    parser.add_argument("--seed", type=int, default=14)
    args = parser.parse_args()

    dump = subprocess.run(["apt-cache", "dumpavail"], check=True, capture_output=True, text=True).stdout
    synopsis = {}
    source = {}
    for s in stanzas(dump):
        name = s.get("Package")
        description = clean(s.get("Description", "").split("\n")[0])
        if not name or not description or name in synopsis:
            continue
        synopsis[name] = description
        source[name] = s.get("Source", name).split(" ")[0]
    by_source = {}
    for name in sorted(synopsis):
        by_source.setdefault(source[name], []).append(name)

    rng = random.Random(args.seed)
    eligible = []
    for src, names in sorted(by_source.items()):
        askable = [n for n in names if len(synopsis[n].split()) >= 3]
        if len(names) >= 3 and askable:
            eligible.append((src, rng.choice(askable)))
    chosen = sorted(rng.sample(eligible, min(args.queries, len(eligible))))
    asked = {name for _, name in chosen}
    corpus = sorted({n for src, _ in chosen for n in by_source[src]} - asked)
    rest = sorted(set(synopsis) - set(corpus) - asked)
    rng.shuffle(rest)
    corpus += sorted(rest[: max(0, args.documents - len(corpus))])

    out = pathlib.Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    doc_id = {}
    with open(out / "documents.tsv", "w") as f:
        for i, name in enumerate(corpus, start=1):
            doc_id[name] = i
            f.write(f"{i}\t{name}\t{name}: {synopsis[name]}\n")
    judged = 0
    with open(out / "queries.tsv", "w") as q, open(out / "qrels", "w") as r:
        for src, name in chosen:
            q.write(f"{name}\t{synopsis[name]}\n")
            for other in by_source[src]:
                if other != name:
                    r.write(f"{name} 0 {doc_id[other]} 1\n")
                    judged += 1
    (out / "README.txt").write_text(
        f"{len(synopsis)} packages from {len(by_source)} sources; {len(eligible)} sources eligible; "
        f"{len(chosen)} queries with {judged} relevant documents ({judged / max(1, len(chosen)):.1f} per query); "
        f"{len(corpus)} documents (seed {args.seed}).\n"
    )
    print((out / "README.txt").read_text().strip())


if __name__ == "__main__":
    main()
