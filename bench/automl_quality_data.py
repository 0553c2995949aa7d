#!/usr/bin/python3
"""Makes the fixed train/test split of one dataset of the AutoML quality benchmark.

  automl_quality_data.py split --input TABLE.csv --target COL --output-dir DIR [--seed 42]
  automl_quality_data.py breast-cancer --output-dir DIR [--seed 42]

`split` reads a CSV (the churn training table exported by `assay dataset export`) and writes
DIR/train.csv and DIR/test.csv: one stratified 75/25 split (sklearn's train_test_split with
stratify=target and random_state=SEED). Rows are copied as text, byte for byte (the file is
read with every field as a string), so Assay and the peers parse exactly the cells the export
wrote; only the row order changes (train_test_split shuffles).

`breast-cancer` first writes scikit-learn's bundled Wisconsin breast cancer data
(sklearn.datasets.load_breast_cancer, shipped with the package, no download) as a CSV with
the 30 feature columns under their sklearn names and a text target `diagnosis`
("malignant" / "benign"; the positive class of the benchmark is "malignant"), then splits it
the same way. Floats are written in Python's shortest round-trip form.

Both print one JSON line: {"rows", "train_rows", "test_rows", "positive_rate"}.
"""

import argparse
import csv
import json
import os
import sys

from sklearn.datasets import load_breast_cancer
from sklearn.model_selection import train_test_split

TEST_SIZE = 0.25


def read_rows(path):
    with open(path, newline="", encoding="utf-8") as handle:
        reader = csv.reader(handle)
        header = next(reader)
        return header, [row for row in reader]


def write_rows(path, header, rows):
    with open(path, "w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle, lineterminator="\n")
        writer.writerow(header)
        writer.writerows(rows)


def split(header, rows, target, output_dir, seed, positive=None):
    if target not in header:
        sys.exit(f"automl_quality_data: no column {target!r} (columns: {', '.join(header)})")
    col = header.index(target)
    labels = [row[col] for row in rows]
    train, test = train_test_split(rows, test_size=TEST_SIZE, stratify=labels, random_state=seed)
    os.makedirs(output_dir, exist_ok=True)
    write_rows(os.path.join(output_dir, "train.csv"), header, train)
    write_rows(os.path.join(output_dir, "test.csv"), header, test)
    positive = positive if positive is not None else "1"
    rate = sum(1 for label in labels if label == positive) / max(len(labels), 1)
    print(json.dumps({"rows": len(rows), "train_rows": len(train), "test_rows": len(test),
                      "positive_rate": round(rate, 4)}))


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    commands = parser.add_subparsers(dest="command", required=True)
    table = commands.add_parser("split", help="split an existing CSV")
    table.add_argument("--input", required=True)
    table.add_argument("--target", required=True)
    table.add_argument("--positive", default="1", help="positive label (for the rate only)")
    table.add_argument("--output-dir", required=True)
    table.add_argument("--seed", type=int, default=42)
    cancer = commands.add_parser("breast-cancer", help="write and split sklearn's breast cancer")
    cancer.add_argument("--output-dir", required=True)
    cancer.add_argument("--seed", type=int, default=42)
    args = parser.parse_args()

    if args.command == "split":
        header, rows = read_rows(args.input)
        split(header, rows, args.target, args.output_dir, args.seed, args.positive)
        return 0
    data = load_breast_cancer()
    header = [str(name) for name in data.feature_names] + ["diagnosis"]
    rows = [[repr(float(value)) for value in features] + [str(data.target_names[label])]
            for features, label in zip(data.data, data.target)]
    os.makedirs(args.output_dir, exist_ok=True)
    write_rows(os.path.join(args.output_dir, "full.csv"), header, rows)
    split(header, rows, "diagnosis", args.output_dir, args.seed, "malignant")
    return 0


if __name__ == "__main__":
    sys.exit(main())
