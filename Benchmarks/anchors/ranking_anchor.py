#!/usr/bin/env python3
"""LightGBM anchor for `mms-bench ranking`: LightGBM's own predict on the
same model file and the same rows, timed in the same run.

    ranking_anchor.py --model M.txt --rows rows.f64 --features 32 --repeats 200 --out anchor.json

`--rows` is raw little-endian float64, row after row (NaN for missing), as
mms-bench writes it. Timings, one thread (`num_threads=1`):

* batch: `Booster.predict(X, raw_score=True)` over all rows, once per repeat;
* per row: `Booster.predict(X[i:i+1], raw_score=True)` for each of the first
  `--single-rows` rows, once per repeat;
* the same two through LightGBM's C API directly (ctypes, output buffers
  allocated once), so Python's per-call overhead is not counted against it:
  `LGBM_BoosterPredictForMat` over all rows, and
  `LGBM_BoosterPredictForMatSingleRowFast` (its fastest one-row path) per row.

Output: {"batch_us", "row_us", "capi_batch_us", "capi_row_us": [...], "raw": [...], "lightgbm": version}.
The raw scores let mms-bench check that both sides scored the same thing.
Environment: .venv-ranking, made by `scripts/bench-env.sh ranking`.
"""
import argparse
import ctypes
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
    capi_batch_us, capi_row_us, capi_raw = c_api_timings(booster, x, singles, args.repeats)
    if np.max(np.abs(capi_raw - raw)) != 0:
        raise SystemExit("C API and Booster.predict disagree")
    with open(args.out, "w") as f:
        json.dump({"batch_us": batch_us, "row_us": row_us, "capi_batch_us": capi_batch_us,
                   "capi_row_us": capi_row_us, "raw": [float(v) for v in raw],
                   "lightgbm": lgb.__version__}, f)


def c_api_timings(booster, x, singles, repeats):
    """LightGBM's C predict entry points called directly, one thread."""
    lib = lgb.basic._LIB
    dtype_float64, predict_raw = 1, 1
    handle = booster._handle
    parameter = ctypes.c_char_p(b"num_threads=1")
    x = np.ascontiguousarray(x, dtype=np.float64)
    out = np.empty(len(x), dtype=np.float64)
    out_len = ctypes.c_int64(0)
    data_ptr = x.ctypes.data_as(ctypes.c_void_p)
    out_ptr = out.ctypes.data_as(ctypes.POINTER(ctypes.c_double))

    def batch():
        rc = lib.LGBM_BoosterPredictForMat(
            handle, data_ptr, ctypes.c_int(dtype_float64), ctypes.c_int32(x.shape[0]), ctypes.c_int32(x.shape[1]),
            ctypes.c_int(1), ctypes.c_int(predict_raw), ctypes.c_int(0), ctypes.c_int(-1), parameter,
            ctypes.byref(out_len), out_ptr)
        if rc != 0:
            raise SystemExit(lib.LGBM_GetLastError().decode())

    batch()
    raw = out.copy()
    batch_us = []
    for _ in range(repeats):
        start = time.perf_counter_ns()
        batch()
        batch_us.append((time.perf_counter_ns() - start) / 1e3)

    fast = ctypes.c_void_p()
    rc = lib.LGBM_BoosterPredictForMatSingleRowFastInit(
        handle, ctypes.c_int(predict_raw), ctypes.c_int(0), ctypes.c_int(-1), ctypes.c_int(dtype_float64),
        ctypes.c_int32(x.shape[1]), parameter, ctypes.byref(fast))
    if rc != 0:
        raise SystemExit(lib.LGBM_GetLastError().decode())
    one = np.empty(1, dtype=np.float64)
    one_ptr = one.ctypes.data_as(ctypes.POINTER(ctypes.c_double))
    row_ptrs = [row.ctypes.data_as(ctypes.c_void_p) for row in singles]
    row_us = []
    for _ in range(max(repeats // 10, 5)):
        for ptr in row_ptrs:
            start = time.perf_counter_ns()
            lib.LGBM_BoosterPredictForMatSingleRowFast(fast, ptr, ctypes.byref(out_len), one_ptr)
            row_us.append((time.perf_counter_ns() - start) / 1e3)
    lib.LGBM_FastConfigFree(fast)
    return batch_us, row_us, raw


if __name__ == "__main__":
    main()
