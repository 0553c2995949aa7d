#!/usr/bin/env bash
# Join/group-by benchmark: the relational recipes (RunJoin, RunGroup kernel) against pandas
# (Debian python3-pandas) on the same generated tables, in the same run.
#
#   bash bench/join_group.sh BUILD_DIR
#
# BUILD_DIR must hold a Release build of bench/assay_join_group_bench.
# Environment:
#   ASSAY_BENCH_JG_ROWS      fact rows (default 10000000)
#   ASSAY_BENCH_JG_DIM_ROWS  dim rows (default 1000000)
#   ASSAY_BENCH_JG_GROUPS    group-key cardinality (default 100000)
#   ASSAY_BENCH_RUNS         timed runs per operation, best kept (default 3)
#
# Both programs generate the same tables in memory (splitmix64 of the row index; nothing is
# read from disk) and time only the operations: a left join of the fact table with the dim
# table on an int64 key, and a group-by with sum/mean/count/max on an int64 key and on a
# string key. Each prints JSON with wall and process CPU seconds and an integer checksum of
# its result; the report checks that the checksums and row counts agree, computes rows/s and
# the assay/pandas ratio, and judges the goal (>= 5x pandas on the machine's cores).
# Results: stdout, bench/out/join_group.md and bench/out/join_group.json.
# Exit status: 0 when both tools succeeded and agreed (a missed goal is reported as MISS, not
# a failure), 1 when a tool failed or the results differ, 2 on usage.
set -euo pipefail

if [ $# -ne 1 ]; then
  echo "usage: bash bench/join_group.sh BUILD_DIR" >&2
  exit 2
fi

repo_root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
build_dir="$(cd "$1" && pwd)"
rows="${ASSAY_BENCH_JG_ROWS:-10000000}"
dim_rows="${ASSAY_BENCH_JG_DIM_ROWS:-1000000}"
groups="${ASSAY_BENCH_JG_GROUPS:-100000}"
runs="${ASSAY_BENCH_RUNS:-3}"
python=/usr/bin/python3  # the first python3 on PATH may not see Debian's pandas
bench="$build_dir/bench/assay_join_group_bench"
out_dir="$repo_root/bench/out"
run_timeout_seconds=3600

for tool in "$bench" "$python"; do
  if [ ! -x "$tool" ]; then
    echo "join_group: $tool is missing; build with 'cmake --build $1' and run" \
      "'bash scripts/bootstrap.sh'" >&2
    exit 1
  fi
done

mkdir -p "$out_dir"
work="$(mktemp -d "${TMPDIR:-/tmp}/assay-bench-jg.XXXXXX")"
trap 'rm -rf "$work"' EXIT
args=(--rows "$rows" --dim-rows "$dim_rows" --groups "$groups" --runs "$runs")

status=0
load_before="$(cut -d' ' -f1-3 /proc/loadavg)"
echo "join_group: assay ($rows x $dim_rows rows, $groups groups, best of $runs)"
timeout "$run_timeout_seconds" "$bench" "${args[@]}" >"$work/assay.json" 2>"$work/assay.err" ||
  { echo "join_group: assay failed:" >&2; tail -n 20 "$work/assay.err" >&2; status=1; }
echo "join_group: pandas"
timeout "$run_timeout_seconds" "$python" "$repo_root/bench/peers/pandas_join_group.py" \
  "${args[@]}" >"$work/pandas.json" 2>"$work/pandas.err" ||
  { echo "join_group: pandas failed:" >&2; tail -n 20 "$work/pandas.err" >&2; status=1; }
load_after="$(cut -d' ' -f1-3 /proc/loadavg)"

"$python" "$repo_root/bench/join_group_report.py" \
  --assay "$work/assay.json" --pandas "$work/pandas.json" \
  --load-before "$load_before" --load-after "$load_after" \
  --markdown "$out_dir/join_group.md" --json "$out_dir/join_group.json" || status=1
exit "$status"
