#!/usr/bin/python3
"""Deterministic generator of synthetic pharma data for the Assay churn reference example.

    /usr/bin/python3 examples/churn/generate.py --providers 2000 --months 24 --seed 7 --output DIR

Writes hcps.csv, rx_monthly.csv, calls.csv, emails.csv and labels.csv into DIR (see README.md).
Python 3 standard library only. The output is byte-identical for the same arguments on any
machine: every draw comes from random.Random(int).random(), in a fixed order, and every value
written is an int, a string, a bool or a date (no float is ever formatted).
"""

import argparse
import csv
import datetime
import math
import os
import random
import sys
import time

OWN_PRODUCT = "ONCAVEX"
COMPETITOR = "RIVALIN"

# specialty: (weight, relative market size, share of own-product prescribers, churn log-odds)
SPECIALTIES = [
    ("ONC", 0.20, 24.0, 0.92, -0.45),
    ("HEM", 0.09, 18.0, 0.90, -0.30),
    ("CARD", 0.14, 7.0, 0.75, 0.15),
    ("ENDO", 0.10, 6.0, 0.72, 0.10),
    ("PCP", 0.30, 4.0, 0.65, 0.50),
    ("NEURO", 0.08, 6.0, 0.70, 0.25),
    ("GI", 0.05, 6.0, 0.72, 0.10),
    ("PULM", 0.04, 6.0, 0.72, 0.10),
]

# practice type: (weight, churn log-odds, probability a call is in person)
PRACTICE_TYPES = [
    ("solo", 0.18, 0.35, 0.70),
    ("group", 0.45, 0.00, 0.62),
    ("hospital", 0.25, -0.10, 0.50),
    ("academic", 0.12, -0.25, 0.45),
]

# state: (weight, 3-digit zip prefixes); NJ, MA and CT zips start with 0
STATES = [
    ("CA", 12.0, ["900", "902", "921", "941", "945", "950"]),
    ("TX", 9.0, ["750", "770", "782", "787"]),
    ("FL", 7.0, ["321", "327", "331", "336"]),
    ("NY", 7.0, ["100", "104", "112", "146"]),
    ("PA", 4.5, ["152", "171", "191"]),
    ("IL", 4.0, ["604", "606"]),
    ("OH", 4.0, ["432", "441", "452"]),
    ("GA", 3.5, ["300", "303"]),
    ("NC", 3.5, ["275", "282"]),
    ("MI", 3.0, ["481", "482", "495"]),
    ("NJ", 3.0, ["070", "071", "076", "088"]),
    ("MA", 2.5, ["016", "021", "024"]),
    ("WA", 2.5, ["980", "981"]),
    ("AZ", 2.5, ["850", "857"]),
    ("TN", 2.0, ["372", "381"]),
    ("MN", 2.0, ["554", "559"]),
    ("CO", 2.0, ["802", "809"]),
    ("MD", 2.0, ["208", "212"]),
    ("MO", 2.0, ["631", "641"]),
    ("CT", 1.2, ["061", "065"]),
]

FIRST_NAMES = [
    "James", "Mary", "Robert", "Patricia", "John", "Jennifer", "Michael", "Linda", "David",
    "Elizabeth", "William", "Barbara", "Richard", "Susan", "Joseph", "Jessica", "Thomas", "Sarah",
    "Daniel", "Karen", "Wei", "Mei", "Raj", "Priya", "Anil", "Sunita", "Carlos", "Sofia", "José",
    "María", "Ahmed", "Fatima", "Omar", "Leila", "Kwame", "Amara", "Chinedu", "Ngozi", "Hiroshi",
    "Yuki", "Min-jun", "Ji-woo", "Ivan", "Olga", "Lukas", "Anna", "Mateo", "Chloé", "Aisha", "Noah",
]

