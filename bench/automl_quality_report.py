#!/usr/bin/python3
"""Turns the outputs of bench/automl_quality.sh into its report (Markdown and JSON).

Per dataset directory (DATA_DIR/NAME): split.json (row counts), peers.json (each peer's test
AUC, bench/peers/automl_peers.py), peer_predictions.csv (the peers' test probabilities and
the 0/1 labels), and from the Assay side train.json (`assay ml train --json`: "best_trial",
"seconds"), train.time (GNU time of that process: wall, peak KiB, user, sys) and preds.csv
(`assay score`: a `probability` column, one row per test row in input order). Assay's AUC
is computed here, with sklearn.metrics.roc_auc_score against the labels of test.csv, the
same function the peers use.

The goal (AutoML issue): Assay's test AUC >= the best peer's, judged per dataset as PASS or
MISS on the point estimates. Because a test set of a few hundred rows makes AUC noisy, the
report adds a paired bootstrap 95% interval of (Assay AUC - best peer AUC): 2000 resamples
of the test rows with a fixed seed, both models scored on the same resampled rows. Exit
status 1 if a dataset lacks a peer or an Assay result, or the scored file does not match
the test rows (a MISS is not a failure).
"""

import argparse
import csv
import datetime
import json
import os
import platform
import subprocess
import sys

import numpy
from sklearn.metrics import roc_auc_score

PEERS = {
    "hist_gradient_boosting": "HistGB",
    "xgboost": "XGBoost",
    "logistic_regression": "LogReg",
}
BOOTSTRAP_RESAMPLES = 2000
BOOTSTRAP_SEED = 0


def load_json(path):
    """The JSON document in `path` (pretty-printed or one line), else its last line's."""
    try:
        with open(path, encoding="utf-8") as handle:
            text = handle.read().strip()
        try:
            return json.loads(text)
        except ValueError:
            return json.loads(text.splitlines()[-1])
    except (OSError, ValueError, IndexError):
        return None


def read_column(path, name):
    with open(path, newline="", encoding="utf-8") as handle:
        reader = csv.DictReader(handle)
        if reader.fieldnames is None or name not in reader.fieldnames:
            raise ValueError(f"{path} has no column {name!r} (columns: {reader.fieldnames})")
        return [row[name] for row in reader]


def git_commit(repo_root):
    try:
        return subprocess.run(["git", "-C", repo_root, "rev-parse", "--short", "HEAD"],
                              capture_output=True, text=True, check=True).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return "unknown"


def cpu_model():
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as handle:
            for line in handle:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def bootstrap_difference(labels, assay, peer):
    """Paired bootstrap 95% interval of AUC(assay) - AUC(peer) over resampled test rows."""
    rng = numpy.random.default_rng(BOOTSTRAP_SEED)
    differences = []
    n = len(labels)
    for _ in range(BOOTSTRAP_RESAMPLES):
        rows = rng.integers(0, n, size=n)
        sample = labels[rows]
        if sample.min() == sample.max():
            continue  # one class only: AUC undefined
        differences.append(roc_auc_score(sample, assay[rows]) - roc_auc_score(sample, peer[rows]))
    low, high = numpy.percentile(differences, [2.5, 97.5])
    return float(low), float(high)


