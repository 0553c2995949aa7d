#!/usr/bin/env bash
# ML-overhead benchmark: the same XGBoost configuration trained through Assay (CSV reader,
# label mapping, feature pipeline, trainer) and with raw XGBoost from Python (pandas.read_csv,
# DMatrix, xgboost.train) on the same CSV file, in the same run. The AutoML issue's goal:
# Assay at most 10% slower end to end.
#
#   bash bench/ml_overhead.sh BUILD_DIR
#
# BUILD_DIR must hold a Release build of bench/assay_ml_overhead_bench.
# Environment:
#   ASSAY_BENCH_ML_ROWS    rows of the generated file (default 200000; 30 features + target)
#   ASSAY_BENCH_ML_SEED    generator seed (default 42)
#   ASSAY_BENCH_ML_ROUNDS  boosting rounds (default 300)
#   ASSAY_BENCH_RUNS       timed runs per tool, the median kept (default 3)
#   OMP_WAIT_POLICY        libgomp's wait policy for BOTH tools (default passive, recorded in
#                          the report). Assay's programs choose passive for themselves when it
#                          is unset, so the peer gets the same by default; `active` (libgomp's
#                          own default) spin-waits, which on a loaded machine makes both
#                          erratic
#
# Configuration, identical for both: binary:logistic, tree_method hist, max_depth 6, eta 0.1,
# ROUNDS rounds without early stopping, nthread 2, seed 7, every other parameter at
# XGBoost's default. Both link the same libxgboost (Debian's, which python3-xgboost loads).
# The file (bench/ml_overhead_data.py) is generated once into bench/out/ and reused; it is
# read once before timing, so the page cache is warm for both. The tools run ASSAY_BENCH_RUNS
# times, interleaved (assay, xgboost, assay, ...), each run a fresh process under GNU time.
# Each tool times its own span from opening the CSV to the trained model; the report judges
# the ratio of the median spans (interpreter start-up and `import xgboost` are outside the
# peer's span, which favours the peer) and also shows whole-process wall and CPU times.
# Both print a summary of their model's training-set probabilities; the report checks that
# they agree (the same model was trained).
# Results: stdout, bench/out/ml_overhead.md and bench/out/ml_overhead.json.
# Exit status: 0 when both tools succeeded and agreed (a missed goal is reported as MISS, not
# a failure), 1 when a tool failed or the models differ, 2 on usage.
set -euo pipefail

if [ $# -ne 1 ]; then
  echo "usage: bash bench/ml_overhead.sh BUILD_DIR" >&2
  exit 2
fi

repo_root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
build_dir="$(cd "$1" && pwd)"
rows="${ASSAY_BENCH_ML_ROWS:-200000}"
seed="${ASSAY_BENCH_ML_SEED:-42}"
rounds="${ASSAY_BENCH_ML_ROUNDS:-300}"
runs="${ASSAY_BENCH_RUNS:-3}"
python=/usr/bin/python3  # the first python3 on PATH may not see Debian's xgboost
gnu_time=/usr/bin/time
bench="$build_dir/bench/assay_ml_overhead_bench"
generator="$repo_root/bench/ml_overhead_data.py"
out_dir="$repo_root/bench/out"
run_timeout_seconds=1800

for tool in "$bench" "$python" "$gnu_time"; do
  if [ ! -x "$tool" ]; then
    echo "ml_overhead: $tool is missing; build with 'cmake --build $1' and run" \
      "'bash scripts/bootstrap.sh'" >&2
    exit 1
  fi
done

mkdir -p "$out_dir"
csv="$out_dir/ml_overhead_${rows}_${seed}.csv"
work="$(mktemp -d "${TMPDIR:-/tmp}/assay-bench-ml.XXXXXX")"
trap 'rm -rf "$work"' EXIT

if [ ! -f "$csv" ] || [ "$generator" -nt "$csv" ]; then
  echo "ml_overhead: generating $csv ($rows rows, seed $seed)"
  "$python" "$generator" --rows "$rows" --seed "$seed" --output "$csv.tmp" >"$work/gen.json"
  mv "$csv.tmp" "$csv"
else
  echo "ml_overhead: reusing $csv"
fi
cat "$csv" >/dev/null

# Like for like: the same OpenMP wait policy in both processes.
export OMP_WAIT_POLICY="${OMP_WAIT_POLICY:-passive}"
config=(--rounds "$rounds" --max-depth 6 --eta 0.1 --threads 2 --seed 7)

# Runs `NAME RUN CMD...` under GNU time; leaves stdout, stderr and "wall-seconds peak-KiB
# user-seconds system-seconds" in $work/NAME.RUN.{out,err,time}.
status=0
timed_run() {
  local name="$1" run="$2"
  shift 2
  local rc=0
  "$gnu_time" -f '%e %M %U %S' -o "$work/$name.$run.time" \
    timeout "$run_timeout_seconds" "$@" >"$work/$name.$run.out" 2>"$work/$name.$run.err" || rc=$?
  if [ "$rc" -ne 0 ]; then
    echo "ml_overhead: $name run $run failed with exit status $rc; last lines of stderr:" >&2
    tail -n 20 "$work/$name.$run.err" >&2
    status=1
  else
    echo "ml_overhead: $name run $run: $(tail -n 1 "$work/$name.$run.time")" \
      "(wall s, peak KiB, user s, sys s)"
  fi
}

load_before="$(cut -d' ' -f1-3 /proc/loadavg)"
for run in $(seq 1 "$runs"); do
  timed_run assay "$run" "$bench" --csv "$csv" "${config[@]}"
  timed_run xgboost "$run" "$python" "$repo_root/bench/peers/xgboost_train.py" "$csv" \
    "${config[@]}"
done
load_after="$(cut -d' ' -f1-3 /proc/loadavg)"

"$python" "$repo_root/bench/ml_overhead_report.py" \
  --work "$work" --runs "$runs" --csv "$csv" --rows "$rows" --seed "$seed" \
  --load-before "$load_before" --load-after "$load_after" \
  --markdown "$out_dir/ml_overhead.md" --json "$out_dir/ml_overhead.json" || status=1
exit "$status"