LAST_NAMES = [
    "Smith", "Johnson", "Williams", "Brown", "Jones", "Garcia", "Miller", "Davis", "Rodriguez",
    "Martinez", "Hernandez", "Lopez", "Gonzalez", "Wilson", "Anderson", "Thomas", "Taylor", "Moore",
    "Jackson", "Martin", "Lee", "Perez", "Thompson", "White", "Harris", "Sanchez", "Clark",
    "Ramirez", "Lewis", "Robinson", "Walker", "Young", "Allen", "King", "Wright", "Scott",
    "Nguyen", "Patel", "Shah", "Kim", "Chen", "Wang", "Singh", "Kumar", "Cohen", "Schmidt",
    "Müller", "O'Brien", "O'Connor", "Okafor", "Mensah", "Tanaka", "Sato", "Ivanov", "Rossi",
    "Silva", "Haddad", "Khan", "Goldberg", "Fischer", "Novak", "Kowalski", "Larsen", "Dubois",
    "Costa", "Reyes", "Cruz", "Morales", "Ortiz", "Gupta", "Park", "Nakamura", "Ali",
    "Mahmoud", "Lindqvist", "Van der Berg", "Smith-Jones", "McDonald", "Murphy", "Kelly",
]

CAMPAIGNS = [
    "clinical_data_update", "dosing_guide", "patient_support_program", "webinar_invite",
    "formulary_news", "safety_information", "case_study", "congress_highlights",
]

# Label window: as_of = first day of 0-based month M-3; features may use months < as_of.
MIN_MONTHS = 9


# ---------------------------------------------------------------------------------------------
# Random draws built only on Random.random() (its output is specified across CPython versions).

class Draws:
    def __init__(self, seed):
        self.r = random.Random(seed)

    def u(self):
        return self.r.random()

    def uniform(self, a, b):
        return a + (b - a) * self.r.random()

    def below(self, n):
        """Integer in [0, n)."""
        k = int(self.r.random() * n)
        return k if k < n else n - 1

    def bernoulli(self, p):
        return self.r.random() < p

    def pick(self, seq):
        return seq[self.below(len(seq))]

    def weighted(self, weights):
        """Index drawn with probability proportional to weights[i]."""
        x = self.r.random() * sum(weights)
        acc = 0.0
        for i, w in enumerate(weights):
            acc += w
            if x < acc:
                return i
        return len(weights) - 1

    def normal(self):
        """Standard normal, Marsaglia polar method (one value per call)."""
        while True:
            a = 2.0 * self.r.random() - 1.0
            b = 2.0 * self.r.random() - 1.0
            s = a * a + b * b
            if 0.0 < s < 1.0:
                return a * math.sqrt(-2.0 * math.log(s) / s)

    def lognormal(self, sigma):
        """exp(sigma * z) with mean 1."""
        return math.exp(sigma * self.normal() - 0.5 * sigma * sigma)

    def poisson(self, lam):
        if lam <= 0.0:
            return 0
        if lam >= 40.0:
            return max(0, int(round(lam + math.sqrt(lam) * self.normal())))
        x = self.r.random()
        p = math.exp(-lam)
        k, acc = 0, p
        while x > acc and k < 200:
            k += 1
            p *= lam / k
            acc += p
        return k

    def binomial(self, n, p):
        if n <= 60:
            return sum(1 for _ in range(n) if self.r.random() < p)
        x = int(round(n * p + math.sqrt(n * p * (1.0 - p)) * self.normal()))
        return min(n, max(0, x))


def sigmoid(x):
    return 1.0 / (1.0 + math.exp(-x))


def npi_check_digit(first9):
    """Luhn check digit of an NPI, computed over the 80840 prefix plus the first 9 digits."""
    total = 0
    for i, ch in enumerate(reversed("80840" + first9)):
        d = ord(ch) - 48
        if i % 2 == 0:  # the rightmost payload digit is doubled
            d *= 2
            if d > 9:
                d -= 9
        total += d
    return str((10 - total % 10) % 10)


