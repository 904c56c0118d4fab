"""The NumPy baselines for the simulation: the twin's baseline model run forward the way a data person
would write it subscriber by subscriber, and the engine's own cell-level algorithm vectorised over
paths (the strongest Python rival), timed as `cargo bench --bench simulate` times the engine.

    python benches/baseline_simulate.py TWIN.json PATHS MONTHS [subscriber|cells|cells-hypergeometric|both|all]
        [--subscriber-paths N] [--chunk N] [--seed N] [--engine REPORT.json]

(`python3 -m venv target/stats-venv && target/stats-venv/bin/pip install numpy`.) TWIN.json is a
twin as `subtwin simulate FILE --save-twin TWIN.json` writes it, e.g.

    target/release/subtwin simulate www/demo-stripe.csv --runs 10 --horizon 2 --save-twin twin-demo.json
    python benches/baseline_simulate.py twin-demo.json 1000 60 both

The model is the engine's (src/sim/engine.rs), step for step. Each path first draws, per segment:
the sBG alpha and beta from the bivariate normal of (logit m, logit p), m = alpha / (alpha + beta)
the mean churn and p = 1 / (alpha + beta + 1) the polarisation, through the Cholesky factor of their
covariance (or the geometric limit's churn probability from the normal of its logit); the direct and
trial-start trends' intercept and slope from theirs; the trial conversion probability from its
Beta(a, b). Then month by month: every cell whose renewal falls in the month (every n months from its
next renewal offset for a plan billed every n months; floor((j + 1) t / 12) - floor(j t / 12)
renewals in month j, one after another, for one billed t times a year) loses its churners, each
subscriber with probability h(k + 1) = alpha / (alpha + beta + k) after k renewals survived; then
the month's new subscribers arrive (direct starts Poisson at exp(intercept + slope x month +
seasonal[calendar month]), capped at 1e8 a month, gamma-Poisson when the dispersion is above 1;
trials the same, converted Binomial(trials, p), paying in the month they start or the next by the
lag, with the trials in progress at the start converting in the first month), their MRR drawn from
the segment's new-subscriber distribution, their first renewal one billing interval later.

Three implementations, all exact (the same distribution as the engine, not the same numbers: NumPy's
generator is not the engine's ChaCha8 streams):

(a) `subscriber`: one array entry per subscriber (renewals survived, next renewal month, MRR),
    a Python loop over paths and months, each month vectorised over the segment's subscribers
    (`rng.random(n) < h[k]`); the churned are dropped (the arrays are compacted) and the month's
    new subscribers appended (`rng.choice` over the new-subscriber MRR values). On the twin of a
    million-row export this takes seconds per path, so `--subscriber-paths N` runs only N paths
    and the time for PATHS is extrapolated linearly from them (the output says so).
(b) `cells`: the engine's cell-level algorithm vectorised over paths: a segment's subscribers are
    counts of shape (paths, MRR groups), one column per (cell, MRR value), in blocks of cells that
    renew in the same months (so a month's renewals are one slice, not a gather), with room for
    the new cells of the whole horizon allocated up front. A renewal is one `rng.binomial(counts,
    h)` over the block's every group and path at once: the churners of each MRR group drawn
    independently with the cell's hazard. That is the same joint distribution as the engine's
    Binomial(cell, h) followed by a multivariate hypergeometric split of the churners over the
    groups (independent Bernoulli trials, conditioned on their total, are a uniformly random subset
    of that size), with one draw per group instead of one per cell plus one per group. New cells are
    `rng.multinomial(new, weights)` over paths. Active subscribers and MRR per segment are carried
    forward (plus the new, minus the churned) rather than summed over the state each month.
(c) `cells-hypergeometric`: (b) with the engine's own split: Binomial(cell total, h) per cell, then
    the churners allotted to the cell's MRR groups by successive hypergeometric draws (group j
    against the groups after it), each step vectorised over paths and cells.

`both` runs (a) and (b); `all` runs the three. `--chunk N` simulates the cell-level versions N
paths at a time (default 1000: the arrays stay in cache, and 10,000 paths of a large twin would
otherwise take gigabytes of temporaries).

Prints NumPy's version, the wall time (time.perf_counter around the simulation alone: the JSON is
read and the twin laid out before the clock starts) and the CPU time of each implementation, and
the medians (type 7 quantiles, NumPy's default, as the engine's report) of total active subscribers
and MRR at month 12 (when simulated) and at the horizon. With `--engine REPORT.json` (the output of
`subtwin simulate FILE --runs PATHS --horizon MONTHS --json` on the file the twin came from) it
prints the engine's medians beside them.

Left out: the engine's other figures (new, churned, churned MRR per segment and month are computed by
(b) and (c) but not printed; (a) keeps only the totals), the quantile summary beyond the medians, and
batching across processes or threads (each implementation runs on one core, as the engine's bench).
"""

