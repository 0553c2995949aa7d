#!/usr/bin/env bash
# No-op rebuild benchmark: `assay flow build` of a 20-recipe flow in which every recipe is
# memoized, measured end to end (process start, workspace open, planning from the metadata
# store, exit). The issue's goal: under 100 ms.
#
#   bash bench/flow_noop_rebuild.sh BUILD_DIR
#
# The flow is a chain of 10 sort recipes plus 10 sql recipes each reading one link of the
# chain, over a 1,000-row source, so planning walks a real DAG with 21 datasets. It is built
# once (untimed), then the no-op rebuild runs ASSAY_BENCH_RUNS times (default 20); the report
# gives the median and the worst. Results: stdout and bench/out/flow_noop_rebuild.md.
# Exit status: 0 when every build succeeded and every timed build ran nothing (a missed goal is
# reported as MISS), 1 otherwise, 2 on usage.
set -euo pipefail

if [ $# -ne 1 ]; then
  echo "usage: bash bench/flow_noop_rebuild.sh BUILD_DIR" >&2
  exit 2
fi
repo_root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
build_dir="$(cd "$1" && pwd)"
assay="$build_dir/src/cli/assay"
runs="${ASSAY_BENCH_RUNS:-20}"
python=/usr/bin/python3
out_dir="$repo_root/bench/out"
mkdir -p "$out_dir"
if [ ! -x "$assay" ]; then
  echo "flow_noop_rebuild: $assay is missing; build with 'cmake --build $1'" >&2
  exit 1
fi

work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
home="$work/ws"
"$assay" --home "$home" init >/dev/null
"$assay" --home "$home" project create BENCH >/dev/null
{
  echo "id,group,value"
  for i in $(seq 1 1000); do echo "$i,g$((i % 17)),$((i * 7919 % 1000))"; done
} >"$work/source.csv"
"$assay" --home "$home" dataset import BENCH/source "$work/source.csv" >/dev/null

{
  echo "recipes:"
  previous=source
  for i in $(seq 1 10); do
    order=asc
    if [ $((i % 2)) -eq 0 ]; then order=desc; fi
    echo "  - {name: sort_$i, type: sort, inputs: [$previous], outputs: [chain_$i],"
    echo "     config: {keys: [{column: value, order: $order}, {column: id}]}}"
    echo "  - {name: summary_$i, type: sql, inputs: [chain_$i], outputs: [summary_$i],"
    echo "     config: {query: \"SELECT \\\"group\\\", COUNT(*) AS n FROM chain_$i GROUP BY 1\"}}"
    previous="chain_$i"
  done
} >"$work/flow.yaml"
"$assay" --home "$home" flow apply BENCH "$work/flow.yaml" >/dev/null
"$assay" --home "$home" flow build BENCH >/dev/null

"$python" - "$assay" "$home" "$runs" "$out_dir/flow_noop_rebuild.md" <<'PY'
import json, statistics, subprocess, sys, time
assay, home, runs, report = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4]
times = []
for _ in range(runs):
    start = time.perf_counter()
    result = subprocess.run([assay, "--home", home, "flow", "build", "BENCH", "--json"],
                            capture_output=True, text=True)
    times.append((time.perf_counter() - start) * 1000)
    if result.returncode != 0:
        sys.exit(f"flow_noop_rebuild: build failed: {result.stderr}")
    steps = json.loads(result.stdout)["steps"]
    ran = [s["recipe"] for s in steps if s["status"] != "reused"]
    if len(steps) != 20 or ran:
        sys.exit(f"flow_noop_rebuild: expected 20 memoized recipes, got {len(steps)}, ran {ran}")
median, worst = statistics.median(times), max(times)
verdict = "MEET" if median < 100 else "MISS"
text = (f"# No-op rebuild of a 20-recipe flow\n\n"
        f"| runs | median ms | worst ms | goal | verdict |\n|---|---|---|---|---|\n"
        f"| {runs} | {median:.1f} | {worst:.1f} | < 100 ms | {verdict} |\n")
print(text)
open(report, "w").write(text)
PY
