#!/usr/bin/python3
"""Turns the two JSON outputs of bench/join_group.sh into its report (Markdown and JSON).

Reads the assay program's and the pandas peer's JSON ({"ops": {op: {"seconds",
"cpu_seconds", "rows_in", "rows_out", "checksum"}}}), checks that both produced the same row
count and checksum for every operation, computes input rows per second on wall time and the
assay / pandas ratio, and judges the goal of the relational-recipes issue: at least 5x pandas
on the machine's cores (wall time). CPU-second ratios are reported as well because the
machine is shared and wall times move with its load. Prints the Markdown report, writes it to
--markdown and the numbers to --json. Exit status 1 if a tool's output is missing or the
results differ (a missed goal is not a failure).
"""

import argparse
import datetime
import json
import os
import platform
import subprocess
import sys

GOAL_RATIO = 5.0
LABELS = {
    "left_join": "left join, int64 key (fact x dim)",
    "group_int": "group by int64 key: sum, mean, count, max",
    "group_string": "group by string key: sum, mean, count, max",
}


def load(path):
    try:
        with open(path, encoding="utf-8") as handle:
            return json.loads(handle.read().strip().splitlines()[-1])
    except (OSError, ValueError, IndexError):
        return None


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


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--assay", required=True)
    parser.add_argument("--pandas", required=True)
    parser.add_argument("--load-before", default="")
    parser.add_argument("--load-after", default="")
    parser.add_argument("--markdown", required=True)
    parser.add_argument("--json", required=True)
    args = parser.parse_args()
    repo_root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    assay, pandas = load(args.assay), load(args.pandas)
    ok = assay is not None and pandas is not None
    report = {
        "benchmark": "join_group",
        "date": datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
        "commit": git_commit(repo_root),
        "machine": {"cores": os.cpu_count(), "cpu": cpu_model(), "kernel": platform.release()},
        "load_before": args.load_before, "load_after": args.load_after,
        "assay": assay, "pandas": pandas, "ops": {},
    }
    lines = ["# Join / group-by benchmark", ""]
    if assay:
        lines.append(f"- Data: fact {assay['rows']:,} rows, dim {assay['dim_rows']:,} rows, "
                     f"{assay['groups']:,} group keys; generated in memory by both tools "
                     "(splitmix64), not timed.")
    lines.append(f"- Machine: {report['machine']['cores']} cores ({report['machine']['cpu']}), "
                 f"{report['machine']['kernel']}; {report['date']}; commit {report['commit']}; "
                 f"load average {args.load_before} before, {args.load_after} after.")
    if pandas:
        lines.append(f"- pandas {pandas.get('pandas_version')}, numpy "
                     f"{pandas.get('numpy_version')}; assay with {assay and assay.get('threads')} "
                     "threads. Best wall time of the runs; CPU s = process user+sys of that run.")
    lines += ["", "| operation | assay s | assay Mrows/s | pandas s | pandas Mrows/s | "
                  "ratio (wall) | ratio (CPU s) | goal >= 5x |",
              "|---|---:|---:|---:|---:|---:|---:|---|"]
    for op, label in LABELS.items():
        a = (assay or {}).get("ops", {}).get(op)
        p = (pandas or {}).get("ops", {}).get(op)
        if not a or not p:
            lines.append(f"| {label} | FAILED | | | | | | MISS |")
            ok = False
            continue
        if a["rows_out"] != p["rows_out"] or a["checksum"] != p["checksum"]:
            ok = False
            lines.append(f"| {label} | results differ: assay {a['rows_out']} rows / checksum "
                         f"{a['checksum']}, pandas {p['rows_out']} / {p['checksum']} | | | | | | |")
            continue
        a_rate = a["rows_in"] / max(a["seconds"], 1e-6)
        p_rate = p["rows_in"] / max(p["seconds"], 1e-6)
        ratio = a_rate / p_rate
        cpu_ratio = p["cpu_seconds"] / max(a["cpu_seconds"], 1e-6)
        result = "MEET" if ratio >= GOAL_RATIO else "MISS"
        report["ops"][op] = {"assay_rows_per_s": a_rate, "pandas_rows_per_s": p_rate,
                             "ratio": ratio, "cpu_ratio": cpu_ratio, "result": result}
        lines.append(f"| {label} | {a['seconds']:.3f} | {a_rate / 1e6:,.1f} | {p['seconds']:.3f} "
                     f"| {p_rate / 1e6:,.1f} | {ratio:.2f}x | {cpu_ratio:.2f}x | {result} |")
    lines += ["", "Both tools' outputs agree (row counts and checksums) for every operation."
              if ok else "**A tool failed or the results differ; see above.**"]
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