import argparse
import json
import sys
import time

import numpy as np

MAX_RATE_PER_MONTH = 1e8
LN_MAX_RATE = np.log(MAX_RATE_PER_MONTH)


# ---------------------------------------------------------------------------------------------
# The twin, and the parameters each path draws.


def cholesky(cov):
    """The engine's Covariance2::cholesky: (l11, l21, l22), singular matrices included."""
    l11 = np.sqrt(max(cov["variance_first"], 0.0))
    l21 = cov["covariance"] / l11 if l11 > 0 else 0.0
    l22 = np.sqrt(max(cov["variance_second"] - l21 * l21, 0.0))
    return l11, l21, l22


def is_zero(cov):
    return cov["variance_first"] == 0 and cov["variance_second"] == 0 and cov["covariance"] == 0


def logistic(x):
    return 1.0 / (1.0 + np.exp(-x))


def draw_hazard(retention, rng, paths):
    """Per path (alpha, alpha + beta, k coefficient): h after k renewals is alpha / (apb + coef k),
    coef 1 for the sBG, 0 for the geometric limit (alpha then is the churn probability, apb 1)."""
    z1, z2 = rng.standard_normal(paths), rng.standard_normal(paths)
    if retention["model"] == "shifted_beta_geometric":
        a, b, u = retention["alpha"], retention["beta"], retention["uncertainty"]
        if is_zero(u):
            return np.full(paths, a), np.full(paths, a + b), 1.0
        l11, l21, l22 = cholesky(u)
        logit_mean = np.log(a) - np.log(b) + l11 * z1
        logit_polarisation = -np.log(a + b) + l21 * z1 + l22 * z2
        apb = np.exp(-logit_polarisation)
        return logistic(logit_mean) * apb, apb, 1.0
    churn, var = retention["churn_probability"], retention["variance_logit_churn"]
    if var == 0:
        return np.full(paths, churn), np.ones(paths), 0.0
    logit = np.log(churn) - np.log1p(-churn)
    return logistic(logit + np.sqrt(var) * z1), np.ones(paths), 0.0


def draw_trend(trend, rng, paths):
    """Per path (intercept, slope) of a log-linear Poisson trend."""
    z1, z2 = rng.standard_normal(paths), rng.standard_normal(paths)
    intercept, slope = trend["log_rate_intercept"], trend["log_rate_slope_per_month"]
    if is_zero(trend["uncertainty"]):
        return np.full(paths, intercept), np.full(paths, slope)
    l11, l21, l22 = cholesky(trend["uncertainty"])
    return intercept + l11 * z1, slope + l21 * z1 + l22 * z2


