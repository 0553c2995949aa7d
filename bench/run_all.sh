#!/usr/bin/env bash
# Runs every benchmark in bench/ against its peers, on the Release build in BUILD_DIR:
#
#   bash bench/run_all.sh build-release      (what `make bench` does after building)
#
# Each benchmark prints its report and writes it under bench/out/. Exit status is non-zero
# if any benchmark's tool failed; a missed performance goal is reported (MISS) but is not a
# failure. Benchmarks never run inside the test suite. See docs/benchmarks.md.
set -uo pipefail

if [ $# -ne 1 ]; then
  echo "usage: bash bench/run_all.sh BUILD_DIR" >&2
  exit 2
fi
bench_dir="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"

benchmarks=(
  csv_ingest.sh
  flow_noop_rebuild.sh
  join_group.sh
  ml_overhead.sh
  automl_quality.sh
)

failed=()
for benchmark in "${benchmarks[@]}"; do
  echo "== $benchmark"
  if ! bash "$bench_dir/$benchmark" "$1"; then
    failed+=("$benchmark")
  fi
done

if [ ${#failed[@]} -ne 0 ]; then
  echo "run_all: failed: ${failed[*]}" >&2
  exit 1
fi
echo "run_all: all ${#benchmarks[@]} benchmark(s) ran; reports in bench/out/"
