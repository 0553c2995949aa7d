#!/usr/bin/env bash
# AutoML quality benchmark: test ROC AUC of `assay ml train` (a time-budgeted search) against
# three peers a data scientist would try first, on one fixed train/test split per dataset.
# The AutoML issue's goal: Assay's AUC at least the best peer's.
#
#   bash bench/automl_quality.sh BUILD_DIR
#
# BUILD_DIR must hold a build of src/cli/assay with the `ml` and `score` commands.
# Environment:
#   ASSAY_BENCH_BUDGET   Assay's search budget in seconds (default 60; smaller for a quick run)
#   ASSAY_BENCH_SPLIT_SEED  seed of the train/test splits (default 42)
#   OMP_WAIT_POLICY      passed through and recorded; on a loaded machine libgomp's default
#                        spin-waiting slows XGBoost trials many times over, so the search
#                        runs far fewer trials in its budget (`passive` avoids that)
#
# Datasets (bench/out/automl/DATASET/{train,test}.csv, regenerated on every run; the split
# is bench/automl_quality_data.py: stratified 75/25, rows copied as text):
#   churn          the churn reference example (examples/churn: 2000 providers, 24 months,
#                  seed 7), its training table built by Assay's flow and exported as CSV;
#                  target churned (positive "1"); the peers do not get hcp_id (identifier)
#                  and as_of (one date for every row), which Assay's pipeline drops itself
#   breast_cancer  scikit-learn's bundled Wisconsin breast cancer data (no download);
#                  target diagnosis (positive "malignant")
# Peers (bench/peers/automl_peers.py, fitted on train.csv only): HistGradientBoosting and
# XGBClassifier with default parameters, and a scaled logistic regression. Assay: a fresh
# workspace per dataset, train.csv imported, an ML task (task.yaml: target, type binary,
# positive class, seed 42), `ml train --budget`, `ml deploy` of the best trial and
# `score` of test.csv; the AUC of its `probability` column is computed by the report, with
# sklearn's roc_auc_score, like the peers'.
# Results: stdout, bench/out/automl_quality.md and bench/out/automl_quality.json.
# Exit status: 0 when every tool succeeded (a missed goal is reported as MISS, not a
# failure), 1 when a tool failed (including an assay build without the ml commands), 2 on
# usage.
set -euo pipefail