class Segment:
    """A segment's twin with its per-path parameters: arrays of length paths."""

    def __init__(self, twin_segment, start_month_index):
        self.name = twin_segment["name"]
        cadence = twin_segment["cadence"]
        self.every_months = cadence.get("every_months")
        self.times_per_year = cadence.get("times_per_year")
        self.retention = twin_segment["retention"]
        self.direct = twin_segment["acquisition"]["direct"]
        self.trials = twin_segment["acquisition"]["trials"]
        new = [g for g in twin_segment["new_mrr"] if g["subscribers"] > 0]
        self.new_values = np.array([g["mrr_major_units"] for g in new], dtype=float)
        weights = np.array([g["subscribers"] for g in new], dtype=float)
        self.new_probabilities = weights / weights.sum() if len(new) else weights
        self.cells = twin_segment["cells"]
        self.start = start_month_index

    def draw(self, rng, paths):
        """Draws every path's parameters, in the engine's order."""
        self.alpha, self.apb, self.k_coefficient = draw_hazard(self.retention, rng, paths)
        self.direct_rate = draw_trend(self.direct, rng, paths) if self.direct else None
        self.trial_rate = draw_trend(self.trials["starts"], rng, paths) if self.trials else None
        if self.trials:
            self.conversion = rng.beta(self.trials["conversion"]["a"], self.trials["conversion"]["b"], paths)

    def renewals_due(self, first_month, month):
        """Renewals in `month` of a cell whose next (first) renewal month is `first_month`."""
        if self.every_months is not None:
            return 1 if month >= first_month and (month - first_month) % self.every_months == 0 else 0
        if month < first_month:
            return 0
        t = self.times_per_year
        return (month + 1) * t // 12 - month * t // 12

    def first_renewal_of_new(self, month):
        return month + (self.every_months if self.every_months is not None else 1)

    def converting_at_start(self, rng, path_slice):
        if not self.trials or self.trials["in_progress_at_start"] == 0:
            return np.zeros(path_slice.stop - path_slice.start, dtype=np.int64)
        return rng.binomial(self.trials["in_progress_at_start"], self.conversion[path_slice])

    def arrivals(self, rng, trend, rate, month, path_slice):
        """This month's starts of one stream on the paths in `path_slice`."""
        intercept, slope = rate[0][path_slice], rate[1][path_slice]
        seasonal = trend["seasonal_log_multipliers"][(self.start + month) % 12]
        expected = np.exp(np.minimum(intercept + slope * month + seasonal, LN_MAX_RATE))
        dispersion = trend.get("dispersion", 1.0)
        if dispersion > 1.0:
            excess = dispersion - 1.0
            drawn = rng.gamma(np.maximum(expected / excess, 1e-300)) * excess
            expected = np.where(expected > 0, np.minimum(drawn, MAX_RATE_PER_MONTH), 0.0)
        return rng.poisson(expected)

    def new_subscribers(self, rng, month, path_slice, converting_next):
        """The month's paid starts per path; updates the converted trials waiting for next month."""
        new = converting_next.copy()
        converting_next[:] = 0
        if self.direct:
            new += self.arrivals(rng, self.direct, self.direct_rate, month, path_slice)
        if self.trials:
            started = self.arrivals(rng, self.trials["starts"], self.trial_rate, month, path_slice)
            converted = rng.binomial(started, self.conversion[path_slice])
            if self.trials["lag_months"] == 0:
                new += converted
            else:
                converting_next += converted
        return new


def load(path):
    with open(path) as f:
        twin = json.load(f)
    return twin["start_month_index"], [Segment(s, twin["start_month_index"]) for s in twin["segments"]]


# ---------------------------------------------------------------------------------------------
# (a) Subscriber by subscriber.


