"""The pandas baseline: what a data person would write to get month-end paid subscribers and MRR
from a Stripe subscriptions export, timed as subtwin's import + history is timed.

    python benches/baseline_pandas.py FILE [RUNS]

It reads the CSV with pandas.read_csv (dates parsed by pandas), computes each subscription's paid
start (the trial end, when there was a trial), its end (Ended At, or the period end when it is set to
cancel then, or for a canceled one without an end, its cancellation) and its MRR (price x quantity, a year / 12, a week x 52 / 12, a day x 365 / 12, / the
interval count), leaves out incomplete, paused and free ones, and counts the paid subscribers and sums
the MRR at the end of every month from the first paid start to the last event in the file. Money is
floating point, as a data person would have it; plan switches, movements, trials and segments, which
subtwin also works out, are not computed here, so this is less work than subtwin does.

Prints the median and minimum time of RUNS runs (default 3), the peak resident memory of the
process, and the last month's figures (to compare with `subtwin history FILE`).
"""

import resource
import sys
import time

import pandas as pd

DATES = [
    "Created (UTC)",
    "Start Date (UTC)",
    "Current Period End (UTC)",
    "Trial Start (UTC)",
    "Trial End (UTC)",
    "Canceled At (UTC)",
    "Ended At (UTC)",
    "Current Period Start (UTC)",
]
HAPPENED = [d for d in DATES if d not in ("Current Period End (UTC)", "Trial End (UTC)")]
MONTHS_PER_UNIT = {"month": 1.0, "year": 12.0, "week": 12.0 / 52.0, "day": 12.0 / 365.0}


def month_end_history(path):
    df = pd.read_csv(path, parse_dates=DATES, date_format="%Y-%m-%d %H:%M")
    # The history runs to the latest event that has happened (period and trial ends may lie ahead).
    as_of = df[HAPPENED].max().max()
    df = df[~df["Status"].isin(["incomplete", "incomplete_expired", "paused"])]
    count = df["Interval Count"] if "Interval Count" in df else 1
    months = df["Interval"].map(MONTHS_PER_UNIT) * count
    df = df.assign(mrr=df["Amount"] * df["Quantity"].fillna(1) / months)
    df = df[df["mrr"] > 0]
    trial = df["Trial End (UTC)"].notna() & (df["Trial End (UTC)"] > df["Start Date (UTC)"])
    paid_start = df["Start Date (UTC)"].where(~trial, df["Trial End (UTC)"])
    at_period_end = df["Cancel At Period End"].astype(str).str.lower().eq("true")
    canceled = df["Status"].eq("canceled")
    # Live and set to cancel: at the period end. Canceled without an end date: at the period end when
    # it was set to cancel then, else when it was canceled (Stripe's rules, as subtwin applies them).
    implied = df["Current Period End (UTC)"].where(at_period_end, df["Canceled At (UTC)"].where(canceled))
    end = df["Ended At (UTC)"].fillna(implied.where(canceled | at_period_end))
    month_ends = pd.date_range(paid_start.min().to_period("M").to_timestamp(), as_of, freq="MS")[1:]
    month_ends = month_ends.append(pd.DatetimeIndex([as_of]))
    rows = []
    for month_end in month_ends:
        active = (paid_start < month_end) & (end.isna() | (end >= month_end))
        rows.append((month_end, int(active.sum()), float(df["mrr"][active].sum())))
    return pd.DataFrame(rows, columns=["month_end", "active", "mrr"])


def main():
    path = sys.argv[1]
    runs = int(sys.argv[2]) if len(sys.argv) > 2 else 3
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        history = month_end_history(path)
        times.append(time.perf_counter() - started)
    times.sort()
    peak_mib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    last = history.iloc[-1]
    print(f"pandas {pd.__version__}: median {times[len(times) // 2]:.2f} s, min {times[0]:.2f} s over {runs} runs;")
    print(f"peak memory {peak_mib:.0f} MiB; {len(history)} months; last: {last.active} active, MRR {last.mrr:,.2f}")


if __name__ == "__main__":
    main()
