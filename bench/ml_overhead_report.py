#!/usr/bin/python3
"""Turns the raw runs of bench/ml_overhead.sh into its report (Markdown and JSON).

Reads, per tool (assay, xgboost) and run, the tool's JSON line (NAME.RUN.out: "seconds" of
its span from opening the CSV to the trained model, "cpu_seconds", "stages", "check") and
GNU time's "wall peak-KiB user sys" (NAME.RUN.time). Reports the median span, the median
whole-process wall time, CPU seconds and peak RSS per tool, the per-stage medians, and the
ratio assay / xgboost of the median spans, judged against the AutoML issue's goal (at most
1.10: Assay no more than 10% slower). Also checks that the two tools trained the same model:
the same number of training-set probabilities, a mean within 1e-6 and the first five within
1e-5 (the tools parse the decimal text with different float parsers, so the last bits of a
float32 feature may differ). Exit status 1 if a run failed or the models differ (a missed
goal is not a failure).
"""

import argparse
import datetime
import json
import os
import platform
import statistics
import subprocess
import sys

GOAL_RATIO = 1.10
TOOLS = ("assay", "xgboost")
LABELS = {
    "assay": "assay (ReadCsvFile, labels, FeaturePipeline, TrainModel)",
    "xgboost": "raw XGBoost (pandas.read_csv, DMatrix, xgboost.train)",
}


def load_run(work, tool, run):
    try:
        with open(os.path.join(work, f"{tool}.{run}.out"), encoding="utf-8") as handle:
            result = json.loads(handle.read().strip().splitlines()[-1])
        with open(os.path.join(work, f"{tool}.{run}.time"), encoding="utf-8") as handle:
            wall, peak_kib, user, system = handle.read().strip().splitlines()[-1].split()
    except (OSError, ValueError, IndexError):
        return None
    result["process"] = {"wall": float(wall), "peak_kib": int(peak_kib),
                         "cpu": float(user) + float(system)}
    return result


def cpu_model():
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as handle:
            for line in handle:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def git_commit(repo_root):
    try:
        return subprocess.run(["git", "-C", repo_root, "rev-parse", "--short", "HEAD"],
                              capture_output=True, text=True, check=True).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return "unknown"


def summarize(runs):
    stage_names = list(runs[0]["stages"])
    return {
        "runs": len(runs),
        "seconds": [run["seconds"] for run in runs],
        "median_seconds": statistics.median(run["seconds"] for run in runs),
        "median_cpu_seconds": statistics.median(run["cpu_seconds"] for run in runs),
        "median_process_wall": statistics.median(run["process"]["wall"] for run in runs),
        "median_process_cpu": statistics.median(run["process"]["cpu"] for run in runs),
        "peak_rss_mib": max(run["process"]["peak_kib"] for run in runs) / 1024,
        "stages": {name: statistics.median(run["stages"][name] for run in runs)
                   for name in stage_names},
        "check": runs[0]["check"],
        "rows": runs[0]["rows"], "features": runs[0]["features"], "rounds": runs[0]["rounds"],
    }


