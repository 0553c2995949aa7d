#!/usr/bin/python3
"""Writes the deterministic numeric CSV of the ML-overhead benchmark (bench/ml_overhead.sh).

ROWS rows, 30 feature columns and a 0/1 target, from numpy's PCG64 generator with a fixed
seed (the same numpy version gives the same bytes):

  x01..x20  float, standard normal; x01..x05 carry the signal, x06..x10 are correlated with
            them (a mix of a signal column and noise), x11..x20 are noise
  x21..x25  float, uniform [0, 1); x21 and x22 carry signal
  x26..x30  int: Poisson counts (x26, x27, x28) and codes 0..9 (x29, x30); x26 and x29 carry
            signal
  target    1 with probability sigmoid(f(x)), f non-linear (an interaction, a sine, a step)

About 2% of x03, x07 and x22 are empty (missing), so both tools handle missing values.
Floats are written with 6 significant digits. Names are plain (x01, ...): no column looks
like an identifier or PHI, so Assay's feature pipeline keeps all 30 as numeric features, the
same 30 columns the raw XGBoost peer uses.

Usage: /usr/bin/python3 bench/ml_overhead_data.py --rows 200000 --seed 42 --output FILE.csv
Prints one JSON line: {"rows", "columns", "positive_rate", "bytes"}.
"""

import argparse
import json
import os
import sys

import numpy
import pandas


def make_frame(rows, seed):
    rng = numpy.random.default_rng(seed)
    normal = rng.standard_normal((rows, 20))
    # x06..x10: 0.6 * a signal column + 0.8 * their own noise (still unit variance).
    normal[:, 5:10] = 0.6 * normal[:, 0:5] + 0.8 * normal[:, 5:10]
    uniform = rng.random((rows, 5))
    counts = rng.poisson(lam=[2.0, 5.0, 12.0], size=(rows, 3))
    codes = rng.integers(0, 10, size=(rows, 2))
    x = normal
    margin = (0.9 * x[:, 0] - 0.6 * x[:, 1] + 0.7 * x[:, 2] * x[:, 3] + numpy.sin(2.0 * x[:, 4])
              + 1.2 * (uniform[:, 0] - 0.5) + 0.8 * (uniform[:, 1] > 0.7)
              + 0.25 * numpy.minimum(counts[:, 0], 6) + 0.5 * (codes[:, 0] % 3 == 0) - 1.3)
    target = (rng.random(rows) < 1.0 / (1.0 + numpy.exp(-margin))).astype(numpy.int64)

    columns = {}
    for col in range(20):
        columns[f"x{col + 1:02d}"] = normal[:, col]
    for col in range(5):
        columns[f"x{col + 21:02d}"] = uniform[:, col]
    for col in range(3):
        columns[f"x{col + 26:02d}"] = counts[:, col]
    for col in range(2):
        columns[f"x{col + 29:02d}"] = codes[:, col]
    columns["target"] = target
    frame = pandas.DataFrame(columns)
    for name in ("x03", "x07", "x22"):
        frame.loc[rng.random(rows) < 0.02, name] = numpy.nan
    return frame


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=200000)
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--output", required=True)
    args = parser.parse_args()
    if args.rows < 100:
        parser.error("--rows must be at least 100")
    frame = make_frame(args.rows, args.seed)
    frame.to_csv(args.output, index=False, float_format="%.6g", na_rep="")
    print(json.dumps({"rows": args.rows, "columns": len(frame.columns),
                      "positive_rate": round(float(frame["target"].mean()), 4),
                      "bytes": os.path.getsize(args.output)}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
