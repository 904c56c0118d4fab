"""The scipy + lifelines baseline: what a data person would write to fit per-segment retention to a
Stripe subscriptions export, timed as `subtwin fit` is timed.

    python benches/baseline_fit.py FILE [RUNS]

(`python3 -m venv target/stats-venv && target/stats-venv/bin/pip install pandas scipy lifelines`.)

It reads the CSV with pandas.read_csv (dates parsed by pandas) and derives, per subscription:

- the paid start: the trial end when there was a trial (a trial end after the start), else the start;
- the end: Ended At; else the current period end when Cancel At Period End is true and the status is
  not canceled; else, for a canceled one, Canceled At (or the period end when it was set to cancel
  then); none for the others;
- the segment: Product + " (" + Interval + ")", "N months" or "N years" when an Interval Count column
  says more than one;
- the renewal age on the segment's own clock, in calendar months with numpy's datetime64: renewal j
  falls j intervals after the paid start, on its day of the month (clamped to shorter months) and
  time of day; week and day intervals are 7 and 1 days. A subscription whose end is at or before the
  as-of (the latest event the file records) churned at t, the number of renewals (j >= 0) begun
  before its end less a day (an end up to a day after a renewal date is that renewal's churn), at
  least 1; one whose Cancellation Reason is payment_failed churned at the last renewal (j >= 1) at or
  before its end, the one that failed (the end comes after the retries). The others are censored
  after the renewals (j >= 1) at or before the as-of.

Incomplete, incomplete_expired and paused ones are left out, and free ones (amount x quantity of 0),
and those with no paid time by the as-of (a trial that ended without paying, or one still running).

Then, per segment, from the counts of churned and censored subscribers at each age:

(a) the shifted-beta-geometric model (Fader & Hardie 2007) by maximum likelihood with right
    censoring, scipy.optimize.minimize (BFGS) on ln alpha, ln beta over the log-likelihood written
    with scipy.special.betaln (churned at t: ln B(a+1, b+t-1) - ln B(a, b); censored after t:
    ln B(a, b+t) - ln B(a, b)), summed over the ages rather than the subscribers;
(b) 95% intervals for alpha and beta from the central-difference Hessian on ln alpha, ln beta
    (exp(ln estimate +- 1.96 standard errors));
(c) lifelines' KaplanMeierFitter on the subscribers' ages, with its default (log-log) 95% intervals.

This is less than subtwin computes. Plan switches are not linked: a customer's subscription that
ends as another of theirs starts is a churn here at its own end, where subtwin reads a switch (a
censoring when both are in the same segment, else a departure from the segment at the switch).
There is no partial pooling across segments, no geometric or beta-discrete-Weibull model scored on
held-out renewals, no profile-likelihood intervals where the Hessian's are unreliable, no
acquisition trends or trial conversion, no price response and no backtest (subtwin refits at four
cutoffs and simulates 500 paths from each).

Prints the library versions, the median and minimum time of RUNS runs (default 3) of the whole
thing (read, derive, fits; the imports of the libraries are not counted), the median CPU time, the
peak resident memory of the process, and per segment the subscribers, churners, alpha and beta
with their intervals, the log-likelihood and Kaplan-Meier's survival after a year's renewals (to
compare with the `unpooled` fit of `subtwin fit FILE --json`).
"""

import platform
import resource
import sys
import time
import warnings

import lifelines
import numpy as np
import pandas as pd
import scipy
from lifelines import KaplanMeierFitter
from scipy.optimize import minimize
from scipy.special import betaln

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
Z = 1.959963984540054
RUN_OFF = " (alpha and beta run off together towards one constant churn rate; the Hessian's intervals say little)"


def renewals_before(start, at, unit, count, inclusive):
    """Per row: how many renewals j >= 0 from `start` (renewal 0) fall before `at`, or at or before it
    where `inclusive`. Months and years are calendar months, the day of the month clamped to shorter
    months; weeks and days are 7 and 1 days."""
    months = np.where(unit == "year", 12, 1) * count
    start_month = start.astype("M8[M]")
    k = (at.astype("M8[M]") - start_month).astype(np.int64) // months
    target = start_month + (k * months).astype("m8[M]")
    first_day = target.astype("M8[D]")
    days_in_month = ((target + np.timedelta64(1, "M")).astype("M8[D]") - first_day).astype(np.int64)
    day = (start.astype("M8[D]") - start_month.astype("M8[D]")).astype(np.int64)
    renewal_k = first_day + np.minimum(day, days_in_month - 1).astype("m8[D]") + (start - start.astype("M8[D]"))
    # Renewals 0..k-1 fall in earlier months than `at`, renewal k in its month or an earlier one.
    calendar = k + np.where(inclusive, renewal_k <= at, renewal_k < at)
    periods = (at - start) / (np.where(unit == "week", 7, 1) * count * np.timedelta64(1, "D"))
    fixed = np.where(inclusive, np.floor(periods) + 1, np.ceil(periods)).astype(np.int64)
    return np.where(np.isin(unit, ["month", "year"]), calendar, fixed)