if [ $# -ne 1 ]; then
  echo "usage: bash bench/automl_quality.sh BUILD_DIR" >&2
  exit 2
fi

repo_root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
build_dir="$(cd "$1" && pwd)"
budget="${ASSAY_BENCH_BUDGET:-60}"
split_seed="${ASSAY_BENCH_SPLIT_SEED:-42}"
python=/usr/bin/python3  # the first python3 on PATH may not see Debian's sklearn
gnu_time=/usr/bin/time
assay="$build_dir/src/cli/assay"
out_dir="$repo_root/bench/out"
data_dir="$out_dir/automl"
# Budget plus start-up, split and model storage; a hang is reported as a failure.
run_timeout_seconds=$((budget * 3 + 600))

for tool in "$assay" "$python" "$gnu_time"; do
  if [ ! -x "$tool" ]; then
    echo "automl_quality: $tool is missing; build with 'cmake --build $1' and run" \
      "'bash scripts/bootstrap.sh'" >&2
    exit 1
  fi
done
if ! [[ "$budget" =~ ^[1-9][0-9]*$ ]]; then
  echo "automl_quality: ASSAY_BENCH_BUDGET must be a whole number of seconds, got '$budget'" >&2
  exit 2
fi

work="$(mktemp -d "${TMPDIR:-/tmp}/assay-bench-automl.XXXXXX")"
trap 'rm -rf "$work"' EXIT
rm -rf "$data_dir"
mkdir -p "$data_dir"
status=0

# Runs `LOG CMD...`, appending CMD's output to LOG; on failure prints LOG's tail and returns 1.
logged() {
  local log="$1"
  shift
  if ! "$@" >>"$log" 2>&1; then
    echo "automl_quality: failed: ${*:1:6}; last lines of $log:" >&2
    tail -n 20 "$log" >&2
    return 1
  fi
}

# 1. The churn training table, built the way examples/churn/run.sh builds it.
echo "automl_quality: building the churn training table"
churn_home="$work/churn-workspace"
churn_log="$work/churn.log"
"$python" "$repo_root/examples/churn/generate.py" --providers 2000 --months 24 --seed 7 \
  --output "$work/churn-data" --quiet
logged "$churn_log" "$assay" --home "$churn_home" init
logged "$churn_log" "$assay" --home "$churn_home" project create CHURN --name "HCP churn"
logged "$churn_log" "$assay" --home "$churn_home" flow apply CHURN \
  "$repo_root/examples/churn/flow.yaml"
logged "$churn_log" "$assay" --home "$churn_home" dataset import CHURN/hcps \
  "$work/churn-data/hcps.csv" --type npi=string --type practice_zip=string
for name in rx_monthly calls emails labels; do
  logged "$churn_log" "$assay" --home "$churn_home" dataset import "CHURN/$name" \
    "$work/churn-data/$name.csv"
done
logged "$churn_log" "$assay" --home "$churn_home" flow build CHURN training
mkdir -p "$data_dir/churn"
logged "$churn_log" "$assay" --home "$churn_home" dataset export CHURN/training \
  --output "$data_dir/churn/table.csv"

# 2. The splits. Dataset table: name, target, positive class, columns the peers drop.
datasets=(
  "churn|churned|1|hcp_id,as_of"
  "breast_cancer|diagnosis|malignant|"
)
"$python" "$repo_root/bench/automl_quality_data.py" split --input "$data_dir/churn/table.csv" \
  --target churned --positive 1 --output-dir "$data_dir/churn" --seed "$split_seed" \
  >"$data_dir/churn/split.json"
mkdir -p "$data_dir/breast_cancer"
"$python" "$repo_root/bench/automl_quality_data.py" breast-cancer \
  --output-dir "$data_dir/breast_cancer" --seed "$split_seed" >"$data_dir/breast_cancer/split.json"

# 3. The peers.
load_before="$(cut -d' ' -f1-3 /proc/loadavg)"
for entry in "${datasets[@]}"; do
  IFS='|' read -r name target positive drop <<<"$entry"
  echo "automl_quality: $name: peers"
  if ! "$python" "$repo_root/bench/peers/automl_peers.py" --train "$data_dir/$name/train.csv" \
    --test "$data_dir/$name/test.csv" --target "$target" --positive "$positive" --drop "$drop" \
    --predictions "$data_dir/$name/peer_predictions.csv" >"$data_dir/$name/peers.json" \
    2>"$work/$name.peers.err"; then
    echo "automl_quality: $name: the peers failed:" >&2
    tail -n 20 "$work/$name.peers.err" >&2
    status=1
  fi
done

# 4. Assay, if this build has the commands. (`assay X --help` prints the top-level help and
# exits 0 for an unknown X, so look for the commands in the help listings instead.)
# Prints the subcommand names listed by `assay ARGS... --help`.
subcommands() {
  "$assay" "$@" --help 2>/dev/null |
    awk '/^Subcommands:/ { listing = 1; next } listing && NF { print $1 }'
}
missing=""
for command in ml score; do
  if ! subcommands | grep -qx "$command"; then missing="$missing, '$command'"; fi
done
if [ -z "$missing" ]; then
  for command in create train deploy; do
    if ! subcommands ml | grep -qx "$command"; then missing="$missing, 'ml $command'"; fi
  done
fi
if [ -n "$missing" ]; then
  echo "automl_quality: $assay has no ${missing#, } command(s); the Assay side cannot run" \
    "(rebuild once the ML CLI is in)" >&2
  status=1
else
  for entry in "${datasets[@]}"; do
    IFS='|' read -r name target positive drop <<<"$entry"
    dir="$data_dir/$name"
    home="$work/$name-bench-workspace"
    log="$dir/assay.log"
    : >"$log"
    printf 'input: BENCH/train\ntarget: %s\ntype: binary\npositive_class: "%s"\nseed: 42\n' \
      "$target" "$positive" >"$dir/task.yaml"
    echo "automl_quality: $name: assay ml train --budget ${budget}s"
    if logged "$log" "$assay" --home "$home" init &&
      logged "$log" "$assay" --home "$home" project create BENCH --name bench &&
      logged "$log" "$assay" --home "$home" dataset import BENCH/train "$dir/train.csv" &&
      logged "$log" "$assay" --home "$home" ml create BENCH task --spec "$dir/task.yaml" &&
      "$gnu_time" -f '%e %M %U %S' -o "$dir/train.time" timeout "$run_timeout_seconds" \
        "$assay" --home "$home" ml train BENCH task --budget "${budget}s" --json \
        >"$dir/train.json" 2>>"$log" &&
      logged "$log" "$assay" --home "$home" ml deploy BENCH task/best --saved-model m &&
      logged "$log" "$assay" --home "$home" score BENCH/m --input "$dir/test.csv" \
        --output "$dir/preds.csv"; then
      echo "automl_quality: $name: assay done ($(cut -d' ' -f1 "$dir/train.time") s training)"
    else
      echo "automl_quality: $name: the assay side failed; see $log" >&2
      tail -n 20 "$log" >&2
      status=1
    fi
  done
fi

load_after="$(cut -d' ' -f1-3 /proc/loadavg)"

# 5. The report (it also fails when a dataset lacks a result).
names="$(printf '%s\n' "${datasets[@]}" | cut -d'|' -f1,2,3 | paste -sd';')"
"$python" "$repo_root/bench/automl_quality_report.py" --data-dir "$data_dir" \
  --datasets "$names" --budget "$budget" --split-seed "$split_seed" \
  --load-before "$load_before" --load-after "$load_after" \
  --markdown "$out_dir/automl_quality.md" --json "$out_dir/automl_quality.json" || status=1
exit "$status"
