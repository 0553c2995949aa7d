#!/usr/bin/env bash
# The churn reference example end to end: generate the synthetic pharma data, import it,
# apply flow.yaml and build the training table, show what was built and where it came from,
# then train the churn model (task.yaml), deploy it, document it and score with it. Usage:
#   examples/churn/run.sh [PATH/TO/assay] [WORKSPACE]
# Environment: CHURN_PROVIDERS (default 2000), CHURN_MONTHS (24), CHURN_SEED (7),
# CHURN_BUDGET (training budget, default 30s).
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
ASSAY=${1:-"$HERE/../../build/src/cli/assay"}
HOME_DIR=${2:-"$HERE/../../build/churn-workspace"}
DATA_DIR="$HOME_DIR-data"
PROVIDERS=${CHURN_PROVIDERS:-2000}
MONTHS=${CHURN_MONTHS:-24}
SEED=${CHURN_SEED:-7}
BUDGET=${CHURN_BUDGET:-30s}

run() {
  printf '\n\033[1m$ assay'; printf ' %q' "$@"; printf '\033[0m\n'
  "$ASSAY" --home "$HOME_DIR" "$@"
}

rm -rf "$HOME_DIR" "$DATA_DIR"
echo "Generating $PROVIDERS providers x $MONTHS months (seed $SEED) into $DATA_DIR"
/usr/bin/python3 "$HERE/generate.py" --providers "$PROVIDERS" --months "$MONTHS" --seed "$SEED" \
  --output "$DATA_DIR" --quiet
run init --reason "churn example"
run project create CHURN --name "HCP churn" --description "Which prescribers stop prescribing next quarter"
# The rules and recipes first, so the imports below are checked as they arrive.
run flow apply CHURN "$HERE/flow.yaml" --reason "churn example flow"
# NPIs and zip codes are identifiers, not numbers.
run dataset import CHURN/hcps "$DATA_DIR/hcps.csv" --type npi=string --type practice_zip=string
for name in rx_monthly calls emails labels; do
  run dataset import "CHURN/$name" "$DATA_DIR/$name.csv"
done
run flow build CHURN training --dry-run
run flow build CHURN training
echo "(building again: every recipe is memoized)"
run flow build CHURN training
run flow show CHURN
run dataset show CHURN/training
run dataset head CHURN/training -n 5
run lineage CHURN/training
echo
echo "== AutoML: train, deploy, document and score the churn model"
run ml create CHURN churn --spec "$HERE/task.yaml" --reason "churn example task"
run ml train CHURN churn --budget "$BUDGET"
run ml show CHURN churn/best
run ml deploy CHURN churn/best --saved-model churn_model --reason "churn example model"
run model show CHURN/churn_model@v1
run model report CHURN/churn_model@v1 --output "$HOME_DIR-report.html"
run score CHURN/churn_model@v1 --input CHURN/training --output "$HOME_DIR-scored.csv" --explain 3
head -n 4 "$HOME_DIR-scored.csv"
run audit verify