def same_model(a, b):
    if a["count"] != b["count"] or a["count"] == 0:
        return False
    if abs(a["sum"] - b["sum"]) / a["count"] > 1e-6:
        return False
    return all(abs(x - y) <= 1e-5 for x, y in zip(a["first"], b["first"]))


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--work", required=True)
    parser.add_argument("--runs", type=int, required=True)
    parser.add_argument("--csv", required=True)
    parser.add_argument("--rows", type=int, required=True)
    parser.add_argument("--seed", type=int, required=True)
    parser.add_argument("--load-before", default="")
    parser.add_argument("--load-after", default="")
    parser.add_argument("--markdown", required=True)
    parser.add_argument("--json", required=True)
    args = parser.parse_args()
    repo_root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

    ok = True
    tools = {}
    for tool in TOOLS:
        runs = [load_run(args.work, tool, run) for run in range(1, args.runs + 1)]
        good = [run for run in runs if run is not None]
        if len(good) != len(runs) or not good:
            ok = False
        tools[tool] = summarize(good) if good else None
        if good and tools[tool]["rows"] != args.rows:
            ok = False

    report = {
        "benchmark": "ml_overhead",
        "date": datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
        "commit": git_commit(repo_root),
        "machine": {"cores": os.cpu_count(), "cpu": cpu_model(), "kernel": platform.release()},
        "load_before": args.load_before, "load_after": args.load_after,
        "omp_wait_policy": os.environ.get("OMP_WAIT_POLICY", ""),
        "csv": args.csv, "csv_bytes": os.path.getsize(args.csv), "seed": args.seed,
        "tools": tools,
    }
    lines = ["# ML overhead: XGBoost through Assay vs raw XGBoost", ""]
    lines.append(f"- Data: `{os.path.basename(args.csv)}` ({report['csv_bytes'] / 1e6:.1f} MB, "
                 f"{args.rows:,} rows, 30 numeric features, binary target; "
                 f"bench/ml_overhead_data.py, seed {args.seed}).")
    lines.append(f"- Machine: {report['machine']['cores']} cores ({report['machine']['cpu']}), "
                 f"{report['machine']['kernel']}; {report['date']}; commit {report['commit']}; "
                 f"load average {args.load_before} before, {args.load_after} after.")
    if tools["assay"]:
        lines.append(f"- XGBoost hist, max_depth 6, eta 0.1, {tools['assay']['rounds']} rounds, "
                     "no early stopping, nthread 2, seed 7; median of "
                     f"{args.runs} interleaved runs per tool; OMP_WAIT_POLICY "
                     f"{report['omp_wait_policy'] or 'unset in the environment'}.")
    lines += ["", "| tool | span s (median) | runs s | span CPU s | process wall s | "
                  "process CPU s | peak RSS MiB |",
              "|---|---:|---|---:|---:|---:|---:|"]
    for tool in TOOLS:
        t = tools[tool]
        if not t:
            lines.append(f"| {LABELS[tool]} | FAILED | | | | | |")
            continue
        runs_text = ", ".join(f"{value:.2f}" for value in t["seconds"])
        lines.append(f"| {LABELS[tool]} | {t['median_seconds']:.2f} | {runs_text} | "
                     f"{t['median_cpu_seconds']:.2f} | {t['median_process_wall']:.2f} | "
                     f"{t['median_process_cpu']:.2f} | {t['peak_rss_mib']:,.0f} |")
    lines.append("")
    for tool in TOOLS:
        t = tools[tool]
        if t:
            stages = ", ".join(f"{name} {value:.3f}" for name, value in t["stages"].items())
            lines.append(f"- {tool} stages (median s): {stages}")

    if tools["assay"] and tools["xgboost"]:
        agree = same_model(tools["assay"]["check"], tools["xgboost"]["check"])
        ratio = tools["assay"]["median_seconds"] / max(tools["xgboost"]["median_seconds"], 1e-9)
        process_ratio = (tools["assay"]["median_process_wall"]
                         / max(tools["xgboost"]["median_process_wall"], 1e-9))
        result = "PASS" if ratio <= GOAL_RATIO else "MISS"
        report.update({"same_model": agree, "ratio": ratio, "process_ratio": process_ratio,
                       "result": result})
        a, x = tools["assay"]["check"], tools["xgboost"]["check"]
        lines += ["", f"Same model: {'yes' if agree else '**NO**'} (mean training-set "
                      f"probability {a['sum'] / a['count']:.7f} vs {x['sum'] / x['count']:.7f}; "
                      f"first row {a['first'][0]:.7f} vs {x['first'][0]:.7f}).", "",
                  "| goal | measured | result |", "|---|---:|---|",
                  f"| assay / raw XGBoost <= {GOAL_RATIO:.2f} (median span) | {ratio:.3f} "
                  f"(whole process: {process_ratio:.3f}) | {result} |"]
        ok = ok and agree
    if not ok:
        lines += ["", "**A tool failed, miscounted rows or trained a different model; see above.**"]
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
