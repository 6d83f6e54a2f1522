#!/usr/bin/python3
"""Exports mlbench's classic data sets (Debian r-cran-mlbench) to CSV for samples/Tabular.

usage: scripts/mlbench-export.py [OUT_DIR]   (default: build/mlbench)
needs: apt-get install r-cran-mlbench python3-rdata   (Debian's python3: run with /usr/bin/python3)

Per set: <Name>.csv (header row; missing values empty; categorical values as their level names) and a line in
suite.tsv: name, task (binary | multiclass | regression), label column, categorical columns (comma-separated).
"""
import csv
import math
import os
import sys
import warnings

import rdata

SOURCE = "/usr/lib/R/site-library/mlbench/data"
# name, task, label, columns to drop
SUITE = [
    ("BostonHousing", "regression", "medv", []),
    ("BreastCancer", "binary", "Class", ["Id"]),
    ("DNA", "multiclass", "Class", []),
    ("Glass", "multiclass", "Type", []),
    ("HouseVotes84", "binary", "Class", []),
    ("Ionosphere", "binary", "Class", []),
    ("LetterRecognition", "multiclass", "lettr", []),
    ("Ozone", "regression", "V4", []),
    ("PimaIndiansDiabetes2", "binary", "diabetes", []),
    ("Satellite", "multiclass", "classes", []),
    ("Servo", "regression", "Class", []),
    ("Sonar", "binary", "Class", []),
    ("Soybean", "multiclass", "Class", []),
    ("Vehicle", "multiclass", "Class", []),
]


def cell(value):
    if value is None:
        return ""
    if isinstance(value, float) and math.isnan(value):
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def main():
    out = sys.argv[1] if len(sys.argv) > 1 else "build/mlbench"
    os.makedirs(out, exist_ok=True)
    with open(os.path.join(out, "suite.tsv"), "w") as suite:
        for name, task, label, drop in SUITE:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                frame = rdata.conversion.convert(rdata.parser.parse_file(os.path.join(SOURCE, name + ".rda")))[name]
            frame = frame.drop(columns=drop)
            frame = frame[frame[label].notna()]  # rows without a label are not examples
            categorical = [c for c in frame.columns if c != label and str(frame[c].dtype) in ("category", "object", "bool")]
            with open(os.path.join(out, name + ".csv"), "w", newline="") as f:
                writer = csv.writer(f)
                writer.writerow(frame.columns)
                for row in frame.itertuples(index=False):
                    writer.writerow([cell(v) for v in row])
            suite.write(f"{name}\t{task}\t{label}\t{','.join(categorical)}\n")
            missing = int(frame.drop(columns=[label]).isna().sum().sum())
            print(f"{name}: {len(frame)} rows, {len(frame.columns) - 1} columns ({len(categorical)} categorical), "
                  f"{missing} missing values, {task}")


if __name__ == "__main__":
    main()