def add_months(d, n):
    m = d.month - 1 + n
    return datetime.date(d.year + m // 12, m % 12 + 1, 1)


def weekdays_of_month(first):
    nxt = add_months(first, 1)
    days = []
    d = first
    while d < nxt:
        if d.weekday() < 5:
            days.append(d)
        d += datetime.timedelta(days=1)
    return days


def nth_weekday(first, weekday, n):
    """The n-th (1-based) given weekday (0 = Monday) of the month starting at first."""
    offset = (weekday - first.weekday()) % 7
    return first + datetime.timedelta(days=offset + 7 * (n - 1))


def bool_text(b):
    return "true" if b else "false"


# ---------------------------------------------------------------------------------------------
# Providers

def make_hcps(n, seed):
    d = Draws(seed * 1000 + 1)
    reps_by_state = {}
    rep_no = 1
    for st, w, _ in STATES:
        k = max(1, int(round(w / 2.5)))
        reps_by_state[st] = ["R%03d" % (rep_no + i) for i in range(k)]
        rep_no += k

    hcps = []
    used_npi = set()
    hcp_id = 100000
    for _ in range(n):
        hcp_id += 1 + d.below(3)  # ids increase with small gaps
        while True:
            first9 = "1" + "".join(str(d.below(10)) for _ in range(8))
            npi = first9 + npi_check_digit(first9)
            if npi not in used_npi:
                used_npi.add(npi)
                break
        si = d.weighted([s[1] for s in SPECIALTIES])
        spec, _, market_base, own_share_prescribers, spec_logit = SPECIALTIES[si]
        pi = d.weighted([p[1] for p in PRACTICE_TYPES])
        ptype, _, ptype_logit, p_in_person = PRACTICE_TYPES[pi]
        sti = d.weighted([s[1] for s in STATES])
        state, _, prefixes = STATES[sti]
        zip_code = d.pick(prefixes) + "%02d" % d.below(100)
        years = 1 + int(((d.u() + d.u()) / 2.0) * 39.0)  # triangular, 1-39, mode 20
        if ptype == "academic":
            years = min(45, years + d.below(6))
        market = market_base * d.lognormal(0.7)  # monthly TRx of the class (own + competitor)
        h = {
            "hcp_id": hcp_id,
            "npi": npi,
            "first_name": d.pick(FIRST_NAMES),
            "last_name": d.pick(LAST_NAMES),
            "specialty": spec,
            "practice_zip": zip_code,
            "state": state,
            "years_in_practice": years,
            "practice_type": ptype,
            "spec_logit": spec_logit,
            "ptype_logit": ptype_logit,
            "p_in_person": p_in_person,
            "own_prescriber_p": own_share_prescribers,
            "market": market,
            "rep": d.pick(reps_by_state[state]),
            "state_reps": reps_by_state[state],
            "z_access": d.normal(),  # rep access (no-see HCPs have low values)
            "z_engage": d.normal(),  # digital engagement
            "z_loyal": d.normal(),   # unobserved loyalty to the own brand
            "email_opt_in": d.bernoulli(0.80 if ptype != "solo" else 0.70),
            "missing_zip": d.bernoulli(0.005),
            "missing_years": d.bernoulli(0.003),
        }
        hcps.append(h)

    # Decile from the rank of market potential (10 = largest), as in real targeting data.
    order = sorted(range(n), key=lambda i: (hcps[i]["market"], hcps[i]["hcp_id"]))
    for rank, i in enumerate(order):
        hcps[i]["decile"] = 1 + (10 * rank) // n

    for h in hcps:
        p_kol = 0.004 + (0.07 if h["practice_type"] == "academic" else 0.0) \
            + (0.03 if h["decile"] >= 8 else 0.0) + (0.02 if h["specialty"] in ("ONC", "HEM") else 0.0) \
            + (0.01 if h["years_in_practice"] >= 20 else 0.0)
        h["kol"] = d.bernoulli(p_kol)
    return hcps, sorted({r for reps in reps_by_state.values() for r in reps})


# ---------------------------------------------------------------------------------------------
# Latent dynamics

def plan_hcps(hcps, months, seed):
    """Decide, per HCP, the hidden story: prescriber status, adoption, lapse, churn, warnings."""
    d = Draws(seed * 1000 + 2)
    a = months - 3  # index of the as_of month
    for h in hcps:
        logit = (-2.05 + h["spec_logit"] + h["ptype_logit"] - 0.07 * (h["decile"] - 5.5)
                 - (0.70 if h["kol"] else 0.0) - 0.35 * h["z_access"] - 0.25 * h["z_engage"]
                 - 0.45 * h["z_loyal"] + 0.6 * d.normal())
        p = sigmoid(logit)
        h["churn_p"] = p
        h["own"] = d.bernoulli(h["own_prescriber_p"])
        h["own_share"] = min(0.9, max(0.08, 0.15 + 0.6 * (d.u() + d.u()) / 2.0
                                      + 0.08 * h["z_loyal"] + (0.08 if h["kol"] else 0.0)))
        h["adopt"] = 0
        h["lapse"] = None
        h["churn"] = False
        h["warn_start"] = None
        h["warn_floor"] = 1.0
        h["dip"] = None
        # personal drift of own volume, weakly tied to the hidden propensity
        h["drift"] = -0.006 * (logit + 2.0) + 0.010 * d.normal()
        if not h["own"]:
            continue
        if d.bernoulli(0.10):
            h["adopt"] = 1 + d.below(max(1, a - 6))
        if d.bernoulli(0.9 * p) and a - 4 > h["adopt"] + 3:
            # lapsed earlier in the history: no own Rx in the label's lookback window
            h["lapse"] = h["adopt"] + 3 + d.below(a - 4 - (h["adopt"] + 3))
            continue
        if d.bernoulli(p):
            h["churn"] = True
            if d.bernoulli(0.75):
                # visible warning: gradual decline over 3-6 months before as_of
                h["warn_start"] = a - (3 + d.below(4))
                h["warn_floor"] = d.uniform(0.15, 0.55)
        elif d.bernoulli(0.06):
            # false alarm: a temporary dip around as_of, then recovery
            start = a - (1 + d.below(5))
            h["dip"] = (start, start + 3 + d.below(3), d.uniform(0.45, 0.8))
    return hcps


def warn_mult(h, t, a):
    """Multiplier (1 -> floor) on own volume / engagement at month t for warned churners."""
    ws = h["warn_start"]
    if ws is None or t < ws:
        return 1.0
    span = a - ws
    frac = min(1.0, (t - ws + 1) / span)
    return 1.0 - (1.0 - h["warn_floor"]) * frac


def dip_mult(h, t):
    dip = h["dip"]
    if dip is None or t < dip[0] or t >= dip[1]:
        return 1.0
    return dip[2]


def season(month_date):
    return {1: 0.94, 7: 0.96, 8: 0.95, 11: 0.97, 12: 0.91}.get(month_date.month, 1.0)


def make_rx(hcps, start, months, seed):
    d = Draws(seed * 1000 + 3)
    a = months - 3
    rows = []
    for h in hcps:
        own_base = h["market"] * h["own_share"] if h["own"] else 0.0
        comp_base = h["market"] * (1.0 - h["own_share"]) if h["own"] else h["market"]
        p_new = d.uniform(0.25, 0.45)
        switch_share = d.uniform(0.5, 1.0)  # share of lost own volume that goes to the competitor
        for t in range(months):
            md = add_months(start, t)
            common = season(md) * d.lognormal(0.20)
            lam_own = 0.0
            lost = 0.0
            if h["own"] and t >= h["adopt"] and (h["lapse"] is None or t < h["lapse"]):
                lam_own = own_base * (1.0 + h["drift"]) ** t * common * d.lognormal(0.12)
                if t - h["adopt"] < 3 and h["adopt"] > 0:
                    lam_own *= 0.3 * (t - h["adopt"] + 1)
                m = warn_mult(h, t, a) * dip_mult(h, t)
                lost = lam_own * (1.0 - m)
                lam_own *= m
                if h["churn"] and t >= a:
                    lost += lam_own
                    lam_own = 0.0
            elif h["own"]:
                lost = own_base * common
            lam_comp = comp_base * common * d.lognormal(0.12) + switch_share * lost
            for product, lam, pn in ((OWN_PRODUCT, lam_own, p_new * (0.55 + 0.45 * warn_mult(h, t, a))),
                                     (COMPETITOR, lam_comp, p_new)):
                trx = d.poisson(lam)
                if trx == 0:
                    continue  # zero months are not written (see README)
                nrx = d.binomial(trx, pn)
                rows.append((h["hcp_id"], md.isoformat(), product, nrx, trx))
    return rows


def make_calls(hcps, reps, start, months, seed):
    d = Draws(seed * 1000 + 4)
    a = months - 3
    # Territory vacancies: a few reps leave; their HCPs get few calls for some months.
    vacancies = {}
    for _ in range(3):
        rep = d.pick(reps)
        s = d.below(months)
        vacancies[rep] = (s, s + 2 + d.below(4))
    rows = []
    rate_by_decile = [0.25, 0.3, 0.4, 0.5, 0.6, 0.8, 1.0, 1.3, 1.7, 2.2]
    for h in hcps:
        base = rate_by_decile[h["decile"] - 1] * math.exp(0.55 * h["z_access"] - 0.15)
        if h["kol"]:
            base *= 1.5
        if not h["own"]:
            base *= 0.6
        vac = vacancies.get(h["rep"])
        p_in = h["p_in_person"]
        samples_mu = 2.0 + 0.25 * h["decile"]
        for t in range(months):
            md = add_months(start, t)
            w = warn_mult(h, t, a)
            # warned churners: reps deprioritize them / they stop seeing reps
            lam = base * (0.35 + 0.65 * w) * dip_mult(h, t)
            if h["lapse"] is not None and t >= h["lapse"]:
                lam *= 0.5
            if h["churn"] and t >= a:
                lam *= 0.6
            if vac and vac[0] <= t < vac[1]:
                lam *= 0.2
            k = d.poisson(lam)
            if k == 0:
                continue
            days = weekdays_of_month(md)
            calls = []
            for _ in range(k):
                day = d.pick(days)
                x = d.u()
                channel = "in_person" if x < p_in else ("remote" if x < p_in + (1 - p_in) * 0.6 else "phone")
                samples = 0
                if channel == "in_person" and d.bernoulli(0.75):
                    samples = 1 + d.poisson(samples_mu * (0.4 + 0.6 * w) - 1.0)
                rep = h["rep"] if d.bernoulli(0.92) else d.pick(h["state_reps"])
                calls.append((day.isoformat(), channel, samples, rep))
            calls.sort()
            for c in calls:
                rows.append((h["hcp_id"], c[0], c[1], c[2], c[3]))
    return rows


def make_emails(hcps, start, months, seed):
    d = Draws(seed * 1000 + 5)
    a = months - 3
    # One campaign each month (second Tuesday), a second one every other month (fourth Tuesday).
    sends = []
    for t in range(months):
        md = add_months(start, t)
        sends.append((t, nth_weekday(md, 1, 2), CAMPAIGNS[t % len(CAMPAIGNS)]))
        if t % 2 == 1:
            sends.append((t, nth_weekday(md, 1, 4), CAMPAIGNS[(t * 3 + 1) % len(CAMPAIGNS)]))
    rows = []
    for h in hcps:
        if not h["email_opt_in"]:
            continue
        p_open = sigmoid(-0.7 + 0.9 * h["z_engage"])
        p_click = sigmoid(-1.3 + 0.7 * h["z_engage"])
        for t, day, campaign in sends:
            if not d.bernoulli(0.88):  # list suppression, bounces
                continue
            w = warn_mult(h, t, a)
            opened = d.bernoulli(p_open * (0.3 + 0.7 * w))
            clicked = opened and d.bernoulli(p_click)
            rows.append((h["hcp_id"], day.isoformat(), campaign, bool_text(opened), bool_text(clicked)))
    return rows


def make_labels(hcps, rx_rows, start, months):
    """churned = own-product TRx > 0 in the 3 months before as_of and = 0 in the 3 months from it."""
    as_of = add_months(start, months - 3)
    pre_from = add_months(start, months - 6).isoformat()
    as_of_s = as_of.isoformat()
    pre, post = {}, {}
    for hcp_id, month, product, _nrx, trx in rx_rows:
        if product != OWN_PRODUCT:
            continue
        if pre_from <= month < as_of_s:
            pre[hcp_id] = pre.get(hcp_id, 0) + trx
        elif month >= as_of_s:
            post[hcp_id] = post.get(hcp_id, 0) + trx
    rows = []
    for h in hcps:
        i = h["hcp_id"]
        if pre.get(i, 0) > 0:
            rows.append((i, as_of_s, 1 if post.get(i, 0) == 0 else 0))
    return rows


def write_csv(path, header, rows):
    with open(path, "w", newline="", encoding="utf-8") as f:
        w = csv.writer(f, lineterminator="\n")
        w.writerow(header)
        w.writerows(rows)


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--providers", type=int, default=2000, help="number of HCPs (default 2000)")
    ap.add_argument("--months", type=int, default=24,
                    help="simulated months, >= %d; the last 3 are the outcome window (default 24)" % MIN_MONTHS)
    ap.add_argument("--seed", type=int, default=7, help="random seed (default 7)")
    ap.add_argument("--start", default="2023-01",
                    help="first simulated month, YYYY-MM (default 2023-01)")
    ap.add_argument("--output", required=True, help="output directory (created if missing)")
    ap.add_argument("--quiet", action="store_true", help="print nothing on success")
    args = ap.parse_args(argv)
    if args.providers < 1:
        ap.error("--providers must be at least 1")
    if args.months < MIN_MONTHS:
        ap.error("--months must be at least %d (6 months of history + 3 outcome months)" % MIN_MONTHS)
    if args.seed < 0:
        ap.error("--seed must be non-negative")
    try:
        y, m = args.start.split("-")
        start = datetime.date(int(y), int(m), 1)
    except ValueError:
        ap.error("--start must be YYYY-MM, got %r" % args.start)

    t0 = time.perf_counter()
    hcps, reps = make_hcps(args.providers, args.seed)
    plan_hcps(hcps, args.months, args.seed)
    rx = make_rx(hcps, start, args.months, args.seed)
    calls = make_calls(hcps, reps, start, args.months, args.seed)
    emails = make_emails(hcps, start, args.months, args.seed)
    labels = make_labels(hcps, rx, start, args.months)

    os.makedirs(args.output, exist_ok=True)
    write_csv(os.path.join(args.output, "hcps.csv"),
              ["hcp_id", "npi", "first_name", "last_name", "specialty", "practice_zip", "state",
               "years_in_practice", "practice_type", "decile", "is_key_opinion_leader", "email_opt_in"],
              [(h["hcp_id"], h["npi"], h["first_name"], h["last_name"], h["specialty"],
                "" if h["missing_zip"] else h["practice_zip"], h["state"],
                "" if h["missing_years"] else h["years_in_practice"], h["practice_type"],
                h["decile"], bool_text(h["kol"]), bool_text(h["email_opt_in"])) for h in hcps])
    write_csv(os.path.join(args.output, "rx_monthly.csv"), ["hcp_id", "month", "product", "nrx", "trx"], rx)
    write_csv(os.path.join(args.output, "calls.csv"),
              ["hcp_id", "call_date", "channel", "samples_dropped", "rep_id"], calls)
    write_csv(os.path.join(args.output, "emails.csv"),
              ["hcp_id", "sent_date", "campaign", "opened", "clicked"], emails)
    write_csv(os.path.join(args.output, "labels.csv"), ["hcp_id", "as_of", "churned"], labels)
    if not args.quiet:
        churned = sum(r[2] for r in labels)
        print("wrote %s: %d hcps, %d rx rows, %d calls, %d emails, %d labels (as_of %s, churn rate %.1f%%) in %.2fs"
              % (args.output, len(hcps), len(rx), len(calls), len(emails), len(labels),
                 labels[0][1] if labels else "-", 100.0 * churned / max(1, len(labels)),
                 time.perf_counter() - t0))
    return 0


if __name__ == "__main__":
    sys.exit(main())
