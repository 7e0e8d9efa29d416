#!/usr/bin/env python3
"""LightGBM anchor for `mms-bench ranking`: LightGBM's own predict on the
same model file and the same rows, timed in the same run.

    ranking_anchor.py --model M.txt --rows rows.f64 --features 32 --repeats 200 --out anchor.json

`--rows` is raw little-endian float64, row after row (NaN for missing), as
mms-bench writes it. Timings, one thread (`num_threads=1`):

* batch: `Booster.predict(X, raw_score=True)` over all rows, once per repeat;
* per row: `Booster.predict(X[i:i+1], raw_score=True)` for each of the first
  `--single-rows` rows, once per repeat.

Output: {"batch_us": [...], "row_us": [...], "raw": [...], "lightgbm": version}.
The raw scores let mms-bench check that both sides scored the same thing.
Install: .venv-ranking (scripts/fixtures/requirements-ranking.txt) or .venv-bench.
"""
import argparse
import json
import time

import lightgbm as lgb
import numpy as np


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--model", required=True)
    parser.add_argument("--rows", required=True)
    parser.add_argument("--features", type=int, required=True)
    parser.add_argument("--repeats", type=int, default=200)
    parser.add_argument("--single-rows", type=int, default=100)
    parser.add_argument("--out", required=True)
    args = parser.parse_args()

    x = np.fromfile(args.rows, dtype="<f8").reshape(-1, args.features)
    booster = lgb.Booster(model_file=args.model, params={"num_threads": 1})
    raw = booster.predict(x, raw_score=True, num_threads=1)  # warm-up and parity
    batch_us = []
    for _ in range(args.repeats):
        start = time.perf_counter_ns()
        booster.predict(x, raw_score=True, num_threads=1)
        batch_us.append((time.perf_counter_ns() - start) / 1e3)
    singles = [np.ascontiguousarray(x[i:i + 1]) for i in range(min(args.single_rows, len(x)))]
    for row in singles:
        booster.predict(row, raw_score=True, num_threads=1)
    row_us = []
    for _ in range(max(args.repeats // 10, 5)):
        for row in singles:
            start = time.perf_counter_ns()
            booster.predict(row, raw_score=True, num_threads=1)
            row_us.append((time.perf_counter_ns() - start) / 1e3)
    with open(args.out, "w") as f:
        json.dump({"batch_us": batch_us, "row_us": row_us, "raw": [float(v) for v in raw],
                   "lightgbm": lgb.__version__}, f)


if __name__ == "__main__":
    main()
