#!/usr/bin/python3
"""Checks for examples/churn/generate.py (standard library only).

    /usr/bin/python3 examples/churn/check_generator.py [--providers 2000] [--months 24] [--seed 7]

Runs the generator twice with the same arguments into temporary directories and checks:
  1. determinism: every file is byte-identical between the two runs;
  2. schema: each file has the documented header; hcp_id unique in hcps.csv; types and ranges
     (NPI 10 digits with a valid Luhn check digit over the 80840 prefix, zip 5 digits or empty,
     decile 1-10, trx >= nrx >= 0, ISO dates, booleans true/false);
  3. referential integrity: every hcp_id in rx_monthly/calls/emails/labels exists in hcps.csv;
  4. labels: recomputed from rx_monthly.csv they match labels.csv; churn rate within 5-30%;
  5. learnability: HCPs whose own-product TRx declined (last 3 months before as_of < 75% of the
     3 months before that) churn clearly more often than the others, and a logistic regression
     on pre-as_of features reaches a cross-validated AUC in a plausible band (0.70-0.92).
Checks 4's churn rate and 5 need at least 500 labels (about 800 providers) and are skipped below.
Prints a short summary; exits 1 with a message on the first failure.
"""

import argparse
import csv
import datetime
import filecmp
import math
import os
import re
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
GENERATOR = os.path.join(HERE, "generate.py")
OWN, COMP = "ONCAVEX", "RIVALIN"

HEADERS = {
    "hcps.csv": ["hcp_id", "npi", "first_name", "last_name", "specialty", "practice_zip", "state",
                 "years_in_practice", "practice_type", "decile", "is_key_opinion_leader", "email_opt_in"],
    "rx_monthly.csv": ["hcp_id", "month", "product", "nrx", "trx"],
    "calls.csv": ["hcp_id", "call_date", "channel", "samples_dropped", "rep_id"],
    "emails.csv": ["hcp_id", "sent_date", "campaign", "opened", "clicked"],
    "labels.csv": ["hcp_id", "as_of", "churned"],
}


MIN_LABELS_FOR_STATS = 500  # below this, churn rate and AUC are too noisy to check


class CheckFailed(Exception):
    pass


def require(cond, msg):
    if not cond:
        raise CheckFailed(msg)


def read(path):
    with open(path, newline="", encoding="utf-8") as f:
        rows = list(csv.reader(f))
    require(rows, "%s is empty" % path)
    name = os.path.basename(path)
    require(rows[0] == HEADERS[name], "%s: header %s, expected %s" % (name, rows[0], HEADERS[name]))
    return rows[1:]


def npi_valid(npi):
    if not re.fullmatch(r"[12][0-9]{9}", npi):
        return False
    total = 0
    for i, ch in enumerate(reversed("80840" + npi)):
        d = ord(ch) - 48
        if i % 2 == 1:
            d *= 2
            if d > 9:
                d -= 9
        total += d
    return total % 10 == 0


def iso_date(s, what):
    try:
        return datetime.date.fromisoformat(s)
    except ValueError:
        raise CheckFailed("%s: %r is not an ISO date" % (what, s))


