#!/usr/bin/env bash
# CSV-ingest benchmark: `assay dataset import` of a generated mixed-type CSV against
# pandas.read_csv (Debian python3-pandas, default engine) on the same file, in the same run.
#
#   bash bench/csv_ingest.sh BUILD_DIR
#
# BUILD_DIR must hold a Release build of src/cli/assay and bench/assay_gen_mixed_csv.
# Environment:
#   ASSAY_BENCH_CSV_BYTES  file size in bytes (default 1000000000; smaller for quick runs)
#   ASSAY_BENCH_CSV_SEED   generator seed (default 42)
#   ASSAY_BENCH_RUNS       timed runs per tool, best time kept (default 2)
#
# The file is generated once into bench/out/ and reused while the generator binary is older
# than it. Each tool runs ASSAY_BENCH_RUNS times, interleaved, after the file was read once,
# so the page cache is warm for both. Every assay run imports into a fresh workspace (a temp
# dir, removed at exit), because importing identical content twice is a no-op by design.
# Wall time, peak RSS and CPU time come from GNU time (`/usr/bin/time -f '%e %M %U %S'`).
# Results: stdout, bench/out/csv_ingest.md and bench/out/csv_ingest.json.
# Exit status: 0 when both tools succeeded (whether or not the goals were met: a missed goal
# is reported as MISS, never hidden), 1 when a tool failed or miscounted rows, 2 on usage.
set -euo pipefail

if [ $# -ne 1 ]; then
  echo "usage: bash bench/csv_ingest.sh BUILD_DIR" >&2
  exit 2
fi

repo_root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
build_dir="$(cd "$1" && pwd)"
bytes="${ASSAY_BENCH_CSV_BYTES:-1000000000}"
seed="${ASSAY_BENCH_CSV_SEED:-42}"
runs="${ASSAY_BENCH_RUNS:-2}"
python=/usr/bin/python3  # the first python3 on PATH may not see Debian's pandas
gnu_time=/usr/bin/time
assay="$build_dir/src/cli/assay"
generator="$build_dir/bench/assay_gen_mixed_csv"
out_dir="$repo_root/bench/out"
# A single import may not run longer than this; a hang is reported as a failure.
run_timeout_seconds=1800

for tool in "$assay" "$generator" "$python" "$gnu_time"; do
  if [ ! -x "$tool" ]; then
    echo "csv_ingest: $tool is missing; build with 'cmake --build $1' and run" \
      "'bash scripts/bootstrap.sh'" >&2
    exit 1
  fi
done

mkdir -p "$out_dir"
csv="$out_dir/mixed_${bytes}_${seed}.csv"
work="$(mktemp -d "${TMPDIR:-/tmp}/assay-bench.XXXXXX")"
trap 'rm -rf "$work"' EXIT

# 1. The data file, generated once per (size, seed, generator build).
if [ ! -f "$csv" ] || [ "$generator" -nt "$csv" ]; then
  echo "csv_ingest: generating $csv ($bytes bytes, seed $seed)"
  "$generator" --bytes "$bytes" --seed "$seed" --output "$csv" >"$work/gen.json"
else
  echo "csv_ingest: reusing $csv"
fi
file_bytes="$(stat -c %s "$csv")"
# Data rows = lines minus the header (no field of this file holds a newline).
expected_rows=$(($(wc -l <"$csv") - 1))

# Warm the page cache so neither tool pays for the first read from disk.
cat "$csv" >/dev/null

# Runs `NAME RUN CMD...` under GNU time; leaves RUN's stdout, stderr and "wall-seconds
# peak-KiB user-seconds system-seconds" in
# $work/NAME.RUN.{out,err,time} and its exit status in $work/NAME.RUN.rc.
timed_run() {
  local name="$1" run="$2"
  shift 2
  local rc=0
  "$gnu_time" -f '%e %M %U %S' -o "$work/$name.$run.time" \
    timeout "$run_timeout_seconds" "$@" >"$work/$name.$run.out" 2>"$work/$name.$run.err" || rc=$?
  echo "$rc" >"$work/$name.$run.rc"
  if [ "$rc" -ne 0 ]; then
    echo "csv_ingest: $name run $run failed with exit status $rc; last lines of stderr:" >&2
    tail -n 20 "$work/$name.$run.err" >&2
  else
    echo "csv_ingest: $name run $run: $(tail -n 1 "$work/$name.$run.time")" \
      "(wall s, peak KiB, user s, sys s)"
  fi
}

load_before="$(cut -d' ' -f1-3 /proc/loadavg)"
for run in $(seq 1 "$runs"); do
  # (a) assay: the whole user-visible ingest (read, infer types, encode, hash, profile,
  # commit) into a fresh workspace; init and project create are not timed.
  home="$work/home.$run"
  if "$assay" --home "$home" init >"$work/init.$run.log" 2>&1 &&
    "$assay" --home "$home" project create BENCH >>"$work/init.$run.log" 2>&1; then
    timed_run assay "$run" "$assay" --home "$home" dataset import BENCH/mixed "$csv" --json
  else
    echo "csv_ingest: preparing the assay workspace failed:" >&2
    tail -n 20 "$work/init.$run.log" >&2
    cp "$work/init.$run.log" "$work/assay.$run.err"
    echo 1 >"$work/assay.$run.rc"
    : >"$work/assay.$run.out"
    : >"$work/assay.$run.time"
  fi
  rm -rf "$home"

  # (b) pandas.read_csv(path), default engine and options.
  timed_run pandas "$run" "$python" "$repo_root/bench/peers/pandas_read_csv.py" "$csv"
done
load_after="$(cut -d' ' -f1-3 /proc/loadavg)"

"$python" "$repo_root/bench/csv_ingest_report.py" \
  --work "$work" --runs "$runs" --csv "$csv" --file-bytes "$file_bytes" --seed "$seed" \
  --expected-rows "$expected_rows" --load-before "$load_before" --load-after "$load_after" \
  --markdown "$out_dir/csv_ingest.md" --json "$out_dir/csv_ingest.json"