def simulate_subscribers(segments, paths, months, rng):
    """Returns (active, mrr) totals of shape (paths, months)."""
    active = np.zeros((paths, months), dtype=np.int64)
    mrr = np.zeros((paths, months))
    for segment in segments:
        segment.draw(rng, paths)
    for path in range(paths):
        one = slice(path, path + 1)
        state = []
        for segment in segments:
            k = np.concatenate([np.full(sum(g["subscribers"] for g in c["mrr"]), c["renewals_survived"], dtype=np.int64)
                                for c in segment.cells] or [np.zeros(0, dtype=np.int64)])
            nxt = np.concatenate([np.full(sum(g["subscribers"] for g in c["mrr"]), c["next_renewal_offset_months"],
                                          dtype=np.int64) for c in segment.cells] or [np.zeros(0, dtype=np.int64)])
            values = np.concatenate([np.repeat([g["mrr_major_units"] for g in c["mrr"]],
                                               [g["subscribers"] for g in c["mrr"]]) for c in segment.cells]
                                    or [np.zeros(0)]).astype(float)
            state.append([k, nxt, values, segment.converting_at_start(rng, one)])
        for month in range(months):
            for segment, s in zip(segments, state):
                k, nxt, values, converting_next = s
                alpha, apb, coef = segment.alpha[path], segment.apb[path], segment.k_coefficient
                if segment.every_months is not None:
                    due = np.flatnonzero(nxt == month)
                    churn = rng.random(due.size) < alpha / (apb + coef * k[due])
                    k[due] += 1
                    nxt[due] += segment.every_months
                    leaving = due[churn]
                else:
                    renewals = (month + 1) * segment.times_per_year // 12 - month * segment.times_per_year // 12
                    due = np.flatnonzero(nxt <= month)
                    gone = []
                    for _ in range(renewals):
                        churn = rng.random(due.size) < alpha / (apb + coef * k[due])
                        gone.append(due[churn])
                        due = due[~churn]
                        k[due] += 1
                    leaving = np.concatenate(gone) if gone else np.zeros(0, dtype=np.int64)
                alive = np.ones(k.size, dtype=bool)
                alive[leaving] = False
                k, nxt, values = k[alive], nxt[alive], values[alive]
                new = int(segment.new_subscribers(rng, month, one, converting_next)[0])
                if new:
                    k = np.concatenate([k, np.zeros(new, dtype=np.int64)])
                    nxt = np.concatenate([nxt, np.full(new, segment.first_renewal_of_new(month), dtype=np.int64)])
                    values = np.concatenate([values, rng.choice(segment.new_values, size=new,
                                                                p=segment.new_probabilities)])
                s[0], s[1], s[2] = k, nxt, values
                active[path, month] += k.size
                mrr[path, month] += values.sum()
    return active, mrr


# ---------------------------------------------------------------------------------------------
# (b) and (c) Cells, vectorised over paths.


class Block:
    """The cells of one segment that renew in the same months, as counts of shape (paths, groups),
    one column per (cell, MRR value), with room for the new cells of the horizon."""

    def __init__(self, segment, first_month, capacity, paths):
        self.segment = segment
        self.first_month = first_month  # the block renews from this month on, on the segment's clock
        self.counts = np.zeros((paths, capacity), dtype=np.int64)
        self.values = np.zeros(capacity)
        self.renewals = np.zeros(capacity)  # renewals survived, per column (its cell's)
        self.cell_starts = []
        self.cell_lengths = []
        self.size = 0

    def add_cell(self, renewals, values, counts):
        width = len(values)
        end = self.size + width
        self.values[self.size:end] = values
        self.renewals[self.size:end] = renewals
        self.counts[:, self.size:end] = counts
        self.cell_starts.append(self.size)
        self.cell_lengths.append(width)
        self.size = end


def layout(segments, months, paths):
    """Per segment, its blocks keyed by the residue of their renewal months, with the starting cells
    in them. A plan billed every n months has n blocks; one billed t times a year, one."""
    laid_out = []
    for segment in segments:
        n = segment.every_months or 1
        acquires = (segment.direct is not None or segment.trials is not None) and len(segment.new_values) > 0
        width = len(segment.new_values) if acquires else 0
        starting = [[] for _ in range(n)]
        for cell in segment.cells:
            starting[cell["next_renewal_offset_months"] % n].append(cell)
        blocks = []
        for r in range(n):
            new_cells = len(range(r, months, n))  # the cells started in months m with m % n == r
            capacity = sum(len(c["mrr"]) for c in starting[r]) + new_cells * width
            block = Block(segment, r, max(capacity, 1), paths)
            for cell in starting[r]:
                groups = [g for g in cell["mrr"] if g["subscribers"] > 0]
                if groups:
                    block.add_cell(cell["renewals_survived"], [g["mrr_major_units"] for g in groups],
                                   [g["subscribers"] for g in groups])
            block.cell_starts_array = np.array(block.cell_starts, dtype=np.int64)
            blocks.append(block)
        laid_out.append(blocks)
    return laid_out


