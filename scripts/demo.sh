#!/usr/bin/env bash
# `make demo`: walks through what Assay does today on a scratch workspace (SQLite + local
# files), printing each command before running it. Usage: scripts/demo.sh PATH/TO/assay
set -euo pipefail
ASSAY=${1:-build/src/cli/assay}
ROOT=$(cd "$(dirname "$0")/.." && pwd)
HOME_DIR=${ASSAY_DEMO_HOME:-"$ROOT/build/demo-workspace"}
OUT_DIR=$(dirname "$HOME_DIR")
SAMPLE="$ROOT/examples/sample"

run() {
  printf '\n\033[1m$ assay'; printf ' %q' "$@"; printf '\033[0m\n'
  "$ASSAY" --home "$HOME_DIR" "$@"
}

rm -rf "$HOME_DIR"
echo "Assay demo: a fresh workspace in $HOME_DIR"
run init --reason "make demo"
run project create CHURN --name "HCP churn" --description "Which prescribers stop prescribing next quarter"
run dataset import CHURN/providers "$SAMPLE/providers.csv" --reason "initial provider extract"
echo "(importing the identical file again creates no version:)"
run dataset import CHURN/providers "$SAMPLE/providers.csv"
run dataset import CHURN/providers "$SAMPLE/providers_refresh.csv" --reason "monthly refresh"
run dataset versions CHURN/providers
run dataset show CHURN/providers@v1
run dataset head CHURN/providers -n 5
run dataset profile CHURN/providers --column monthly_trx
run dataset export CHURN/providers@v1 --output "$OUT_DIR/providers_v1.csv"
echo "(re-importing the export of v1 is recognised as v1's content:)"
run dataset import CHURN/providers "$OUT_DIR/providers_v1.csv"
run audit log --limit 5
run audit verify
run audit export --output "$OUT_DIR/audit.jsonl"
run audit verify --file "$OUT_DIR/audit.jsonl"

echo
echo "== The churn reference example: data preparation flow with lineage and quality gates"
bash "$ROOT/examples/churn/run.sh" "$ASSAY" "$OUT_DIR/churn-workspace"

cat <<MSG

What this demo did:
  - created a workspace (SQLite metadata in WAL mode, content-addressed object store,
    Ed25519 signing key) in $HOME_DIR
  - created project CHURN and imported a provider CSV as CHURN/providers@v1, showed that
    identical content makes no new version, and imported a refresh as v2
  - showed a version's schema, rows and stored column profile, exported v1 to CSV and
    re-imported it (same content hash, so "unchanged")
  - listed the hash-chained audit trail, verified it, exported it and verified the export
  - ran the churn example (examples/churn/): generated synthetic HCP, prescription, call,
    email and label data; applied flow.yaml (14 recipes, quality rules on 6 datasets);
    imported the sources (each checked by its rules); built the training table (one row
    per labelled HCP with volume, trend, competitor-share, call and email features);
    rebuilt it (all memoized); showed the flow, the table and its lineage back to the files
  - trained the churn task (examples/churn/task.yaml) with a 30 s AutoML search over XGBoost
    and a regularized logistic regression (5-fold CV, 20% holdout never used for selection),
    deployed the best trial as CHURN/churn_model@v1 (content-addressed manifest with the
    pipeline, metrics, explanations, reference profile, lineage and environment), wrote the
    model document ($OUT_DIR/churn-workspace-report.html) and batch-scored the training
    table with the top 3 Shapley contributors per row ($OUT_DIR/churn-workspace-scored.csv)

Not built yet (see the open issues): electronic sign-off, bundles, the scoring node and
monitoring.
Try it yourself: $ASSAY --home $HOME_DIR --help
MSG
