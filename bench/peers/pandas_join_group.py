#!/usr/bin/python3
"""Peer for the join/group benchmark: the same operations in pandas, on the same data.

Generates, with numpy and the same splitmix64 as bench/join_group_bench.cc, the fact table
(key, v1, v2, g, s) and the dim table (id, d1, d2) -- value for value what assay generates --
then times, best of RUNS:
  left_join     fact.merge(dim, how="left", left_on="key", right_on="id")
  group_int     fact.groupby("g").agg(v1_sum=sum, v1_mean=mean, count=size, v2_max=max)
  group_string  the same grouped by the string column s
and prints one JSON object like the assay program's: {"tool": "pandas", "pandas_version",
"ops": {op: {"seconds", "cpu_seconds", "rows_in", "rows_out", "checksum"}}} (wall and process
CPU time of the best run). Data generation is not timed.

Run with /usr/bin/python3 (Debian's python3-pandas):
  /usr/bin/python3 bench/peers/pandas_join_group.py [--rows N] [--dim-rows N] [--groups N]
                                                    [--runs N]
"""

import argparse
import json
import sys
import time

import numpy as np
import pandas


def mix(rows, stream):
    """splitmix64(row + (stream << 36)), vectorized; uint64 arithmetic wraps like C++."""
    with np.errstate(over="ignore"):
        x = rows.astype(np.uint64) + np.uint64(stream << 36) + np.uint64(0x9E3779B97F4A7C15)
        x = (x ^ (x >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
        x = (x ^ (x >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
        return x ^ (x >> np.uint64(31))


def make_tables(rows, dim_rows, groups):
    index = np.arange(rows, dtype=np.uint64)
    g = (mix(index, 4) % np.uint64(groups)).astype(np.int64)
    fact = pandas.DataFrame({
        "key": (mix(index, 1) % np.uint64(2 * dim_rows)).astype(np.int64),
        "v1": (mix(index, 2) % np.uint64(1000000)).astype(np.float64) / 100.0,
        "v2": (mix(index, 3) % np.uint64(1000)).astype(np.int64),
        "g": g,
    })
    # Strings as pandas stores them by default (object dtype), built via the group's label.
    labels = np.array([f"hcp_{value}" for value in range(groups)], dtype=object)
    fact["s"] = labels[g]
    dim_index = np.arange(dim_rows, dtype=np.uint64)
    dim = pandas.DataFrame({
        "id": 2 * np.arange(dim_rows, dtype=np.int64),
        "d1": (mix(dim_index, 5) % np.uint64(10000)).astype(np.float64) / 10.0,
        "d2": (mix(dim_index, 6) % np.uint64(100)).astype(np.int64),
    })
    return fact, dim


def main(argv):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=10_000_000)
    parser.add_argument("--dim-rows", type=int, default=1_000_000)
    parser.add_argument("--groups", type=int, default=100_000)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--ops", default="", help="comma-separated subset of the operations")
    args = parser.parse_args(argv[1:])
    fact, dim = make_tables(args.rows, args.dim_rows, args.groups)

    def group(key):
        return fact.groupby(key).agg(v1_sum=("v1", "sum"), v1_mean=("v1", "mean"),
                                     count=("v1", "size"), v2_max=("v2", "max"))

    def group_checksum(out):
        return int(out["v2_max"].sum()) + int(out["count"].sum())

    ops = {
        "left_join": (lambda: fact.merge(dim, how="left", left_on="key", right_on="id"),
                      lambda out: int(out["d2"].fillna(0).astype(np.int64).sum())),
        "group_int": (lambda: group("g"), group_checksum),
        "group_string": (lambda: group("s"), group_checksum),
    }
    report = {"tool": "pandas", "pandas_version": pandas.__version__,
              "numpy_version": np.__version__, "rows": args.rows, "dim_rows": args.dim_rows,
              "groups": args.groups, "ops": {}}
    for name, (run, checksum) in ops.items():
        if args.ops and name not in args.ops.split(","):
            continue
        best = best_cpu = None
        out = None
        for _ in range(args.runs):
            cpu_start = time.process_time()
            start = time.perf_counter()
            out = run()
            seconds = time.perf_counter() - start
            cpu_seconds = time.process_time() - cpu_start
            if best is None or seconds < best:
                best, best_cpu = seconds, cpu_seconds
        report["ops"][name] = {"seconds": round(best, 4), "cpu_seconds": round(best_cpu, 4),
                               "rows_in": args.rows,
                               "rows_out": int(len(out)), "checksum": checksum(out)}
        del out
    print(json.dumps(report))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