def split_hypergeometric(rng, counts, starts, lengths, totals, leaving):
    """Allots each cell's churners (paths, cells) to its MRR groups by successive hypergeometric
    draws; returns the churners per column, like `counts`."""
    out = np.zeros_like(counts)
    single = lengths == 1
    out[:, starts[single]] = leaving[:, single]
    multi = np.flatnonzero(~single)
    if multi.size:
        remaining_draws = leaving[:, multi]
        remaining_population = totals[:, multi]
        multi_starts, multi_lengths = starts[multi], lengths[multi]
        for j in range(multi_lengths.max() - 1):
            among = np.flatnonzero(multi_lengths > j + 1)
            columns = multi_starts[among] + j
            group = counts[:, columns]
            population = remaining_population[:, among]
            draws = remaining_draws[:, among]
            taken = rng.hypergeometric(group, population - group, draws)
            out[:, columns] = taken
            remaining_draws[:, among] = draws - taken
            remaining_population[:, among] = population - group
        out[:, multi_starts + multi_lengths - 1] = remaining_draws
    return out


def simulate_cells(segments, paths, months, rng, chunk, hypergeometric):
    """Returns (active, mrr) totals of shape (paths, months); the per-segment figures (active, MRR,
    new, churned, churned MRR) are computed on the way, as the engine does."""
    active = np.zeros((paths, months), dtype=np.int64)
    mrr = np.zeros((paths, months))
    for segment in segments:
        segment.draw(rng, paths)
    for begin in range(0, paths, chunk):
        chunk_paths = slice(begin, min(begin + chunk, paths))
        p = chunk_paths.stop - chunk_paths.start
        laid_out = layout(segments, months, p)
        s_count = len(segments)
        seg_active = np.zeros((p, s_count), dtype=np.int64)
        seg_mrr = np.zeros((p, s_count))
        for s, blocks in enumerate(laid_out):
            for block in blocks:
                seg_active[:, s] += block.counts[:, :block.size].sum(axis=1)
                seg_mrr[:, s] += np.einsum("ij,j->i", block.counts[:, :block.size], block.values[:block.size])
        converting = [segment.converting_at_start(rng, chunk_paths) for segment in segments]
        for month in range(months):
            for s, (segment, blocks) in enumerate(zip(segments, laid_out)):
                alpha = segment.alpha[chunk_paths, None]
                apb = segment.apb[chunk_paths, None]
                coef = segment.k_coefficient
                n = segment.every_months or 1
                block = blocks[month % n]
                churned = np.zeros(p, dtype=np.int64)
                churned_mrr = np.zeros(p)
                if block.size:
                    renewals = segment.renewals_due(block.first_month, month)
                    counts = block.counts[:, :block.size]
                    values = block.values[:block.size]
                    for _ in range(renewals):
                        if hypergeometric:
                            starts = block.cell_starts_array
                            lengths = np.array(block.cell_lengths, dtype=np.int64)
                            totals = np.add.reduceat(counts, starts, axis=1)
                            leaving_cells = rng.binomial(totals, alpha / (apb + coef * block.renewals[starts]))
                            leaving = split_hypergeometric(rng, counts, starts, lengths, totals, leaving_cells)
                        else:
                            leaving = rng.binomial(counts, alpha / (apb + coef * block.renewals[:block.size]))
                        counts -= leaving
                        block.renewals[:block.size] += 1
                        churned += leaving.sum(axis=1)
                        churned_mrr += np.einsum("ij,j->i", leaving, values)
                new = segment.new_subscribers(rng, month, chunk_paths, converting[s])
                new_mrr = np.zeros(p)
                width = len(segment.new_values)
                if width and (segment.direct is not None or segment.trials is not None):
                    # The new cell joins the block that renews one billing interval from now.
                    target = blocks[segment.first_renewal_of_new(month) % n]
                    assigned = new[:, None] if width == 1 else rng.multinomial(new, segment.new_probabilities)
                    target.add_cell(0, segment.new_values, assigned)
                    if hypergeometric:
                        target.cell_starts_array = np.array(target.cell_starts, dtype=np.int64)
                    new_mrr = np.einsum("ij,j->i", assigned, segment.new_values)
                seg_active[:, s] += new - churned
                seg_mrr[:, s] += new_mrr - churned_mrr
            active[chunk_paths, month] = seg_active.sum(axis=1)
            mrr[chunk_paths, month] = seg_mrr.sum(axis=1)
    return active, mrr


