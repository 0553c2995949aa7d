#!/usr/bin/python3
"""Peers of the AutoML quality benchmark: three models a data scientist would try first.

Fits each peer on TRAIN.csv only and prints, as one JSON line, its ROC AUC on TEST.csv
(sklearn.metrics.roc_auc_score of P(positive class)) and its fit seconds:

  hist_gradient_boosting  sklearn.ensemble.HistGradientBoostingClassifier() (defaults)
  xgboost                 xgboost.XGBClassifier() (defaults)
  logistic_regression     median impute + StandardScaler on numeric columns, one-hot on
                          categorical ones, LogisticRegression(max_iter=1000)

Features: every column except the target and the --drop columns (identifiers, constants),
so the peers see the columns Assay's feature pipeline keeps. Text columns are categorical
and one-hot encoded (categories from the training rows; unseen ones are ignored) for every
peer, because neither HistGradientBoostingClassifier nor XGBClassifier takes text with their
defaults; booleans become 0/1; numeric columns go to the tree models as they are, missing
values included (both handle NaN natively). Labels: 1 where the target's text equals
--positive, else 0.

With --predictions FILE, each peer's test-row probabilities are written there too (a CSV
with one column per peer plus the 0/1 label, one row per test row in file order), so the
report can bootstrap AUC differences on the same rows.

Usage: /usr/bin/python3 bench/peers/automl_peers.py --train TRAIN.csv --test TEST.csv
       --target COL --positive LABEL [--drop COL,COL] [--predictions FILE]
Output: {"rows_train", "rows_test", "features": [...], "categorical": [...],
         "versions": {...}, "peers": {name: {"auc", "fit_seconds"}}}
"""

import argparse
import json
import sys
import time

import numpy
import pandas
import sklearn
import xgboost
from sklearn.compose import ColumnTransformer
from sklearn.ensemble import HistGradientBoostingClassifier
from sklearn.impute import SimpleImputer
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import roc_auc_score
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import OneHotEncoder, StandardScaler


def features_and_labels(frame, target, positive, drop):
    labels = (frame[target].astype(str) == positive).astype(numpy.int64).to_numpy()
    features = frame.drop(columns=[target] + drop)
    for name in features.columns:
        if features[name].dtype == bool:
            features[name] = features[name].astype(numpy.float64)
    return features, labels


def one_hot():
    return OneHotEncoder(handle_unknown="ignore", sparse_output=False)


def make_peers(categorical, numeric):
    trees_input = ColumnTransformer([("categorical", one_hot(), categorical)],
                                    remainder="passthrough")
    linear_input = ColumnTransformer([
        ("categorical", one_hot(), categorical),
        ("numeric", make_pipeline(SimpleImputer(strategy="median"), StandardScaler()), numeric),
    ])
    return {
        "hist_gradient_boosting": make_pipeline(trees_input, HistGradientBoostingClassifier()),
        "xgboost": make_pipeline(trees_input, xgboost.XGBClassifier()),
        "logistic_regression": make_pipeline(linear_input, LogisticRegression(max_iter=1000)),
    }


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--train", required=True)
    parser.add_argument("--test", required=True)
    parser.add_argument("--target", required=True)
    parser.add_argument("--positive", required=True)
    parser.add_argument("--drop", default="", help="comma-separated columns that are no features")
    parser.add_argument("--predictions", help="write the test-row probabilities here")
    args = parser.parse_args()
    drop = [name for name in args.drop.split(",") if name]

    train = pandas.read_csv(args.train)
    test = pandas.read_csv(args.test)
    x_train, y_train = features_and_labels(train, args.target, args.positive, drop)
    x_test, y_test = features_and_labels(test, args.target, args.positive, drop)
    if len(set(y_train)) != 2 or len(set(y_test)) != 2:
        sys.exit(f"automl_peers: the target {args.target!r} with positive class "
                 f"{args.positive!r} does not give two classes in both files")
    categorical = [name for name in x_train.columns if x_train[name].dtype == object]
    numeric = [name for name in x_train.columns if name not in categorical]

    results = {}
    predictions = pandas.DataFrame({"label": y_test})
    for name, model in make_peers(categorical, numeric).items():
        start = time.perf_counter()
        model.fit(x_train, y_train)
        fit_seconds = time.perf_counter() - start
        probabilities = model.predict_proba(x_test)[:, 1]
        predictions[name] = probabilities
        results[name] = {"auc": float(roc_auc_score(y_test, probabilities)),
                         "fit_seconds": round(fit_seconds, 3)}
    if args.predictions:
        predictions.to_csv(args.predictions, index=False, float_format="%.17g")
    print(json.dumps({
        "rows_train": int(len(train)), "rows_test": int(len(test)),
        "features": [str(name) for name in x_train.columns], "categorical": categorical,
        "versions": {"sklearn": sklearn.__version__, "xgboost": xgboost.__version__,
                     "pandas": pandas.__version__, "numpy": numpy.__version__},
        "peers": results,
    }))
    return 0


if __name__ == "__main__":
    sys.exit(main())