def renewal_ages(df, as_of):
    """The segment, renewal age and churn flag of each paid subscription."""
    df = df[~df["Status"].isin(["incomplete", "incomplete_expired", "paused"])]
    df = df[df["Amount"] * df["Quantity"].fillna(1) > 0]
    start = df["Start Date (UTC)"]
    trial_end = df["Trial End (UTC)"]
    paid_start = start.where(~(trial_end.notna() & (trial_end > start)), trial_end)
    at_period_end = df["Cancel At Period End"].astype(str).str.lower().eq("true")
    canceled = df["Status"].eq("canceled")
    implied = df["Current Period End (UTC)"].where(at_period_end, df["Canceled At (UTC)"].where(canceled))
    end = df["Ended At (UTC)"].fillna(implied.where(canceled | at_period_end))
    paid = (paid_start <= as_of) & ~(end <= paid_start)
    df, paid_start, end = df[paid], paid_start[paid], end[paid]

    count = df["Interval Count"].fillna(1).astype(int) if "Interval Count" in df else pd.Series(1, index=df.index)
    interval = df["Interval"].str.lower()
    label = interval.where(count <= 1, count.astype(str) + " " + interval + "s")
    segment = df["Product"] + " (" + label + ")"

    churned = (end <= as_of).to_numpy()
    reason = df["Cancellation Reason"] if "Cancellation Reason" in df else pd.Series("", index=df.index)
    failed = churned & reason.eq("payment_failed").to_numpy()
    start_ns = paid_start.to_numpy(dtype="datetime64[ns]")
    end_ns = end.to_numpy(dtype="datetime64[ns]")
    # A churner: the renewals begun before its end less a day (an end up to a day after a renewal
    # date is that renewal's churn), at least 1. Ended by failed payments: the last renewal (j >= 1)
    # at or before the end, the one that failed (the end came after the retries). The others are
    # censored after the renewals j >= 1 at or before the as-of.
    at = np.where(failed, end_ns, np.where(churned, end_ns - np.timedelta64(1, "D"), as_of.to_datetime64()))
    inclusive = failed | ~churned
    begun = renewals_before(start_ns, at.astype("datetime64[ns]"), interval.to_numpy(), count.to_numpy(), inclusive)
    age = np.maximum(np.where(inclusive, begun - 1, begun), np.where(churned, 1, 0))
    per_year = np.select([interval.eq("year"), interval.eq("month"), interval.eq("week")], [1, 12, 52], 365) / count
    return pd.DataFrame({"segment": segment.to_numpy(), "age": age, "churned": churned, "per_year": per_year.to_numpy()},
                        index=df.index)


def sbg_loglik(z, t, churned, censored):
    a, b = np.exp(z)
    base = betaln(a, b)
    return churned @ (betaln(a + 1.0, b + t - 1.0) - base) + censored @ (betaln(a, b + t) - base)


def hessian(function, point, step=1e-4):
    size = len(point)
    result = np.zeros((size, size))
    for i in range(size):
        for j in range(size):
            total = 0.0
            for si, sj, sign in ((1, 1, 1), (1, -1, -1), (-1, 1, -1), (-1, -1, 1)):
                moved = point.copy()
                moved[i] += si * step
                moved[j] += sj * step
                total += sign * function(moved)
            result[i, j] = total / (4 * step * step)
    return result


def fit_segment(ages):
    table = ages.groupby(["age", "churned"]).size().unstack(fill_value=0).reindex(columns=[False, True], fill_value=0)
    t = table.index.to_numpy(dtype=float)
    churned, censored = table[True].to_numpy(dtype=float), table[False].to_numpy(dtype=float)

    def negative(z):
        return -sbg_loglik(z, t, churned, censored)

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        found = minimize(negative, np.array([0.0, 0.5]), method="BFGS")
        covariance = np.linalg.inv(hessian(negative, found.x))
    se = np.sqrt(np.diag(covariance))
    alpha, beta = np.exp(found.x)
    intervals = [tuple(np.exp(found.x[i] + np.array([-Z, Z]) * se[i])) for i in range(2)]

    km = KaplanMeierFitter().fit(ages["age"], event_observed=ages["churned"])
    a_year = max(int(ages["per_year"].iloc[0]), 1)
    survival_year = float(km.survival_function_at_times(a_year).iloc[0])
    return dict(n=len(ages), churned=int(churned.sum()), alpha=alpha, beta=beta, alpha_interval=intervals[0],
                beta_interval=intervals[1], loglik=-found.fun, km=km, a_year=a_year, km_year=survival_year)


def fit(path):
    df = pd.read_csv(path, parse_dates=DATES, date_format="%Y-%m-%d %H:%M")
    as_of = df[HAPPENED].max().max()
    ages = renewal_ages(df, as_of)
    return as_of, {name: fit_segment(group) for name, group in ages.groupby("segment")}


def main():
    path = sys.argv[1]
    runs = int(sys.argv[2]) if len(sys.argv) > 2 else 3
    print(f"python {platform.python_version()}, pandas {pd.__version__}, numpy {np.__version__}, "
          f"scipy {scipy.__version__}, lifelines {lifelines.__version__}")
    times, cpu = [], []
    for _ in range(runs):
        started, started_cpu = time.perf_counter(), time.process_time()
        as_of, segments = fit(path)
        times.append(time.perf_counter() - started)
        cpu.append(time.process_time() - started_cpu)
    times.sort()
    cpu.sort()
    peak_mib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"median {times[len(times) // 2]:.2f} s, min {times[0]:.2f} s over {runs} runs "
          f"({', '.join(f'{x:.2f}' for x in times)}); CPU (user + system) median {cpu[len(cpu) // 2]:.2f} s; "
          f"peak memory {peak_mib:.0f} MiB; as of {as_of}")
    for name, s in segments.items():
        (al, ah), (bl, bh) = s["alpha_interval"], s["beta_interval"]
        print(f"{name}: n {s['n']}, churned {s['churned']}, alpha {s['alpha']:.4g} [{al:.4g}, {ah:.4g}], "
              f"beta {s['beta']:.4g} [{bl:.4g}, {bh:.4g}], loglik {s['loglik']:.2f}, "
              f"Kaplan-Meier S({s['a_year']}) {s['km_year']:.4f}{RUN_OFF if not ah / al < 1e3 else ''}")


if __name__ == "__main__":
    main()