# ---------------------------------------------------------------------------------------------


def medians(label, active, mrr, months, note=""):
    cols = [m for m in (11, months - 1) if m < months]
    parts = [f"month {m + 1}: active {np.median(active[:, m]):,.1f}  MRR {np.median(mrr[:, m]):,.0f}" for m in cols]
    print(f"  {label:<22} medians  " + "   ".join(parts) + note)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("twin")
    parser.add_argument("paths", type=int)
    parser.add_argument("months", type=int)
    parser.add_argument("mode", nargs="?", default="both",
                        choices=["subscriber", "cells", "cells-hypergeometric", "both", "all"])
    parser.add_argument("--subscriber-paths", type=int, default=None,
                        help="run only this many paths subscriber by subscriber and extrapolate the time")
    parser.add_argument("--chunk", type=int, default=1000, help="paths per chunk of the cell-level versions")
    parser.add_argument("--seed", type=int, default=20251231)
    parser.add_argument("--engine", default=None, help="the engine's `subtwin simulate --json` report, to compare")
    args = parser.parse_args()

    start_month_index, segments = load(args.twin)
    subscribers = sum(g["subscribers"] for s in segments for c in s.cells for g in c["mrr"])
    cells = sum(len(s.cells) for s in segments)
    groups = sum(len(c["mrr"]) for s in segments for c in s.cells)
    print(f"numpy {np.__version__}, python {sys.version.split()[0]}")
    print(f"twin: {len(segments)} segments, {cells} cells, {groups} MRR groups, {subscribers:,} subscribers"
          f" at the start; {args.paths} paths x {args.months} months")

    modes = {"both": ["subscriber", "cells"], "all": ["subscriber", "cells", "cells-hypergeometric"]}
    for mode in modes.get(args.mode, [args.mode]):
        rng = np.random.default_rng(args.seed)
        run_paths = args.paths
        if mode == "subscriber" and args.subscriber_paths:
            run_paths = min(args.subscriber_paths, args.paths)
        wall, cpu = time.perf_counter(), time.process_time()
        if mode == "subscriber":
            active, mrr = simulate_subscribers(segments, run_paths, args.months, rng)
        else:
            active, mrr = simulate_cells(segments, run_paths, args.months, rng, args.chunk,
                                         hypergeometric=(mode == "cells-hypergeometric"))
        wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
        if run_paths < args.paths:
            scale = args.paths / run_paths
            print(f"  {mode:<22} {wall * 1000:12.0f} ms wall, {cpu * 1000:.0f} ms CPU for {run_paths} paths;"
                  f" extrapolated linearly to {args.paths} paths: {wall * scale * 1000:,.0f} ms wall,"
                  f" {cpu * scale * 1000:,.0f} ms CPU")
        else:
            print(f"  {mode:<22} {wall * 1000:12.0f} ms wall, {cpu * 1000:.0f} ms CPU")
        medians(mode, active, mrr, args.months, f"  (over {run_paths} paths)")

    if args.engine:
        with open(args.engine) as f:
            report = json.load(f)
        mid = report["probabilities"].index(0.5)
        total = report["total"]
        cols = [m for m in (11, args.months - 1) if m < len(total["active"])]
        parts = [f"month {m + 1}: active {total['active'][m][mid]:,.1f}  MRR {total['mrr'][m][mid]:,.0f}" for m in cols]
        print(f"  {'engine (report)':<22} medians  " + "   ".join(parts) + f"  (over {report['paths']} paths)")


if __name__ == "__main__":
    main()