def month_add(d, n):
    m = d.month - 1 + n
    return datetime.date(d.year + m // 12, m % 12 + 1, 1)


def month_index(d, start):
    return (d.year - start.year) * 12 + d.month - start.month


def auc(scores, labels):
    pairs = sorted(zip(scores, labels))
    pos = sum(labels)
    neg = len(labels) - pos
    if pos == 0 or neg == 0:
        return float("nan")
    rank_sum, i = 0.0, 0
    while i < len(pairs):
        j = i
        while j < len(pairs) and pairs[j][0] == pairs[i][0]:
            j += 1
        avg_rank = (i + j + 1) / 2.0  # 1-based average rank of ties
        rank_sum += avg_rank * sum(l for _, l in pairs[i:j])
        i = j
    return (rank_sum - pos * (pos + 1) / 2.0) / (pos * neg)


def solve(a, b):
    """Gaussian elimination with partial pivoting (a is n x n, b length n)."""
    n = len(b)
    m = [row[:] + [b[i]] for i, row in enumerate(a)]
    for c in range(n):
        p = max(range(c, n), key=lambda r: abs(m[r][c]))
        m[c], m[p] = m[p], m[c]
        for r in range(c + 1, n):
            f = m[r][c] / m[c][c]
            if f:
                for k in range(c, n + 1):
                    m[r][k] -= f * m[c][k]
    x = [0.0] * n
    for r in range(n - 1, -1, -1):
        x[r] = (m[r][n] - sum(m[r][k] * x[k] for k in range(r + 1, n))) / m[r][r]
    return x


def fit_logistic(xs, ys, l2=1.0, iters=12):
    """Ridge logistic regression by Newton's method; xs rows already include the intercept."""
    p = len(xs[0])
    w = [0.0] * p
    for _ in range(iters):
        g = [0.0] * p
        h = [[0.0] * p for _ in range(p)]
        for x, y in zip(xs, ys):
            z = sum(wi * xi for wi, xi in zip(w, x))
            mu = 1.0 / (1.0 + math.exp(-max(-30.0, min(30.0, z))))
            r = mu - y
            s = mu * (1.0 - mu)
            for i in range(p):
                g[i] += r * x[i]
                sx = s * x[i]
                hi = h[i]
                for k in range(i, p):
                    hi[k] += sx * x[k]
        for i in range(p):
            for k in range(i):
                h[i][k] = h[k][i]
            if i > 0:
                h[i][i] += l2
                g[i] += l2 * w[i]
        step = solve(h, g)
        w = [wi - si for wi, si in zip(w, step)]
    return w


def build_features(out, as_of, start):
    """Pre-as_of features per labeled HCP (the same definitions the README suggests for flow.yaml)."""
    a = month_index(as_of, start)
    hcps = {int(r[0]): r for r in read(os.path.join(out, "hcps.csv"))}
    own = {}   # hcp -> {month index: (nrx, trx)}
    comp = {}
    for hid, month, product, nrx, trx in read(os.path.join(out, "rx_monthly.csv")):
        t = month_index(datetime.date.fromisoformat(month), start)
        (own if product == OWN else comp).setdefault(int(hid), {})[t] = (int(nrx), int(trx))
    calls = {}
    for hid, day, channel, samples, _rep in read(os.path.join(out, "calls.csv")):
        d = datetime.date.fromisoformat(day)
        if d < as_of:
            calls.setdefault(int(hid), []).append((d, channel, int(samples)))
    emails = {}
    for hid, day, _campaign, opened, clicked in read(os.path.join(out, "emails.csv")):
        d = datetime.date.fromisoformat(day)
        if d < as_of:
            emails.setdefault(int(hid), []).append((d, opened == "true", clicked == "true"))

    def window(series, lo, hi, k=1):
        return sum(v[k] for t, v in series.items() if lo <= t < hi)

    three_ago, six_ago, twelve_ago = month_add(as_of, -3), month_add(as_of, -6), month_add(as_of, -12)
    feats = {}
    for hid, row in hcps.items():
        o, c = own.get(hid, {}), comp.get(hid, {})
        own3, own_prev3 = window(o, a - 3, a), window(o, a - 6, a - 3)
        own12 = window(o, a - 12, a)
        comp3, comp_prev3 = window(c, a - 3, a), window(c, a - 6, a - 3)
        nrx3 = window(o, a - 3, a, 0)
        last_own = max((t for t, v in o.items() if t < a and v[1] > 0), default=None)
        cl = calls.get(hid, [])
        calls3 = sum(1 for d, _, _ in cl if d >= three_ago)
        calls_prev3 = sum(1 for d, _, _ in cl if six_ago <= d < three_ago)
        calls12 = sum(1 for d, _, _ in cl if d >= twelve_ago)
        samples3 = sum(s for d, _, s in cl if d >= three_ago)
        last_call = max((d for d, _, _ in cl), default=None)
        em = emails.get(hid, [])
        sent6 = [e for e in em if e[0] >= six_ago]
        sent_prev6 = [e for e in em if twelve_ago <= e[0] < six_ago]
        feats[hid] = {
            "own_trx_3m": own3,
            "own_trx_prev_3m": own_prev3,
            "own_trx_12m": own12,
            "own_trend_3m": (own3 - own_prev3) / (own_prev3 + 1.0),
            "own_share_3m": own3 / (own3 + comp3) if own3 + comp3 else 0.0,
            "own_share_change": (own3 / (own3 + comp3) if own3 + comp3 else 0.0)
                                - (own_prev3 / (own_prev3 + comp_prev3) if own_prev3 + comp_prev3 else 0.0),
            "own_nrx_ratio_3m": nrx3 / own3 if own3 else 0.0,
            "months_since_last_own_rx": (a - last_own) if last_own is not None else 13,
            "calls_3m": calls3,
            "calls_prev_3m": calls_prev3,
            "calls_12m": calls12,
            "samples_3m": samples3,
            "days_since_last_call": (as_of - last_call).days if last_call else 400,
            "email_open_rate_6m": sum(e[1] for e in sent6) / len(sent6) if sent6 else 0.0,
            "email_open_rate_prev_6m": sum(e[1] for e in sent_prev6) / len(sent_prev6) if sent_prev6 else 0.0,
            "decile": int(row[9]),
            "is_kol": 1.0 if row[10] == "true" else 0.0,
            "pcp": 1.0 if row[4] == "PCP" else 0.0,
            "onc_hem": 1.0 if row[4] in ("ONC", "HEM") else 0.0,
            "solo": 1.0 if row[8] == "solo" else 0.0,
        }
    return feats


def transform(f):
    """Feature vector for the logistic regression (log of counts, raw rates)."""
    lg = math.log1p
    return [lg(f["own_trx_3m"]), lg(f["own_trx_prev_3m"]), lg(f["own_trx_12m"]),
            lg(f["own_trx_3m"]) - lg(f["own_trx_prev_3m"]), f["own_share_3m"], f["own_share_change"],
            f["own_nrx_ratio_3m"], float(f["months_since_last_own_rx"]), lg(f["calls_3m"]),
            lg(f["calls_prev_3m"]), lg(f["calls_12m"]), lg(f["samples_3m"]),
            lg(f["days_since_last_call"]), f["email_open_rate_6m"],
            f["email_open_rate_6m"] - f["email_open_rate_prev_6m"], float(f["decile"]), f["is_kol"],
            f["pcp"], f["onc_hem"], f["solo"]]


def cv_auc(rows, folds=5):
    """Out-of-fold AUC of a standardized ridge logistic regression (folds by hcp_id)."""
    n_feat = len(rows[0][1])
    means = [sum(r[1][j] for r in rows) / len(rows) for j in range(n_feat)]
    sds = [math.sqrt(sum((r[1][j] - means[j]) ** 2 for r in rows) / len(rows)) or 1.0 for j in range(n_feat)]
    data = [(hid, [1.0] + [(v - m) / s for v, m, s in zip(x, means, sds)], y) for hid, x, y in rows]
    scores, labels = [], []
    for k in range(folds):
        train = [r for r in data if r[0] % folds != k]
        test = [r for r in data if r[0] % folds == k]
        w = fit_logistic([r[1] for r in train], [r[2] for r in train])
        for _, x, y in test:
            scores.append(sum(wi * xi for wi, xi in zip(w, x)))
            labels.append(y)
    return auc(scores, labels)


def check(out):
    hcp_rows = read(os.path.join(out, "hcps.csv"))
    ids = [int(r[0]) for r in hcp_rows]
    require(len(ids) == len(set(ids)), "hcps.csv: duplicate hcp_id")
    npis = [r[1] for r in hcp_rows]
    bad = [n for n in npis if not npi_valid(n)]
    require(not bad, "hcps.csv: %d NPIs fail the Luhn check, e.g. %s" % (len(bad), bad[:3]))
    require(len(set(npis)) == len(npis), "hcps.csv: duplicate NPI")
    for r in hcp_rows:
        require(r[5] == "" or re.fullmatch(r"[0-9]{5}", r[5]), "hcps.csv: bad practice_zip %r" % r[5])
        require(r[7] == "" or 1 <= int(r[7]) <= 60, "hcps.csv: bad years_in_practice %r" % r[7])
        require(1 <= int(r[9]) <= 10, "hcps.csv: bad decile %r" % r[9])
        require(r[10] in ("true", "false") and r[11] in ("true", "false"), "hcps.csv: bad boolean in %s" % r)
    idset = set(ids)
    missing_zip = sum(1 for r in hcp_rows if r[5] == "")
    missing_years = sum(1 for r in hcp_rows if r[7] == "")

    rx = read(os.path.join(out, "rx_monthly.csv"))
    months = set()
    seen = set()
    for hid, month, product, nrx, trx in rx:
        require(int(hid) in idset, "rx_monthly.csv: hcp_id %s not in hcps.csv" % hid)
        d = iso_date(month, "rx_monthly.csv month")
        require(d.day == 1, "rx_monthly.csv: month %s is not a first of month" % month)
        require(product in (OWN, COMP), "rx_monthly.csv: unknown product %r" % product)
        require(0 <= int(nrx) <= int(trx), "rx_monthly.csv: need 0 <= nrx <= trx, got %s/%s" % (nrx, trx))
        key = (hid, month, product)
        require(key not in seen, "rx_monthly.csv: duplicate row %s" % (key,))
        seen.add(key)
        months.add(d)
    for name, date_col in (("calls.csv", 1), ("emails.csv", 1)):
        for r in read(os.path.join(out, name)):
            require(int(r[0]) in idset, "%s: hcp_id %s not in hcps.csv" % (name, r[0]))
            iso_date(r[date_col], name)
            if name == "calls.csv":
                require(r[2] in ("in_person", "remote", "phone") and int(r[3]) >= 0, "calls.csv: bad row %s" % r)
            else:
                require(r[3] in ("true", "false") and r[4] in ("true", "false"), "emails.csv: bad row %s" % r)
                require(not (r[3] == "false" and r[4] == "true"), "emails.csv: clicked without opened: %s" % r)

    # Labels, recomputed from rx_monthly.csv.
    labels = read(os.path.join(out, "labels.csv"))
    require(labels, "labels.csv has no rows")
    as_ofs = {r[1] for r in labels}
    require(len(as_ofs) == 1, "labels.csv: expected one as_of, got %s" % sorted(as_ofs))
    as_of = iso_date(as_ofs.pop(), "labels.csv as_of")
    start, last = min(months), max(months)
    require(as_of == month_add(last, -2), "labels.csv: as_of %s is not the start of month M-2 (last month %s)"
            % (as_of, last))
    pre_from = month_add(as_of, -3)
    pre, post = {}, {}
    for hid, month, product, _nrx, trx in rx:
        if product != OWN:
            continue
        d = datetime.date.fromisoformat(month)
        if pre_from <= d < as_of:
            pre[int(hid)] = pre.get(int(hid), 0) + int(trx)
        elif d >= as_of:
            post[int(hid)] = post.get(int(hid), 0) + int(trx)
    expected = {h: (1 if post.get(h, 0) == 0 else 0) for h, v in pre.items() if v > 0}
    got = {}
    for hid, _as_of, churned in labels:
        require(int(hid) in idset, "labels.csv: hcp_id %s not in hcps.csv" % hid)
        require(churned in ("0", "1"), "labels.csv: churned must be 0/1, got %r" % churned)
        require(int(hid) not in got, "labels.csv: duplicate hcp_id %s" % hid)
        got[int(hid)] = int(churned)
    require(got == expected, "labels.csv does not match the label recomputed from rx_monthly.csv "
            "(%d labels vs %d expected, %d differ)" % (len(got), len(expected),
                                                      sum(1 for h in expected if got.get(h) != expected[h])))
    rate = sum(got.values()) / len(got)
    stats = {
        "hcps": len(hcp_rows), "missing_zip": missing_zip, "missing_years": missing_years,
        "rx_rows": len(rx), "months": "%s..%s" % (start, last), "as_of": as_of, "labels": len(got),
        "churn_rate": rate,
    }
    if len(got) < MIN_LABELS_FOR_STATS:
        return stats  # too few labels for the statistical checks below
    require(0.05 <= rate <= 0.30, "churn rate %.1f%% outside 5-30%%" % (100 * rate))

    # Learnability 1: decliners churn more.
    a = month_index(as_of, start)
    own_by = {}
    for hid, month, product, _nrx, trx in rx:
        if product == OWN:
            t = month_index(datetime.date.fromisoformat(month), start)
            own_by.setdefault(int(hid), [0] * (a + 3))[t] += int(trx)
    dec, other = [], []
    for h, y in got.items():
        series = own_by[h]
        last3, prev3 = sum(series[a - 3:a]), sum(series[a - 6:a - 3])
        (dec if last3 < 0.75 * prev3 else other).append(y)
    require(dec and other, "no decliners or no non-decliners among labeled HCPs")
    dec_rate, other_rate = sum(dec) / len(dec), sum(other) / len(other)
    require(dec_rate >= 1.5 * other_rate and dec_rate - other_rate >= 0.05,
            "decliners churn %.1f%% vs others %.1f%%: the decline signal is too weak"
            % (100 * dec_rate, 100 * other_rate))

    # Learnability 2: a simple model on pre-as_of features.
    feats = build_features(out, as_of, start)
    rows = [(h, transform(feats[h]), y) for h, y in sorted(got.items())]
    model_auc = cv_auc(rows)
    require(0.70 <= model_auc <= 0.92, "logistic regression AUC %.3f outside 0.70-0.92" % model_auc)
    static_rows = [(h, x[-5:], y) for h, x, y in rows]
    static_auc = cv_auc(static_rows)

    stats.update({"decliners": len(dec), "dec_rate": dec_rate, "other_rate": other_rate,
                  "auc": model_auc, "static_auc": static_auc})
    return stats


def main():
    ap = argparse.ArgumentParser(description="Check examples/churn/generate.py")
    ap.add_argument("--providers", type=int, default=2000)
    ap.add_argument("--months", type=int, default=24)
    ap.add_argument("--seed", type=int, default=7)
    args = ap.parse_args()
    gen_args = ["--providers", str(args.providers), "--months", str(args.months), "--seed", str(args.seed),
                "--quiet"]
    try:
        with tempfile.TemporaryDirectory(prefix="churn_check_") as tmp:
            outs = [os.path.join(tmp, "run1"), os.path.join(tmp, "run2")]
            t0 = time.perf_counter()
            for out in outs:
                proc = subprocess.run([sys.executable, GENERATOR] + gen_args + ["--output", out],
                                      capture_output=True, text=True)
                require(proc.returncode == 0, "generate.py failed (exit %d): %s"
                        % (proc.returncode, proc.stderr.strip()))
            gen_time = (time.perf_counter() - t0) / 2
            for name in HEADERS:
                paths = [os.path.join(o, name) for o in outs]
                require(all(os.path.exists(p) for p in paths), "%s was not written" % name)
                require(filecmp.cmp(paths[0], paths[1], shallow=False),
                        "%s differs between two runs with the same seed" % name)
            s = check(outs[0])
    except CheckFailed as e:
        print("check_generator: FAIL: %s" % e, file=sys.stderr)
        return 1
    print("check_generator: OK (providers=%d months=%d seed=%d, %.2fs per generation)"
          % (args.providers, args.months, args.seed, gen_time))
    print("  deterministic: 5 files byte-identical across two runs")
    print("  hcps: %d (missing practice_zip %d, missing years_in_practice %d); rx rows %d over %s"
          % (s["hcps"], s["missing_zip"], s["missing_years"], s["rx_rows"], s["months"]))
    print("  labels: %d at as_of %s, churn rate %.1f%%" % (s["labels"], s["as_of"], 100 * s["churn_rate"]))
    if "auc" not in s:
        print("  statistical checks (churn rate, decliners, AUC) skipped: fewer than %d labels"
              % MIN_LABELS_FOR_STATS)
        return 0
    print("  decliners (own TRx last 3m < 75%% of prior 3m): %d, churn %.1f%% vs %.1f%% for the others"
          % (s["decliners"], 100 * s["dec_rate"], 100 * s["other_rate"]))
    print("  logistic regression, 5-fold CV AUC: %.3f on pre-as_of features, %.3f on static HCP attributes only"
          % (s["auc"], s["static_auc"]))
    return 0


if __name__ == "__main__":
    sys.exit(main())