def assay_result(directory, target, positive):
    """Assay's AUC etc. for one dataset, or (None, reason)."""
    train = load_json(os.path.join(directory, "train.json"))
    if train is None:
        return None, "no `ml train --json` output"
    preds_path = os.path.join(directory, "preds.csv")
    if not os.path.exists(preds_path):
        return None, "no scored test file"
    try:
        probabilities = numpy.array([float(value) for value in
                                     read_column(preds_path, "probability")])
        truth = read_column(os.path.join(directory, "test.csv"), target)
    except ValueError as error:
        return None, str(error)
    if len(probabilities) != len(truth):
        return None, f"scored {len(probabilities)} rows, the test set has {len(truth)}"
    labels = numpy.array([1 if value == positive else 0 for value in truth])
    result = {"auc": float(roc_auc_score(labels, probabilities)),
              "best_trial": train.get("best_trial"), "seconds": train.get("seconds"),
              "labels": labels, "probabilities": probabilities}
    try:
        with open(os.path.join(directory, "train.time"), encoding="utf-8") as handle:
            wall, peak_kib, user, system = handle.read().strip().splitlines()[-1].split()
        result.update({"process_wall": float(wall), "process_cpu": float(user) + float(system),
                       "peak_rss_mib": int(peak_kib) / 1024})
    except (OSError, ValueError, IndexError):
        pass
    if result["seconds"] is None:
        result["seconds"] = result.get("process_wall")
    if isinstance(train.get("trials"), list):
        result["trials"] = len(train["trials"])
    summary = train.get("summary") or {}
    for key in ("algorithm", "stop_reason", "cv_score", "holdout_score"):
        if key in summary:
            result[key] = summary[key]
    return result, None


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data-dir", required=True)
    parser.add_argument("--datasets", required=True, help="NAME|TARGET|POSITIVE;...")
    parser.add_argument("--budget", type=int, required=True)
    parser.add_argument("--split-seed", type=int, required=True)
    parser.add_argument("--load-before", default="")
    parser.add_argument("--load-after", default="")
    parser.add_argument("--markdown", required=True)
    parser.add_argument("--json", required=True)
    args = parser.parse_args()
    repo_root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

    ok = True
    report = {
        "benchmark": "automl_quality",
        "date": datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
        "commit": git_commit(repo_root),
        "machine": {"cores": os.cpu_count(), "cpu": cpu_model(), "kernel": platform.release()},
        "load_before": args.load_before, "load_after": args.load_after,
        "omp_wait_policy": os.environ.get("OMP_WAIT_POLICY", ""),
        "budget_seconds": args.budget, "split_seed": args.split_seed, "datasets": {},
    }
    rows = []
    notes = []
    versions = None
    for entry in args.datasets.split(";"):
        name, target, positive = entry.split("|")
        directory = os.path.join(args.data_dir, name)
        split = load_json(os.path.join(directory, "split.json")) or {}
        peers = load_json(os.path.join(directory, "peers.json"))
        dataset = {"target": target, "positive_class": positive, "rows": split.get("rows"),
                   "train_rows": split.get("train_rows"), "test_rows": split.get("test_rows"),
                   "positive_rate": split.get("positive_rate")}
        if peers is None:
            ok = False
            notes.append(f"{name}: the peers produced no result.")
            rows.append(f"| {name} | {split.get('rows', '?')} | FAILED | | | | | | MISS |")
            report["datasets"][name] = dataset
            continue
        versions = peers.get("versions")
        peer_auc = {peer: peers["peers"][peer]["auc"] for peer in PEERS}
        best_peer = max(peer_auc, key=peer_auc.get)
        dataset.update({"features": peers["features"], "categorical": peers["categorical"],
                        "peers": peers["peers"], "best_peer": best_peer,
                        "best_peer_auc": peer_auc[best_peer]})
        assay, reason = assay_result(directory, target, positive)
        cells = [name, f"{split.get('rows', 0):,} ({split.get('train_rows')}/"
                       f"{split.get('test_rows')})"]
        cells += [f"{peer_auc[peer]:.4f}" for peer in PEERS]
        cells.append(f"{PEERS[best_peer]} {peer_auc[best_peer]:.4f}")
        if assay is None:
            ok = False
            notes.append(f"{name}: no Assay result ({reason}).")
            cells += ["not run", "", "", "not run"]
        else:
            predictions = numpy.genfromtxt(os.path.join(directory, "peer_predictions.csv"),
                                           delimiter=",", names=True)
            if not numpy.array_equal(predictions["label"].astype(int), assay["labels"]):
                ok = False
                notes.append(f"{name}: the peers' and Assay's test labels differ.")
            low, high = bootstrap_difference(assay["labels"], assay["probabilities"],
                                             predictions[best_peer])
            result = "PASS" if assay["auc"] >= peer_auc[best_peer] else "MISS"
            dataset["assay"] = {key: value for key, value in assay.items()
                                if key not in ("labels", "probabilities")}
            dataset["assay"]["difference_ci95"] = [low, high]
            dataset["result"] = result
            seconds = assay["seconds"]
            cells += [f"{assay['auc']:.4f}", f"{seconds:.1f}" if seconds is not None else "?",
                      f"{assay['auc'] - peer_auc[best_peer]:+.4f} [{low:+.3f}, {high:+.3f}]",
                      result]
            notes.append(f"{name}: Assay's best trial {assay['best_trial']}"
                         + (f" of {assay['trials']}" if "trials" in assay else "")
                         + (f" ({assay['algorithm']})" if "algorithm" in assay else "")
                         + (f", stopped by {assay['stop_reason']}" if "stop_reason" in assay
                            else "")
                         + (f", internal holdout AUC {assay['holdout_score']:.4f}"
                            if isinstance(assay.get("holdout_score"), float) else "")
                         + (f"; `ml train` process {assay['process_wall']:.1f} s wall, "
                            f"{assay['process_cpu']:.1f} s CPU, peak RSS "
                            f"{assay['peak_rss_mib']:,.0f} MiB" if "process_wall" in assay
                            else "") + ".")
        rows.append("| " + " | ".join(cells) + " |")
        report["datasets"][name] = dataset

    lines = ["# AutoML quality: Assay vs default peers (test ROC AUC)", "",
             f"- One stratified 75/25 split per dataset (seed {args.split_seed}); every model "
             "is fitted on train.csv only and scored on test.csv.",
             f"- Assay: `ml train --budget {args.budget}s`, best trial deployed and scored. "
             "Peers: HistGradientBoostingClassifier() and XGBClassifier() defaults, "
             "LogisticRegression(max_iter=1000) on median-imputed, standardized numeric and "
             "one-hot categorical columns"
             + (f" (scikit-learn {versions['sklearn']}, xgboost {versions['xgboost']})"
                if versions else "") + ".",
             f"- Machine: {report['machine']['cores']} cores ({report['machine']['cpu']}); "
             f"{report['date']}; commit {report['commit']}; load average {args.load_before} "
             f"before, {args.load_after} after; OMP_WAIT_POLICY "
             f"{report['omp_wait_policy'] or 'unset in the environment'}.",
             "",
             "| dataset | rows (train/test) | HistGB | XGBoost | LogReg | best peer | Assay AUC "
             "| Assay train s | Assay - best [95% CI] | Assay >= best peer |",
             "|---|---:|---:|---:|---:|---|---:|---:|---|---|"]
    lines += rows
    lines += [""] + [f"- {note}" for note in notes]
    lines += ["", "The 95% interval is a paired bootstrap over the test rows "
                  f"({BOOTSTRAP_RESAMPLES} resamples); PASS/MISS compares the point estimates."]
    if not ok:
        lines += ["", "**A tool failed or a result is missing; see above.**"]
    markdown = "\n".join(lines) + "\n"
    sys.stdout.write("\n" + markdown)
    with open(args.markdown, "w", encoding="utf-8") as handle:
        handle.write(markdown)
    with open(args.json, "w", encoding="utf-8") as handle:
        json.dump(report, handle, indent=2)
        handle.write("\n")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
