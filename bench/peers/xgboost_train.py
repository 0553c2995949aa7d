#!/usr/bin/python3
"""Peer for the ML-overhead benchmark: raw XGBoost, as a data scientist would write it.

pandas.read_csv(path) -> xgboost.DMatrix(features, label=target) -> xgboost.train(params,
dtrain, num_boost_round=ROUNDS), with the benchmark's fixed configuration (tree_method hist,
max_depth 6, eta 0.1, nthread 2, the given seed, no early stopping). Every column but the
target is a feature. Prints one JSON object on stdout:

  {"tool": "xgboost", "xgboost_version", "pandas_version", "rows", "features", "rounds",
   "seconds" (read + DMatrix + train), "stages": {"read", "dmatrix", "train"},
   "cpu_seconds" (process user + system over the same span), "check": {...}}

"check" summarises the model's training-set probabilities (count, sum, sum of squares, the
first 5), computed after the timed span, so the report can confirm both tools trained the
same model. Interpreter start-up and the imports are not timed (the driver reports the whole
process as well). Run with /usr/bin/python3, which sees Debian's python3-xgboost.

Usage: /usr/bin/python3 bench/peers/xgboost_train.py FILE.csv [--target target]
       [--rounds 300] [--max-depth 6] [--eta 0.1] [--threads 2] [--seed 7]
"""

import argparse
import json
import os
import sys
import time

import numpy
import pandas
import xgboost


def cpu_seconds():
    times = os.times()
    return times.user + times.system


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("csv")
    parser.add_argument("--target", default="target")
    parser.add_argument("--rounds", type=int, default=300)
    parser.add_argument("--max-depth", type=int, default=6)
    parser.add_argument("--eta", type=float, default=0.1)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()
    params = {"objective": "binary:logistic", "tree_method": "hist",
              "max_depth": args.max_depth, "eta": args.eta, "nthread": args.threads,
              "seed": args.seed, "verbosity": 0}

    cpu_start = cpu_seconds()
    start = time.perf_counter()
    frame = pandas.read_csv(args.csv)
    read_done = time.perf_counter()
    target = frame[args.target]
    features = frame.drop(columns=[args.target])
    dtrain = xgboost.DMatrix(features, label=target)
    dmatrix_done = time.perf_counter()
    booster = xgboost.train(params, dtrain, num_boost_round=args.rounds)
    end = time.perf_counter()
    cpu = cpu_seconds() - cpu_start

    probabilities = booster.predict(dtrain).astype(numpy.float64)
    report = {
        "tool": "xgboost",
        "xgboost_version": xgboost.__version__,
        "pandas_version": pandas.__version__,
        "rows": int(len(frame)),
        "features": int(features.shape[1]),
        "rounds": args.rounds,
        "seconds": round(end - start, 4),
        "stages": {"read": round(read_done - start, 4),
                   "dmatrix": round(dmatrix_done - read_done, 4),
                   "train": round(end - dmatrix_done, 4)},
        "cpu_seconds": round(cpu, 3),
        "check": {"count": int(probabilities.size),
                  "sum": float(probabilities.sum()),
                  "sum_squares": float((probabilities * probabilities).sum()),
                  "first": [float(value) for value in probabilities[:5]]},
    }
    print(json.dumps(report))
    return 0


if __name__ == "__main__":
    sys.exit(main())
