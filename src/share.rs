//! Share links: a scenario's results, sent as a link that opens the same numbers for anyone, with no
//! data and no server.
//!
//! The link's fragment (the part after `#`, which a browser never sends to a server) is
//! `s2.<payload>`: `s2` the payload format, then the payload, compact JSON compressed with raw
//! deflate (by Zopfli) and written in base64url without padding. Links in the earlier format, `s1.`,
//! still open to what they opened to (see "The wire format" below for what differs). The payload
//! holds a *shared twin* (the calibrated twin with its parameters rounded to what their intervals
//! justify and its starting state coarsened so that it singles out nobody), the scenarios, the
//! horizon, the seed and the number of paths, the engine version ([`crate::sim::ENGINE_VERSION`]) and
//! a digest of the results the sender saw (the first 16 hex digits of the SHA-256 of the `subtwin
//! simulate --json` report of the shared twin, without its final newline).
//!
//! **What travels, and the five-subscriber rule** ([`shared_twin`]): no cell (subscribers of a
//! segment sharing a renewal age and a renewal month), no MRR value within a cell, no value of a
//! segment's new-subscriber MRR distribution and no segment describes fewer than [`MIN_GROUP`]
//! subscribers. First, the ages of a renewal month whose churn probabilities differ by under a
//! fifth ([`AGE_HAZARD_SPAN`]) are taken as one cell, at the age of their mean probability, which
//! keeps links short whatever the size of the business. Then small cells are merged with their
//! neighbours of the same renewal month (adjacent renewal ages; the merged cell takes the
//! subscribers' mean age, rounded), then with the nearest renewal month; small MRR groups of a cell
//! are merged with their neighbouring values into their weighted mean, which keeps the cell's total
//! MRR (to the cent per renewal, the precision the link writes prices in); a small new-subscriber
//! MRR value moves its weight to the nearest value that has five (the list price stays where it
//! is). A segment with fewer than five subscribers in all, or that acquires subscribers with fewer
//! than five new-subscriber weights, is left out of the shared twin, and its notes say how many
//! were. Trials in progress below five are sent as none. The as-of instant travels to the day.
//! Segment names are replaced by neutral labels (`Segment A (month)`) unless the person keeps them;
//! the scenarios are rewritten to name the labels. No customer field, id or date is in a twin in
//! the first place.
//!
//! **Opening a link is reading untrusted input** ([`decode`]): the fragment's length is capped before
//! anything else, an unknown format is refused before decompressing, the inflated bytes are read
//! through a limited reader, every field is checked (the twin by [`Twin::check`] and the
//! five-subscriber rule, the scenarios by [`scenario::compile`], the run's options as `subtwin
//! simulate` checks them), and every error says what is wrong and what to do. Nothing panics.

use std::collections::BTreeMap;
use std::io::Read;

use base64::Engine as _;
use serde::{Deserialize, Serialize};
use sha2::{Digest as _, Sha256};

use crate::money::Currency;
use crate::report::simulate::SimulationReport;
use crate::report::Table;
use crate::scenario::{self, Change, Scenario};
use crate::twin::{
    Acquisition, BetaParams, Cadence, Cell, Covariance2, LearnedPriceResponse, MrrGroup, MrrMovements, NormalEstimate,
    PoissonTrend, Retention, SegmentTwin, Trials, Twin,
};
use crate::{CalibratedTwin, SimulateOptions};

/// The payload format this build writes: the `2` of `#s2.`. It reads this one and every earlier one
/// (from [`OLDEST_PAYLOAD_VERSION`]).
pub const PAYLOAD_VERSION: u32 = 2;
/// The earliest payload format this build reads: links in format `s1` still open.
pub const OLDEST_PAYLOAD_VERSION: u32 = 1;
/// No cell, MRR group, new-subscriber MRR value or segment of a shared twin describes fewer
/// subscribers than this.
pub const MIN_GROUP: u64 = 5;
/// The longest link this build opens, in characters (the whole link, or its fragment): far above
/// what a real twin needs, far below what would cost time to refuse.
pub const MAX_LINK_CHARS: usize = 64 * 1024;
/// The most bytes a link's payload may unpack to.
pub const MAX_PAYLOAD_BYTES: usize = 1024 * 1024;
/// The most notes a link may carry, and the longest note, in characters.
const MAX_NOTES: usize = 32;
const MAX_NOTE_CHARS: usize = 500;
/// The most digits of the digest: 16 hex digits (64 bits) of the report's SHA-256.
pub const DIGEST_HEX_DIGITS: usize = 16;

/// What a link carries, decoded and checked: the shared twin, the scenarios (naming the twin's
/// segments), the run's options, and what the sender's build said about the results.
#[derive(Clone, Debug, PartialEq)]
pub struct Link {
    pub twin: CalibratedTwin,
    pub scenarios: Vec<Scenario>,
    pub options: SimulateOptions,
    /// The [`crate::sim::ENGINE_VERSION`] of the build that made the link.
    pub engine_version: u32,
    /// [`report_digest`] of the results the sender saw.
    pub digest: String,
}

/// A shared twin, and how it was made from the full one.
#[derive(Clone, Debug, PartialEq)]
pub struct Shared {
    pub twin: CalibratedTwin,
    /// Each full twin's segment name that is in the shared twin, with its name there.
    pub renamed: BTreeMap<String, String>,
    /// The full twin's segments left out (fewer than [`MIN_GROUP`] subscribers).
    pub dropped: Vec<String>,
}

// --- The shared twin --------------------------------------------------------------------------------

/// The twin a link carries, made from the full calibrated twin: parameters rounded to what their
/// intervals justify, the starting state coarsened by the five-subscriber rule, neutral segment
/// names unless `keep_names` (see the module's documentation).
pub fn shared_twin(calibrated: &CalibratedTwin, keep_names: bool) -> Shared {
    let mut segments = Vec::new();
    let mut renamed = BTreeMap::new();
    let mut dropped = Vec::new();
    let mut trials_zeroed = 0usize;
    for segment in &calibrated.twin.segments {
        let Some((mut shared, zeroed)) = shared_segment(segment) else {
            dropped.push(segment.name.clone());
            continue;
        };
        if zeroed {
            trials_zeroed += 1;
        }
        if !keep_names {
            shared.name = neutral_name(segments.len(), shared.cadence);
        }
        renamed.insert(segment.name.clone(), shared.name.clone());
        segments.push(shared);
    }
    let twin = Twin {
        start_month_index: calibrated.twin.start_month_index,
        first_month_exposure: round_decimals(calibrated.twin.first_month_exposure, 3),
        segments,
    };
    let mut notes = if keep_names || calibrated.notes.is_empty() {
        calibrated.notes.clone()
    } else {
        vec![format!(
            "{} of the business's segments {} not in the twin: none of {} subscribers has churned yet, so {} \
             retention is unknown.",
            calibrated.notes.len(),
            if calibrated.notes.len() == 1 { "is" } else { "are" },
            if calibrated.notes.len() == 1 { "its" } else { "their" },
            if calibrated.notes.len() == 1 { "its" } else { "their" },
        )]
    };
    if !dropped.is_empty() {
        notes.push(format!(
            "{} segment(s) with fewer than {MIN_GROUP} subscribers are left out of this shared twin, so that no \
             customer can be singled out.",
            dropped.len()
        ));
    }
    if trials_zeroed > 0 {
        notes.push(format!(
            "Fewer than {MIN_GROUP} trials in progress at the start are shared as none ({trials_zeroed} segment(s))."
        ));
    }
    let as_of = match calibrated.as_of.get(..10) {
        Some(day) if calibrated.as_of.len() >= 10 => format!("{day}T00:00:00Z"),
        _ => calibrated.as_of.clone(),
    };
    Shared { twin: CalibratedTwin { twin, as_of, currency: calibrated.currency.clone(), notes }, renamed, dropped }
}

/// `A`, `B`, ..., `Z`, `AA`, `AB`, ...
fn letters(index: usize) -> String {
    let mut n = index + 1;
    let mut out = Vec::new();
    while n > 0 {
        let rem = (n - 1) % 26;
        out.push(b'A' + rem as u8);
        n = (n - 1) / 26;
    }
    out.reverse();
    String::from_utf8(out).unwrap_or_default()
}

/// The billing interval in a neutral name: `month`, `year`, `3 months`, `week`.
fn interval_label(cadence: Cadence) -> String {
    match cadence {
        Cadence::EveryMonths(1) => "month".into(),
        Cadence::EveryMonths(12) => "year".into(),
        Cadence::EveryMonths(months) if months % 12 == 0 => format!("{} years", months / 12),
        Cadence::EveryMonths(months) => format!("{months} months"),
        Cadence::TimesPerYear(52) => "week".into(),
        Cadence::TimesPerYear(26) => "2 weeks".into(),
        Cadence::TimesPerYear(365 | 366) => "day".into(),
        Cadence::TimesPerYear(times) => format!("{times} a year"),
    }
}

/// One segment as shared, with whether its trials in progress were zeroed; `None` when it
/// describes too few subscribers to share.
fn shared_segment(segment: &SegmentTwin) -> Option<(SegmentTwin, bool)> {
    let subscribers: u64 =
        segment.cells.iter().flat_map(|c| &c.mrr).fold(0u64, |sum, g| sum.saturating_add(g.subscribers));
    if subscribers < MIN_GROUP {
        return None;
    }
    let acquires = segment.acquisition.direct.is_some() || segment.acquisition.trials.is_some();
    let new_mrr = shared_new_mrr(&segment.new_mrr, segment.cadence);
    if acquires && new_mrr.is_empty() {
        return None;
    }
    let retention = rounded_retention(segment.retention);
    let cells = shared_cells(&binned_by_hazard(&segment.cells, &retention), segment.cadence);
    let mut zeroed = false;
    let trials = segment.acquisition.trials.as_ref().map(|trials| {
        let in_progress = if trials.in_progress_at_start < MIN_GROUP {
            zeroed = trials.in_progress_at_start > 0;
            0
        } else {
            trials.in_progress_at_start
        };
        Trials {
            starts: rounded_trend(&trials.starts),
            conversion: rounded_conversion(trials.conversion),
            lag_months: trials.lag_months,
            in_progress_at_start: in_progress,
        }
    });
    let shared = SegmentTwin {
        name: segment.name.clone(),
        cadence: segment.cadence,
        retention,
        acquisition: Acquisition { direct: segment.acquisition.direct.as_ref().map(rounded_trend), trials },
        new_mrr,
        cells,
        price_response: segment.price_response.map(|r| LearnedPriceResponse {
            churn_elasticity: r.churn_elasticity.map(rounded_estimate),
            acquisition_elasticity: r.acquisition_elasticity.map(rounded_estimate),
        }),
        movements: segment.movements.map(|m| MrrMovements {
            expansion: rounded_estimate(m.expansion),
            contraction: rounded_estimate(m.contraction),
        }),
    };
    Some((shared, zeroed))
}

/// Hundredths of a major unit per renewal: how a link writes an MRR value.
fn cents_of(mrr: f64, cadence: Cadence) -> u64 {
    let cents = (mrr * cadence.months_per_payment() * 100.0).round();
    if cents.is_finite() && cents > 0.0 {
        cents.min(1e15) as u64
    } else {
        0
    }
}

/// The MRR of a price in hundredths of a major unit per renewal.
fn mrr_of(cents: u64, cadence: Cadence) -> f64 {
    cents as f64 / 100.0 / cadence.months_per_payment()
}

/// Groups with equal values added together, zero counts dropped, in increasing value.
fn combined(groups: impl IntoIterator<Item = MrrGroup>) -> Vec<MrrGroup> {
    let mut by_value: BTreeMap<u64, u64> = BTreeMap::new();
    for group in groups {
        if group.subscribers > 0 && group.mrr_major_units.is_finite() {
            // Non-negative floats order as their bits do.
            let entry = by_value.entry(group.mrr_major_units.max(0.0).to_bits()).or_default();
            *entry = entry.saturating_add(group.subscribers);
        }
    }
    by_value
        .into_iter()
        .map(|(bits, subscribers)| MrrGroup { mrr_major_units: f64::from_bits(bits), subscribers })
        .collect()
}

/// MRR groups (a cell's subscribers, or a new-subscriber distribution's weights) with none under
/// [`MIN_GROUP`], given a total of at least that, keeping the total MRR: a value with five or more
/// stays as it is; the smaller ones are taken in increasing value and merged, a run at a time, into
/// their weighted mean as soon as a run has five; what is left at the end joins the last such run, or
/// when there is none the nearest value that has five (the most common value only when it is the
/// only one, so that the list price stays put), at their weighted mean. Then every value is written
/// to the cent per renewal. Empty when the total is under [`MIN_GROUP`].
fn merged_groups(groups: &[MrrGroup], cadence: Cadence) -> Vec<MrrGroup> {
    let groups = combined(groups.iter().copied());
    let total = groups.iter().fold(0u64, |sum, g| sum.saturating_add(g.subscribers));
    if total < MIN_GROUP {
        return Vec::new();
    }
    // (count, MRR sum) of each group kept, then of each run of small values.
    let mut large: Vec<(u64, f64)> = Vec::new();
    let mut runs: Vec<(u64, f64)> = Vec::new();
    let mut open = (0u64, 0.0f64);
    for group in &groups {
        let sum = group.mrr_major_units * group.subscribers as f64;
        if group.subscribers >= MIN_GROUP {
            large.push((group.subscribers, sum));
            continue;
        }
        open = (open.0.saturating_add(group.subscribers), open.1 + sum);
        if open.0 >= MIN_GROUP {
            runs.push(open);
            open = (0, 0.0);
        }
    }
    if open.0 > 0 {
        let mean = open.1 / open.0 as f64;
        let mode = large.iter().enumerate().max_by_key(|(_, g)| g.0).map(|(i, _)| i);
        let nearest_large = large
            .iter()
            .enumerate()
            .filter(|(i, _)| large.len() == 1 || Some(*i) != mode)
            .min_by(|(_, a), (_, b)| {
                let da = (a.1 / a.0 as f64 - mean).abs();
                let db = (b.1 / b.0 as f64 - mean).abs();
                da.total_cmp(&db)
            })
            .map(|(i, _)| i);
        let target = match (runs.last_mut(), nearest_large) {
            (Some(run), _) => Some(run),
            (None, Some(index)) => large.get_mut(index),
            (None, None) => None,
        };
        match target {
            Some(target) => *target = (target.0.saturating_add(open.0), target.1 + open.1),
            None => runs.push(open),
        }
    }
    let rounded = large.into_iter().chain(runs).map(|(count, sum)| MrrGroup {
        mrr_major_units: mrr_of(cents_of(sum / count.max(1) as f64, cadence), cadence),
        subscribers: count,
    });
    combined(rounded)
}

/// A new-subscriber MRR distribution as a link carries it ([`merged_groups`]).
fn shared_new_mrr(groups: &[MrrGroup], cadence: Cadence) -> Vec<MrrGroup> {
    merged_groups(groups, cadence)
}

fn cell_count(cell: &Cell) -> u64 {
    cell.mrr.iter().fold(0u64, |sum, g| sum.saturating_add(g.subscribers))
}

/// Cells merged into one: the subscribers' mean renewal age (rounded), the renewal month of the
/// largest, their MRR groups together (not yet merged by the five-subscriber rule).
fn merged_cell(cells: &[Cell]) -> Cell {
    let total: u128 = cells.iter().map(|c| u128::from(cell_count(c))).sum();
    let age_sum: u128 = cells.iter().map(|c| u128::from(cell_count(c)) * u128::from(c.renewals_survived)).sum();
    let age = (age_sum + total / 2).checked_div(total).unwrap_or(0);
    let largest = cells.iter().max_by_key(|c| cell_count(c)).map_or(0, |c| c.next_renewal_offset_months);
    Cell {
        renewals_survived: u32::try_from(age).unwrap_or(u32::MAX),
        next_renewal_offset_months: largest,
        mrr: combined(cells.iter().flat_map(|c| c.mrr.iter().copied())),
    }
}

/// How far apart the renewal churn probabilities of the ages merged into one shared cell may be: the
/// youngest age's at most `1 +` this times the oldest's. The merged cell renews with the mean of their
/// probabilities (see [`merged_run`]), so each age's is within about 10% of the one it is given, and
/// the cell as a whole churns as its ages did; the fitted probabilities are themselves uncertain by
/// about that much (a variance of logit m of 0.01 is a standard error of 10%). On the demo company at
/// 5,500 to 50,000 subscriptions, the medians at 24 months move by 0.2% or less.
pub(crate) const AGE_HAZARD_SPAN: f64 = 0.2;

/// The oldest renewal age whose churn probability at its next renewal is within [`AGE_HAZARD_SPAN`]
/// of that of `first`: under the sBG, the probability after `k` renewals is `alpha / (alpha + beta +
/// k)`, so ages up to `first + span * (alpha + beta + first)` qualify; under a geometric retention
/// every age does.
fn last_age_like(retention: &Retention, first: u32) -> u32 {
    match *retention {
        Retention::ShiftedBetaGeometric { alpha, beta, .. } => {
            let width = (AGE_HAZARD_SPAN * (alpha + beta + f64::from(first))).floor();
            if width.is_finite() && width >= 1.0 {
                first.saturating_add(width.min(f64::from(u32::MAX)) as u32)
            } else {
                first
            }
        }
        Retention::Geometric { .. } => u32::MAX,
    }
}

/// A segment's starting cells with the ages of each renewal month taken in runs whose churn
/// probabilities barely differ ([`last_age_like`]), each run merged into one cell ([`merged_run`]).
/// Fewer cells make a shorter link and a faster simulation, and change the results far less than
/// the retention's own uncertainty does.
fn binned_by_hazard(cells: &[Cell], retention: &Retention) -> Vec<Cell> {
    let mut by_offset: BTreeMap<u32, Vec<&Cell>> = BTreeMap::new();
    for cell in cells.iter().filter(|c| cell_count(c) > 0) {
        by_offset.entry(cell.next_renewal_offset_months).or_default().push(cell);
    }
    let mut binned = Vec::new();
    for (_, mut group) in by_offset {
        group.sort_by_key(|c| c.renewals_survived);
        let mut run: Vec<Cell> = Vec::new();
        let mut last = 0;
        for cell in group {
            if run.first().is_some_and(|_| cell.renewals_survived > last) {
                binned.push(merged_run(&run, retention));
                run.clear();
            }
            if run.is_empty() {
                last = last_age_like(retention, cell.renewals_survived);
            }
            run.push(cell.clone());
        }
        if !run.is_empty() {
            binned.push(merged_run(&run, retention));
        }
    }
    binned
}

/// A run of ages merged into one cell ([`merged_cell`]) at the age whose churn probability is the
/// subscribers' mean one, rounded, rather than at their mean age: the probability is convex in the
/// age, so the mean age would understate the run's churn a little.
fn merged_run(run: &[Cell], retention: &Retention) -> Cell {
    let mut cell = merged_cell(run);
    if let (Retention::ShiftedBetaGeometric { alpha, beta, .. }, [_, _, ..]) = (*retention, run) {
        // Under the sBG, 1 / (alpha + beta + k) is proportional to the churn probability.
        let total: f64 = run.iter().map(|c| cell_count(c) as f64).sum();
        let mean_probability: f64 =
            run.iter().map(|c| cell_count(c) as f64 / (alpha + beta + f64::from(c.renewals_survived))).sum::<f64>()
                / total;
        let age = (1.0 / mean_probability - alpha - beta).round();
        let youngest = run.iter().map(|c| c.renewals_survived).min().unwrap_or(0);
        let oldest = run.iter().map(|c| c.renewals_survived).max().unwrap_or(0);
        if age.is_finite() {
            cell.renewals_survived = age.clamp(f64::from(youngest), f64::from(oldest)) as u32;
        }
    }
    cell
}

/// A segment's starting cells with none under [`MIN_GROUP`] subscribers, and no MRR group under it
/// either (given a segment of at least that many).
fn shared_cells(cells: &[Cell], cadence: Cadence) -> Vec<Cell> {
    let mut by_offset: BTreeMap<u32, Vec<Cell>> = BTreeMap::new();
    for cell in cells.iter().filter(|c| cell_count(c) > 0) {
        by_offset.entry(cell.next_renewal_offset_months).or_default().push(cell.clone());
    }
    let mut kept: Vec<Cell> = Vec::new();
    let mut orphans: Vec<Cell> = Vec::new();
    for (_, mut group) in by_offset {
        group.sort_by_key(|c| c.renewals_survived);
        let first_kept = kept.len();
        let mut run: Vec<Cell> = Vec::new();
        let mut count = 0u64;
        for cell in group {
            count = count.saturating_add(cell_count(&cell));
            run.push(cell);
            if count >= MIN_GROUP {
                kept.push(merged_cell(&run));
                run.clear();
                count = 0;
            }
        }
        if !run.is_empty() {
            if kept.len() > first_kept {
                if let Some(last) = kept.pop() {
                    run.push(last);
                    kept.push(merged_cell(&run));
                }
            } else {
                orphans.push(merged_cell(&run));
            }
        }
    }
    for orphan in orphans {
        let nearest = kept.iter().enumerate().min_by_key(|(_, c)| {
            (
                c.next_renewal_offset_months.abs_diff(orphan.next_renewal_offset_months),
                c.renewals_survived.abs_diff(orphan.renewals_survived),
            )
        });
        match nearest.map(|(i, _)| i) {
            Some(index) => {
                if let Some(cell) = kept.get_mut(index) {
                    *cell = merged_cell(&[cell.clone(), orphan]);
                }
            }
            None => kept.push(orphan),
        }
    }
    // Orphans merged together only when nothing else was kept; their total is the segment's.
    if kept.len() > 1 && kept.iter().any(|c| cell_count(c) < MIN_GROUP) {
        let all = merged_cell(&kept);
        kept = vec![all];
    }
    let mut shared: Vec<Cell> =
        kept.into_iter().map(|cell| Cell { mrr: merged_groups(&cell.mrr, cadence), ..cell }).collect();
    // Cells that came to share an age and renewal month are one cell.
    shared.sort_by_key(|c| (c.next_renewal_offset_months, c.renewals_survived));
    let mut out: Vec<Cell> = Vec::with_capacity(shared.len());
    for cell in shared {
        match out.last_mut() {
            Some(last)
                if last.renewals_survived == cell.renewals_survived
                    && last.next_renewal_offset_months == cell.next_renewal_offset_months =>
            {
                let groups: Vec<MrrGroup> = last.mrr.iter().chain(&cell.mrr).copied().collect();
                last.mrr = combined(groups);
            }
            _ => out.push(cell),
        }
    }
    out
}

// --- Rounding to what the intervals justify -------------------------------------------------------

/// `value` to `digits` significant digits (the nearest double to that decimal).
fn round_significant(value: f64, digits: u32) -> f64 {
    if !value.is_finite() || value == 0.0 || digits >= 17 {
        return value;
    }
    let text = format!("{:.*e}", digits.saturating_sub(1) as usize, value);
    text.parse().unwrap_or(value)
}

/// `value` to `decimals` decimal places.
fn round_decimals(value: f64, decimals: u32) -> f64 {
    if !value.is_finite() || decimals > 15 {
        return value;
    }
    let text = format!("{:.*}", decimals as usize, value);
    // Adding 0 turns -0 (a small negative number rounded) into 0.
    text.parse::<f64>().unwrap_or(value) + 0.0
}

/// `value` rounded so that the rounding error is under a tenth of `standard_error`: decimals `d`
/// with half a unit of the last, `0.5 x 10^-d`, at most `standard_error / 10`. Unrounded without an
/// uncertainty.
fn round_to_error(value: f64, standard_error: f64) -> f64 {
    if !(standard_error.is_finite() && standard_error > 0.0) {
        return value;
    }
    let decimals = libm::ceil(libm::log10(5.0 / standard_error));
    if decimals > 15.0 {
        return value;
    }
    round_decimals(value, decimals.max(0.0) as u32)
}

/// `value` rounded so that the relative rounding error is under a tenth of `relative_error` (a
/// standard error on the log scale): significant digits `n` with `0.5 x 10^(1-n)` at most
/// `relative_error / 10`.
fn round_to_relative_error(value: f64, relative_error: f64) -> f64 {
    if !(relative_error.is_finite() && relative_error > 0.0) {
        return value;
    }
    let digits = libm::ceil(1.0 + libm::log10(5.0 / relative_error)).max(2.0);
    if digits >= 17.0 {
        return value;
    }
    round_significant(value, digits as u32)
}

/// The significant digits of a variance or a standard error: the uncertainty of an uncertainty is
/// large (a variance estimated from n observations is uncertain by about sqrt(2 / n) of itself), two
/// digits say all of it.
const UNCERTAINTY_DIGITS: u32 = 2;
/// The decimals of a seasonal log multiplier. No interval is estimated for them, but a month's
/// multiplier rests on that calendar month's arrivals over a few years, a few hundred at most for a
/// segment with tens a month, so its standard error is 0.05 or more: rounding to 0.005 (half a
/// percent of the month's arrivals) stays under a tenth of it.
const SEASONAL_DECIMALS: u32 = 2;
/// The significant digits of an arrival dispersion (no interval either).
const DISPERSION_DIGITS: u32 = 3;

fn rounded_covariance(covariance: Covariance2) -> Covariance2 {
    let v1 = round_significant(covariance.variance_first, UNCERTAINTY_DIGITS);
    let v2 = round_significant(covariance.variance_second, UNCERTAINTY_DIGITS);
    let mut c = round_significant(covariance.covariance, UNCERTAINTY_DIGITS);
    if c * c > v1 * v2 * (1.0 + 1e-9) {
        // Rounding pushed the correlation past 1: the largest covariance the variances allow,
        // rounded towards zero.
        let bound = libm::sqrt(v1 * v2);
        let digits = UNCERTAINTY_DIGITS as i32 + 3;
        let scale = libm::pow(10.0, f64::from(digits) - libm::ceil(libm::log10(bound.max(f64::MIN_POSITIVE))));
        c = libm::copysign(libm::floor(bound * scale) / scale, c);
        if c * c > v1 * v2 * (1.0 + 1e-9) {
            c = 0.0;
        }
    }
    Covariance2 { variance_first: v1, variance_second: v2, covariance: c }
}

fn rounded_retention(retention: Retention) -> Retention {
    match retention {
        Retention::ShiftedBetaGeometric { alpha, beta, uncertainty } => {
            // The engine draws (logit m, logit p) around m = alpha / (alpha + beta) and
            // p = 1 / (alpha + beta + 1): logit m = ln alpha - ln beta and logit p = -ln(alpha + beta).
            // A relative error e on each of alpha and beta moves logit m by at most 2e and logit p by
            // at most e, so e is kept under a tenth of half the smaller standard error.
            let se_m = libm::sqrt(uncertainty.variance_first.max(0.0));
            let se_p = libm::sqrt(uncertainty.variance_second.max(0.0));
            let relative = se_m.min(se_p) / 2.0;
            Retention::ShiftedBetaGeometric {
                alpha: round_to_relative_error(alpha, relative),
                beta: round_to_relative_error(beta, relative),
                uncertainty: rounded_covariance(uncertainty),
            }
        }
        Retention::Geometric { churn_probability, variance_logit_churn } => {
            let p = churn_probability;
            let se = p * (1.0 - p) * libm::sqrt(variance_logit_churn.max(0.0));
            let mut rounded = round_to_error(p, se);
            let variance = round_significant(variance_logit_churn, UNCERTAINTY_DIGITS);
            if variance > 0.0 && (rounded <= 0.0 || rounded >= 1.0) {
                rounded = p;
            }
            Retention::Geometric { churn_probability: rounded, variance_logit_churn: variance }
        }
    }
}

fn rounded_trend(trend: &PoissonTrend) -> PoissonTrend {
    let se_intercept = libm::sqrt(trend.uncertainty.variance_first.max(0.0));
    let se_slope = libm::sqrt(trend.uncertainty.variance_second.max(0.0));
    PoissonTrend {
        log_rate_intercept: round_to_error(trend.log_rate_intercept, se_intercept),
        log_rate_slope_per_month: round_to_error(trend.log_rate_slope_per_month, se_slope),
        seasonal_log_multipliers: trend.seasonal_log_multipliers.map(|m| round_decimals(m, SEASONAL_DECIMALS)),
        uncertainty: rounded_covariance(trend.uncertainty),
        dispersion: round_significant(trend.dispersion, DISPERSION_DIGITS).max(1.0),
    }
}

/// Beta(a, b) for a conversion probability q = a / (a + b), whose standard deviation is
/// sqrt(q (1 - q) / (a + b + 1)); a relative change e of `a` moves q by about q (1 - q) e, so the
/// relative error allowed on each is 1 / sqrt((a + b + 1) q (1 - q)).
fn rounded_conversion(conversion: BetaParams) -> BetaParams {
    let (a, b) = (conversion.a, conversion.b);
    let q = a / (a + b);
    let relative = 1.0 / libm::sqrt((a + b + 1.0) * q * (1.0 - q));
    BetaParams { a: round_to_relative_error(a, relative), b: round_to_relative_error(b, relative) }
}

fn rounded_estimate(estimate: NormalEstimate) -> NormalEstimate {
    NormalEstimate {
        estimate: round_to_error(estimate.estimate, estimate.standard_error),
        standard_error: round_significant(estimate.standard_error, UNCERTAINTY_DIGITS),
    }
}

// --- The scenarios ----------------------------------------------------------------------------------

/// A scenario rewritten for the shared twin: every segment it names under its shared name. A
/// segment left out of the shared twin is refused, saying why and what to do.
pub fn shared_scenario(scenario: &Scenario, shared: &Shared) -> Result<Scenario, String> {
    let rename = |name: &String| -> Result<String, String> {
        if let Some(new) = shared.renamed.get(name) {
            return Ok(new.clone());
        }
        if shared.dropped.contains(name) {
            return Err(format!(
                "scenario {:?} names the segment {name:?}, which has fewer than {MIN_GROUP} subscribers and so is \
                 not shared: take it out of the scenario to share it.",
                scenario.name
            ));
        }
        Ok(name.clone())
    };
    let rename_all = |names: &[String]| names.iter().map(rename).collect::<Result<Vec<_>, _>>();
    let mut out = scenario.clone();
    for change in &mut out.changes {
        match change {
            Change::Price { segments, .. }
            | Change::IntroDiscount { segments, .. }
            | Change::Acquisition { segments, .. }
            | Change::Churn { segments, .. }
            | Change::TrialConversion { segments, .. } => *segments = rename_all(segments)?,
            Change::MoveToAnnual { from_segment, to_segment, .. } => {
                *from_segment = rename(from_segment)?;
                *to_segment = rename(to_segment)?;
            }
            Change::NewPlan { like, takes, .. } => {
                *like = rename(like)?;
                for take in takes.iter_mut() {
                    take.segment = rename(&take.segment)?;
                }
            }
        }
    }
    Ok(out)
}

// --- Digest and verdict -----------------------------------------------------------------------------

/// The first [`DIGEST_HEX_DIGITS`] hex digits of the SHA-256 of a report's JSON
/// ([`crate::report::simulate::to_json`], without a final newline).
pub fn report_digest(report_json: &str) -> String {
    let hash = Sha256::digest(report_json.trim_end_matches('\n').as_bytes());
    hash.iter().take(DIGEST_HEX_DIGITS / 2).map(|b| format!("{b:02x}")).collect()
}

/// How the results a link opens compare with those its sender saw.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Verdict {
    /// The numbers are the sender's, to the byte.
    pub same: bool,
    /// The numbers differ because this build's engine differs from the sender's: recomputed.
    pub recomputed: bool,
    /// In words, for the page's banner and the command's stderr.
    pub message: String,
}

/// Compares the report a link's twin produced here with the digest the link carries.
pub fn verdict(link: &Link, report_json: &str) -> Verdict {
    let now = crate::sim::ENGINE_VERSION;
    if report_digest(report_json) == link.digest {
        let message = if link.engine_version == now {
            "These are the numbers the sender saw.".to_owned()
        } else {
            format!(
                "These are the numbers the sender saw (their engine was version {}, this one is version {now}).",
                link.engine_version
            )
        };
        return Verdict { same: true, recomputed: false, message };
    }
    if link.engine_version != now {
        return Verdict {
            same: false,
            recomputed: true,
            message: format!(
                "Recomputed: this link was made with engine version {}, and this version of subtwin (engine version \
                 {now}) simulates the same twin and scenarios to slightly different numbers than the sender saw.",
                link.engine_version
            ),
        };
    }
    Verdict {
        same: false,
        recomputed: false,
        message: "These numbers differ from the ones the sender saw, with the same engine version: the link may have \
                  been edited. Ask the sender for a new link."
            .to_owned(),
    }
}

// --- Making a link ----------------------------------------------------------------------------------

/// The fragment of a link (without `#`): `s2.` and the payload.
pub fn encode(link: &Link) -> Result<String, String> {
    check_five(&link.twin.twin)
        .map_err(|e| format!("the twin singles out customers: {e} Make it with share::shared_twin."))?;
    if link.twin.as_of.len() == 10 {
        return Err(format!(
            "the as-of instant {:?} is a day, where a twin has a day and a time: make the twin with \
             share::shared_twin.",
            link.twin.as_of
        ));
    }
    for segment in &link.twin.twin.segments {
        let cadence = segment.cadence;
        let written = |g: &MrrGroup| mrr_of(cents_of(g.mrr_major_units, cadence), cadence) == g.mrr_major_units;
        let in_order = segment.cells.windows(2).all(|pair| match pair {
            [a, b] => {
                (a.next_renewal_offset_months, a.renewals_survived)
                    < (b.next_renewal_offset_months, b.renewals_survived)
            }
            _ => true,
        });
        let increasing = |groups: &[MrrGroup]| {
            groups.windows(2).all(|pair| match pair {
                [a, b] => cents_of(a.mrr_major_units, cadence) < cents_of(b.mrr_major_units, cadence),
                _ => true,
            })
        };
        let trends = segment.acquisition.direct.iter().chain(segment.acquisition.trials.iter().map(|t| &t.starts));
        let seasonal =
            trends.flat_map(|trend| trend.seasonal_log_multipliers).all(|m| seasonal_hundredths(m).is_some());
        if !in_order
            || !seasonal
            || !increasing(&segment.new_mrr)
            || !segment.cells.iter().all(|cell| increasing(&cell.mrr))
            || !segment.new_mrr.iter().chain(segment.cells.iter().flat_map(|c| &c.mrr)).all(written)
        {
            return Err(format!(
                "the twin's segment {:?} is not as a shared twin has it (cells in order, prices to the cent and \
                 increasing within a cell, seasonal multipliers to the hundredth): make it with share::shared_twin.",
                segment.name
            ));
        }
    }
    let wire = serde_json::to_value(Wire::of(link))
        .map_err(|e| e.to_string())
        .and_then(positional_wire)
        .map_err(|e| format!("the link cannot be written ({e})."))?;
    let json = serde_json::to_vec(&whole_numbers_as_integers(wire))
        .map_err(|e| format!("the link cannot be written ({e})."))?;
    if json.len() > MAX_PAYLOAD_BYTES {
        return Err(format!(
            "the twin and scenarios take {} bytes, more than the {MAX_PAYLOAD_BYTES} a link may hold: share fewer \
             segments or scenarios.",
            json.len()
        ));
    }
    let mut packed = Vec::new();
    zopfli::compress(ZOPFLI, zopfli::Format::Deflate, json.as_slice(), &mut packed)
        .map_err(|e| format!("the link cannot be compressed ({e})."))?;
    let text = format!("s{PAYLOAD_VERSION}.{}", base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(packed));
    if text.len() > MAX_LINK_CHARS {
        return Err(format!(
            "the link would be {} characters, more than the {MAX_LINK_CHARS} a link may have: share fewer segments \
             or scenarios.",
            text.len()
        ));
    }
    Ok(text)
}

/// How hard Zopfli works on a link: 5 rounds of its optimal parsing and one block. Its defaults (15
/// rounds, up to 15 blocks) save 0 to 11 bytes more on the demo company's links at 1,000 to 50,000
/// subscribers and take 4 to 20 times as long (a third of a second for 50,000).
const ZOPFLI: zopfli::Options = zopfli::Options {
    iteration_count: std::num::NonZeroU64::MIN.saturating_add(4),
    iterations_without_improvement: std::num::NonZeroU64::MAX,
    maximum_block_splits: 0,
};

/// Everything a person shares, made from the full twin: the shared twin, the scenarios rewritten for
/// it, and the shared twin's report (whose digest the link carries). Scenarios come with a label for
/// messages, as [`crate::simulate_twin`] takes them.
pub fn make_link(
    calibrated: &CalibratedTwin,
    scenarios: &[(String, Scenario)],
    options: &SimulateOptions,
    keep_names: bool,
) -> Result<(Link, SimulationReport), String> {
    let shared = shared_twin(calibrated, keep_names);
    shared.twin.twin.check().map_err(|e| format!("the shared twin is not valid: {e}"))?;
    if shared.twin.twin.segments.is_empty() {
        return Err(format!(
            "no segment has {MIN_GROUP} subscribers or more, so there is nothing to share without singling out a \
             customer."
        ));
    }
    let mut rewritten = Vec::with_capacity(scenarios.len());
    for (label, scenario) in scenarios {
        rewritten.push((label.clone(), shared_scenario(scenario, &shared)?));
    }
    let report = crate::simulate_twin(&shared.twin, options, &rewritten)?;
    let digest = report_digest(&crate::report::simulate::to_json(&report));
    let link = Link {
        twin: shared.twin,
        scenarios: rewritten.into_iter().map(|(_, s)| s).collect(),
        options: *options,
        engine_version: crate::sim::ENGINE_VERSION,
        digest,
    };
    Ok((link, report))
}

// --- Opening a link ---------------------------------------------------------------------------------

/// What to do with a link that cannot be opened, said once for every message.
const ASK_AGAIN: &str = "Copy the whole link again, or ask the sender for a new one.";

/// Reads and checks a link: a whole address, or its fragment with or without `#`. Every refusal
/// says what is wrong and what to do.
pub fn decode(text: &str) -> Result<Link, String> {
    if text.len() > MAX_LINK_CHARS {
        return Err(format!(
            "This link is {} characters long, more than the {MAX_LINK_CHARS} a subtwin link may have: it is not one, \
             or it was damaged. {ASK_AGAIN}",
            text.len()
        ));
    }
    let text = text.trim();
    let fragment = match text.find('#') {
        Some(at) => text.get(at + 1..).unwrap_or(""),
        None => text,
    };
    let Some(rest) = fragment.strip_prefix('s') else {
        return Err(format!(
            "This is not a subtwin link: the part after # should start with s{PAYLOAD_VERSION}. {ASK_AGAIN}"
        ));
    };
    let Some((version, payload)) = rest.split_once('.') else {
        return Err(format!(
            "This is not a subtwin link: the part after # should start with s{PAYLOAD_VERSION}. {ASK_AGAIN}"
        ));
    };
    if version.is_empty() || version.len() > 9 || !version.bytes().all(|b| b.is_ascii_digit()) {
        return Err(format!(
            "This is not a subtwin link: the part after # should start with s{PAYLOAD_VERSION}. {ASK_AGAIN}"
        ));
    }
    let Some(version) = (OLDEST_PAYLOAD_VERSION..=PAYLOAD_VERSION).find(|v| v.to_string() == version) else {
        return Err(format!(
            "This link is in format s{version}, which this version of subtwin does not read (it reads formats \
             s{OLDEST_PAYLOAD_VERSION} to s{PAYLOAD_VERSION}). Open it with the version of subtwin that made it, or \
             ask the sender for a link from this version."
        ));
    };
    let packed = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(payload.as_bytes())
        .map_err(|e| format!("This link is damaged: its data is not base64url ({e}). {ASK_AGAIN}"))?;
    let mut json = Vec::new();
    let inflater = flate2::read::DeflateDecoder::new(packed.as_slice());
    inflater
        .take(MAX_PAYLOAD_BYTES as u64 + 1)
        .read_to_end(&mut json)
        .map_err(|_| format!("This link is damaged: its data does not unpack. {ASK_AGAIN}"))?;
    if json.len() > MAX_PAYLOAD_BYTES {
        return Err(format!(
            "This link unpacks to more than {MAX_PAYLOAD_BYTES} bytes, more than any subtwin link holds: it was not \
             made by subtwin. Ask the sender for a new link."
        ));
    }
    let wire: Wire = serde_json::from_slice(&json)
        .map_err(|e| e.to_string())
        .and_then(keyed_wire)
        .and_then(|value| serde_json::from_value(value).map_err(|e| e.to_string()))
        .map_err(|e| format!("This link is damaged: its data cannot be read ({e}). {ASK_AGAIN}"))?;
    wire.into_link(version).map_err(|e| format!("This link's {e} Ask the sender for a new link."))
}

/// Refuses a twin with a cell, an MRR group, a new-subscriber MRR value or a segment that describes
/// fewer than [`MIN_GROUP`] subscribers: a link never does.
pub fn check_five(twin: &Twin) -> Result<(), String> {
    for (index, segment) in twin.segments.iter().enumerate() {
        let at = format!("segments[{index}]");
        let total = segment.cells.iter().map(cell_count).fold(0u64, u64::saturating_add);
        if total < MIN_GROUP {
            return Err(format!("{at} describes {total} subscribers, fewer than {MIN_GROUP}."));
        }
        for (c, cell) in segment.cells.iter().enumerate() {
            let count = cell_count(cell);
            if count < MIN_GROUP {
                return Err(format!("{at}.cells[{c}] describes {count} subscribers, fewer than {MIN_GROUP}."));
            }
            if let Some((g, group)) = cell.mrr.iter().enumerate().find(|(_, g)| g.subscribers < MIN_GROUP) {
                return Err(format!(
                    "{at}.cells[{c}].mrr[{g}] describes {} subscribers, fewer than {MIN_GROUP}.",
                    group.subscribers
                ));
            }
        }
        if let Some((g, group)) = segment.new_mrr.iter().enumerate().find(|(_, g)| g.subscribers < MIN_GROUP) {
            return Err(format!(
                "{at}.new_mrr[{g}] weighs {} new subscribers, fewer than {MIN_GROUP}.",
                group.subscribers
            ));
        }
        if let Some(trials) = &segment.acquisition.trials {
            if trials.in_progress_at_start > 0 && trials.in_progress_at_start < MIN_GROUP {
                return Err(format!(
                    "{at} has {} trials in progress, fewer than {MIN_GROUP}.",
                    trials.in_progress_at_start
                ));
            }
        }
    }
    Ok(())
}

// --- The wire format --------------------------------------------------------------------------------
//
// Positional fields and flat arrays of numbers keep a link short; Zopfli's deflate does the rest.
// The payload, each segment and its trials are arrays, each field at its place ([`WIRE_FIELDS`]);
// the structs below name the fields by their letter. Money is written in hundredths of a major unit
// per renewal (a whole number); cells as [renewal age, renewal month offset, number of MRR groups,
// then (price, subscribers) per group], column by column; the new-subscriber MRR as (price, weight)
// pairs; a trend as [intercept, slope, variance of the intercept, of the slope, their covariance,
// dispersion], followed by the 12 seasonal log multipliers (in hundredths) when any is not 0. Small
// numbers compress best: prices within a cell (and in the new-subscriber MRR), which increase, as
// steps from the one before; counts of subscribers, never under [`MIN_GROUP`], as how many more they
// are. A value a reader can tell without it is left out: a segment's neutral name, trials' zero lag
// and zero trials in progress, the as-of instant's time when it is midnight, a scenario's version,
// the fields of a price response at their defaults.
//
// Format s1 (which this build still reads, and tells apart by its `s1.`) had objects with the same
// letters where s2 has arrays (an s2 reader takes either); each segment's prices once, in `p`, with
// `w` and `z` naming them by their position; counts of subscribers as they are; seasonal multipliers
// and the as-of instant as they are; the scenarios as their files write them (an s2 reader takes
// that too, [`scenario_of_wire`]).

#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct Wire {
    /// The engine version.
    e: u32,
    /// The digest of the sender's report.
    d: String,
    /// Horizon, paths, seed (a decimal string).
    h: u32,
    n: u32,
    s: String,
    /// The as-of instant (from s2 on, its day alone when it is the day's start, as a shared twin's
    /// is), the currency, the start month index, the first month's exposure.
    a: String,
    c: String,
    m: i32,
    x: f64,
    g: Vec<WireSegment>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    o: Vec<String>,
    /// The scenarios ([`wire_scenario`]; in s1, as their files write them without the fields left
    /// out, `null`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    k: Vec<serde_json::Value>,
}

/// The payload's fields, a segment's and trials', in the order a link from s2 on writes them: an
/// array instead of an object, each field at its place, `null` for one left out before the last that
/// is there ([`positional`]). s1 links have objects, which are read as they are.
const WIRE_FIELDS: [&str; 12] = ["e", "d", "h", "n", "s", "a", "c", "m", "x", "g", "k", "o"];
const WIRE_SEGMENT_FIELDS: [&str; 10] = ["c", "r", "a", "t", "w", "z", "pc", "pa", "v", "n"];
const WIRE_TRIALS_FIELDS: [&str; 5] = ["s", "a", "b", "l", "i"];

/// An object as the array of its `fields`' values, in their order, `null` for a field it does not
/// have, without the `null`s at the end; the error names a field it has that `fields` does not.
fn positional(value: serde_json::Value, fields: &[&str]) -> Result<serde_json::Value, String> {
    use serde_json::Value;
    let Value::Object(mut map) = value else {
        return Ok(value);
    };
    let mut items: Vec<Value> = fields.iter().map(|field| map.remove(*field).unwrap_or(Value::Null)).collect();
    if let Some(field) = map.keys().next() {
        return Err(format!("the field {field} has no place"));
    }
    while items.last().is_some_and(Value::is_null) {
        items.pop();
    }
    Ok(Value::Array(items))
}

/// [`positional`] undone for a link's (untrusted) value: an array as the object of `fields` (a
/// `null` is a field left out); anything else as it is, for the reader to check.
fn keyed(value: serde_json::Value, fields: &[&str], what: &str) -> Result<serde_json::Value, String> {
    use serde_json::Value;
    let Value::Array(items) = value else {
        return Ok(value);
    };
    if items.len() > fields.len() {
        return Err(format!("{what} has {} fields, more than the {} it may have", items.len(), fields.len()));
    }
    let present = fields.iter().zip(items).filter(|(_, item)| !item.is_null());
    Ok(Value::Object(present.map(|(field, item)| ((*field).to_owned(), item)).collect()))
}

/// The payload ([`Wire`] as a value) with its segments, their trials and itself positional.
fn positional_wire(mut wire: serde_json::Value) -> Result<serde_json::Value, String> {
    if let Some(serde_json::Value::Array(segments)) = wire.get_mut("g") {
        for segment in segments.iter_mut() {
            if let Some(trials) = segment.get_mut("t") {
                *trials = positional(trials.take(), &WIRE_TRIALS_FIELDS)?;
            }
            *segment = positional(segment.take(), &WIRE_SEGMENT_FIELDS)?;
        }
    }
    positional(wire, &WIRE_FIELDS)
}

/// [`positional_wire`] undone for a link's (untrusted) payload.
fn keyed_wire(wire: serde_json::Value) -> Result<serde_json::Value, String> {
    let mut wire = keyed(wire, &WIRE_FIELDS, "the payload")?;
    if let Some(serde_json::Value::Array(segments)) = wire.get_mut("g") {
        for segment in segments.iter_mut() {
            *segment = keyed(segment.take(), &WIRE_SEGMENT_FIELDS, "a segment")?;
            if let Some(trials) = segment.get_mut("t") {
                *trials = keyed(trials.take(), &WIRE_TRIALS_FIELDS, "a segment's trials")?;
            }
        }
    }
    Ok(wire)
}

/// Each scenario field's name (at any depth) and the short name a link writes for it. No short name
/// is a field's name, so a reader takes either: s1 links have the field names.
const SCENARIO_FIELDS: [(&str, &str); 31] = [
    ("version", "v"),
    ("name", "n"),
    ("changes", "c"),
    ("kind", "k"),
    ("segments", "g"),
    ("segment", "s"),
    ("month", "m"),
    ("until_month", "u"),
    ("notice_month", "o"),
    ("percent", "p"),
    ("price", "x"),
    ("applies_to", "a"),
    ("grandfather_months", "gm"),
    ("months", "mo"),
    ("response", "r"),
    ("like", "l"),
    ("takes", "t"),
    ("from_segment", "f"),
    ("to_segment", "to"),
    ("share_percent", "sp"),
    ("discount_percent", "dp"),
    ("churn_elasticity", "ce"),
    ("acquisition_elasticity", "ae"),
    ("first_renewal_shock", "fs"),
    ("use_learned", "ul"),
    ("fixed", "fx"),
    ("uniform", "un"),
    ("triangular", "tr"),
    ("low", "lo"),
    ("mode", "md"),
    ("high", "hi"),
];
/// A change's `kind` and the code a link writes for it.
const CHANGE_KIND_CODES: [(&str, &str); 7] = [
    ("price", "p"),
    ("intro_discount", "i"),
    ("move_to_annual", "y"),
    ("acquisition", "q"),
    ("churn", "c"),
    ("trial_conversion", "t"),
    ("new_plan", "n"),
];
/// A price change's `applies_to` and the code a link writes for it.
const APPLIES_TO_CODES: [(&str, &str); 3] =
    [("new_subscribers", "n"), ("next_renewal", "r"), ("after_grandfathering", "g")];
/// The fields of a change that name one of the twin's segments, and those that name several.
const SEGMENT_FIELDS: [&str; 3] = ["from_segment", "to_segment", "like"];
const SEGMENTS_FIELDS: [&str; 1] = ["segments"];

/// A scenario as a link writes it: without its `null` fields, without its version when it is this
/// build's, without the fields of a price response that are at their defaults; the segments of `twin`
/// it names by their position in the twin, its kinds of change and `applies_to` as codes, its fields
/// under their short names ([`SCENARIO_FIELDS`]). [`scenario_of_wire`] reads it back the same.
fn wire_scenario(scenario: &Scenario, twin: &Twin) -> serde_json::Value {
    use serde_json::Value;
    let Ok(mut value) = serde_json::to_value(scenario).map(without_nulls) else {
        return Value::Null;
    };
    // Compared as JSON text, which tells -0 from 0.
    let defaults = serde_json::to_value(scenario::Response::default()).unwrap_or(Value::Null);
    let position = |name: &mut Value| {
        let found = name.as_str().and_then(|n| twin.segments.iter().position(|s| s.name == n));
        if let Some(index) = found {
            *name = Value::from(index);
        }
    };
    if let Value::Object(fields) = &mut value {
        if fields.get("version") == Some(&Value::from(scenario::SCENARIO_VERSION)) {
            fields.remove("version");
        }
        if let Some(Value::Array(changes)) = fields.get_mut("changes") {
            for change in changes.iter_mut().filter_map(Value::as_object_mut) {
                if let Some(Value::Object(response)) = change.get_mut("response") {
                    response.retain(|key, v| defaults.get(key).map(Value::to_string) != Some(v.to_string()));
                }
                for key in SEGMENT_FIELDS {
                    if let Some(name) = change.get_mut(key) {
                        position(name);
                    }
                }
                for key in SEGMENTS_FIELDS {
                    if let Some(Value::Array(names)) = change.get_mut(key) {
                        names.iter_mut().for_each(position);
                    }
                }
                if let Some(Value::Array(takes)) = change.get_mut("takes") {
                    for take in takes.iter_mut().filter_map(Value::as_object_mut) {
                        if let Some(name) = take.get_mut("segment") {
                            position(name);
                        }
                    }
                }
                for (key, codes) in [("kind", &CHANGE_KIND_CODES[..]), ("applies_to", &APPLIES_TO_CODES[..])] {
                    if let Some(Value::String(text)) = change.get_mut(key) {
                        if let Some((_, code)) = codes.iter().find(|(long, _)| long == text) {
                            *text = (*code).to_owned();
                        }
                    }
                }
            }
        }
    }
    renamed_fields(value, |key| SCENARIO_FIELDS.iter().find(|(long, _)| *long == key).map(|(_, short)| *short))
        .unwrap_or(Value::Null)
}

/// A link's (untrusted) scenario read back ([`wire_scenario`] undone, which leaves a scenario as s1
/// links write it as it is), naming the segments of `twin`; the error says what is wrong.
fn scenario_of_wire(value: serde_json::Value, twin: &Twin, number: usize) -> Result<Scenario, String> {
    use serde_json::Value;
    let mut value =
        renamed_fields(value, |key| SCENARIO_FIELDS.iter().find(|(_, short)| *short == key).map(|(long, _)| *long))
            .map_err(|field| format!("scenario {number} has the field {field} twice."))?;
    let mut missing = None;
    let mut name_of = |name: &mut Value| {
        if let Value::Number(position) = name {
            match position.as_u64().and_then(|i| usize::try_from(i).ok()).and_then(|i| twin.segments.get(i)) {
                Some(segment) => *name = Value::from(segment.name.clone()),
                None => missing = Some(position.to_string()),
            }
        }
    };
    if let Value::Object(fields) = &mut value {
        fields.entry("version").or_insert(Value::from(scenario::SCENARIO_VERSION));
        if let Some(Value::Array(changes)) = fields.get_mut("changes") {
            for change in changes.iter_mut().filter_map(Value::as_object_mut) {
                for key in SEGMENT_FIELDS {
                    if let Some(name) = change.get_mut(key) {
                        name_of(name);
                    }
                }
                for key in SEGMENTS_FIELDS {
                    if let Some(Value::Array(names)) = change.get_mut(key) {
                        names.iter_mut().for_each(&mut name_of);
                    }
                }
                if let Some(Value::Array(takes)) = change.get_mut("takes") {
                    for take in takes.iter_mut().filter_map(Value::as_object_mut) {
                        if let Some(name) = take.get_mut("segment") {
                            name_of(name);
                        }
                    }
                }
                for (key, codes) in [("kind", &CHANGE_KIND_CODES[..]), ("applies_to", &APPLIES_TO_CODES[..])] {
                    if let Some(Value::String(text)) = change.get_mut(key) {
                        if let Some((long, _)) = codes.iter().find(|(_, code)| code == text) {
                            *text = (*long).to_owned();
                        }
                    }
                }
            }
        }
    }
    if let Some(position) = missing {
        return Err(format!(
            "scenario {number} names segment number {position}, and the twin has {} segments.",
            twin.segments.len()
        ));
    }
    serde_json::from_value(value).map_err(|e| format!("scenario {number} cannot be read: {e}."))
}

/// Every object's field names at every depth renamed by `rename` (the others kept); the error is a
/// name that two fields of one object come to have.
fn renamed_fields(
    value: serde_json::Value,
    rename: impl Fn(&str) -> Option<&'static str> + Copy,
) -> Result<serde_json::Value, String> {
    use serde_json::Value;
    Ok(match value {
        Value::Object(fields) => {
            let mut out = serde_json::Map::with_capacity(fields.len());
            for (key, item) in fields {
                let key = rename(&key).map_or(key, str::to_owned);
                let item = renamed_fields(item, rename)?;
                if out.contains_key(&key) {
                    return Err(key);
                }
                out.insert(key, item);
            }
            Value::Object(out)
        }
        Value::Array(items) => {
            Value::Array(items.into_iter().map(|v| renamed_fields(v, rename)).collect::<Result<_, _>>()?)
        }
        other => other,
    })
}

/// Whole numbers written without `.0` (they read back as the same doubles), at every depth.
fn whole_numbers_as_integers(value: serde_json::Value) -> serde_json::Value {
    match value {
        serde_json::Value::Number(number) => match number.as_f64() {
            Some(x) if number.is_f64() && x.fract() == 0.0 && x.abs() < 9e15 && !(x == 0.0 && x.is_sign_negative()) => {
                serde_json::Value::from(x as i64)
            }
            _ => serde_json::Value::Number(number),
        },
        serde_json::Value::Object(map) => {
            serde_json::Value::Object(map.into_iter().map(|(k, v)| (k, whole_numbers_as_integers(v))).collect())
        }
        serde_json::Value::Array(items) => {
            serde_json::Value::Array(items.into_iter().map(whole_numbers_as_integers).collect())
        }
        other => other,
    }
}

/// A value without its `null` fields, at every depth.
fn without_nulls(value: serde_json::Value) -> serde_json::Value {
    match value {
        serde_json::Value::Object(map) => serde_json::Value::Object(
            map.into_iter().filter(|(_, v)| !v.is_null()).map(|(k, v)| (k, without_nulls(v))).collect(),
        ),
        serde_json::Value::Array(items) => serde_json::Value::Array(items.into_iter().map(without_nulls).collect()),
        other => other,
    }
}

/// The cells' numbers column by column, which compresses far better than cell by cell (runs of equal
/// steps, ages and group counts): the number of cells, then each cell's renewal-month step, age code
/// and group count, then every group's price index, then every group's subscribers.
fn to_columns(flat: &[u64]) -> Vec<u64> {
    let (mut steps, mut ages, mut groups, mut prices, mut counts) = (vec![], vec![], vec![], vec![], vec![]);
    let mut rest = flat;
    while let Some((&[step, age, count], tail)) = rest.split_first_chunk::<3>() {
        let count = usize::try_from(count).unwrap_or(usize::MAX).min(tail.len() / 2);
        let (pairs, after) = tail.split_at(count * 2);
        steps.push(step);
        ages.push(age);
        groups.push(count as u64);
        for pair in pairs.chunks_exact(2) {
            prices.push(pair[0]);
            counts.push(pair[1]);
        }
        rest = after;
    }
    let mut columns = vec![steps.len() as u64];
    for column in [steps, ages, groups, prices, counts] {
        columns.extend(column);
    }
    columns
}

/// [`to_columns`] undone, for a link's (untrusted) numbers: the error says what does not add up.
fn from_columns(columns: &[u64]) -> Result<Vec<u64>, String> {
    let Some((&cells, rest)) = columns.split_first() else {
        return Ok(Vec::new());
    };
    let cells = usize::try_from(cells).ok().filter(|n| *n <= crate::twin::MAX_CELLS_PER_SEGMENT).ok_or_else(|| {
        format!(
            "the cells say there are {cells} of them, more than the {} a segment may have.",
            crate::twin::MAX_CELLS_PER_SEGMENT
        )
    })?;
    if rest.len() < 3 * cells {
        return Err(format!("the cells end before their {cells} renewal months, ages and group counts."));
    }
    let (heads, groups_part) = rest.split_at(3 * cells);
    let (steps, heads) = heads.split_at(cells);
    let (ages, group_counts) = heads.split_at(cells);
    let total =
        group_counts.iter().try_fold(0usize, |sum, g| usize::try_from(*g).ok().and_then(|g| sum.checked_add(g)));
    let Some(total) = total.filter(|t| t.checked_mul(2) == Some(groups_part.len())) else {
        return Err("the cells' MRR groups are not all there, or more are.".to_owned());
    };
    let (prices, counts) = groups_part.split_at(total);
    let mut flat = Vec::with_capacity(3 * cells + 2 * total);
    let mut group = 0;
    for ((step, age), count) in steps.iter().zip(ages).zip(group_counts) {
        flat.extend([*step, *age, *count]);
        for _ in 0..*count {
            flat.extend([prices[group], counts[group]]);
            group += 1;
        }
    }
    Ok(flat)
}

#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct WireSegment {
    /// The name, left out when it is the neutral label of the segment's position and billing interval.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    n: Option<String>,
    /// Every this many months when positive; this many times a year when negative.
    c: i64,
    /// sBG: [alpha, beta, variance of logit m, of logit p, covariance]; geometric: [p, variance].
    r: Vec<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    a: Option<Vec<f64>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    t: Option<WireTrials>,
    /// s1 only: every price of the segment once, in hundredths of a major unit per renewal, which
    /// `w` and `z` refer to by position.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    p: Vec<u64>,
    /// The new-subscriber MRR: (price, weight) pairs.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    w: Vec<u64>,
    /// The cells, in increasing renewal month and age: per cell, the renewal month's step from the
    /// previous cell's, the age (the step from the previous cell's age less 1 within a renewal
    /// month), the number of MRR groups, then (price, subscribers) per group; [`to_columns`].
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    z: Vec<u64>,
    /// The learned churn and acquisition elasticities: [estimate, standard error].
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pc: Option<[f64; 2]>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pa: Option<[f64; 2]>,
    /// Expansion and contraction: [estimate, standard error, estimate, standard error].
    #[serde(default, skip_serializing_if = "Option::is_none")]
    v: Option<[f64; 4]>,
}

#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct WireTrials {
    s: Vec<f64>,
    a: f64,
    b: f64,
    /// The lag in months and the trials in progress at the start.
    #[serde(default, skip_serializing_if = "is_zero")]
    l: u32,
    #[serde(default, skip_serializing_if = "is_zero")]
    i: u64,
}

fn is_zero<T: Default + PartialEq>(value: &T) -> bool {
    *value == T::default()
}

/// The time of day a shared twin's as-of instant has, which a link from s2 on leaves out.
const MIDNIGHT: &str = "T00:00:00Z";

/// From s2 on, a link writes a seasonal log multiplier in hundredths, a whole number: a shared twin
/// has them to [`SEASONAL_DECIMALS`] decimals. This is the link's unit, not that constant: a link
/// keeps its meaning whatever the rounding becomes.
const SEASONAL_PER_UNIT: f64 = 100.0;
/// The largest seasonal log multiplier a link writes, in hundredths (a multiplier of e^1000 is no
/// season).
const MAX_SEASONAL_HUNDREDTHS: f64 = 100_000.0;

/// A seasonal log multiplier in hundredths, when it is a whole number of them that reads back as the
/// same double (a shared twin's always is).
fn seasonal_hundredths(multiplier: f64) -> Option<f64> {
    let hundredths = (multiplier * SEASONAL_PER_UNIT).round();
    let exact = hundredths.abs() <= MAX_SEASONAL_HUNDREDTHS
        && (hundredths / SEASONAL_PER_UNIT).to_bits() == multiplier.to_bits();
    exact.then_some(hundredths)
}

fn wire_trend(trend: &PoissonTrend) -> Vec<f64> {
    let mut out = vec![
        trend.log_rate_intercept,
        trend.log_rate_slope_per_month,
        trend.uncertainty.variance_first,
        trend.uncertainty.variance_second,
        trend.uncertainty.covariance,
        trend.dispersion,
    ];
    if trend.seasonal_log_multipliers.iter().any(|m| *m != 0.0) {
        // encode has checked that every multiplier is a whole number of hundredths.
        out.extend(trend.seasonal_log_multipliers.iter().map(|m| seasonal_hundredths(*m).unwrap_or(f64::NAN)));
    }
    out
}

/// A trend of a link in format `version` (s1 wrote seasonal multipliers as they are).
fn trend_of(field: &str, numbers: &[f64], version: u32) -> Result<PoissonTrend, String> {
    let (head, seasonal) = match numbers.len() {
        6 => (numbers, [0.0; 12]),
        18 => {
            let (head, tail) = numbers.split_at(6);
            let mut seasonal = [0.0; 12];
            seasonal.copy_from_slice(tail);
            if version >= 2 {
                for multiplier in &mut seasonal {
                    if !(multiplier.fract() == 0.0 && multiplier.abs() <= MAX_SEASONAL_HUNDREDTHS) {
                        return Err(format!(
                            "{field} has a seasonal multiplier of {multiplier} hundredths, not a whole number from \
                             -{MAX_SEASONAL_HUNDREDTHS} to {MAX_SEASONAL_HUNDREDTHS}."
                        ));
                    }
                    *multiplier /= SEASONAL_PER_UNIT;
                }
            }
            (head, seasonal)
        }
        n => return Err(format!("{field} has {n} numbers where a trend has 6 or 18.")),
    };
    let [intercept, slope, v1, v2, c, dispersion] =
        <[f64; 6]>::try_from(head).map_err(|_| format!("{field} is short."))?;
    Ok(PoissonTrend {
        log_rate_intercept: intercept,
        log_rate_slope_per_month: slope,
        seasonal_log_multipliers: seasonal,
        uncertainty: Covariance2 { variance_first: v1, variance_second: v2, covariance: c },
        dispersion,
    })
}

impl Wire {
    fn of(link: &Link) -> Wire {
        let twin = &link.twin.twin;
        Wire {
            e: link.engine_version,
            d: link.digest.clone(),
            h: link.options.horizon_months,
            n: link.options.paths,
            s: link.options.seed.to_string(),
            a: link
                .twin
                .as_of
                .strip_suffix(MIDNIGHT)
                .filter(|day| day.len() == 10)
                .unwrap_or(&link.twin.as_of)
                .to_owned(),
            c: link.twin.currency.code.clone(),
            m: twin.start_month_index,
            x: twin.first_month_exposure,
            g: twin.segments.iter().enumerate().map(|(index, segment)| WireSegment::of(segment, index)).collect(),
            o: link.twin.notes.clone(),
            k: link.scenarios.iter().map(|s| wire_scenario(s, twin)).collect(),
        }
    }

    /// The link a payload in format `version` carries, checked.
    fn into_link(self, version: u32) -> Result<Link, String> {
        if self.d.len() != DIGEST_HEX_DIGITS || !self.d.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f')) {
            return Err(format!("digest {:?} is not {DIGEST_HEX_DIGITS} lower-case hex digits.", self.d));
        }
        let seed = if !self.s.is_empty() && self.s.len() <= 20 && self.s.bytes().all(|b| b.is_ascii_digit()) {
            self.s.parse::<u64>().ok()
        } else {
            None
        };
        let Some(seed) = seed else {
            return Err(format!("seed {:?} is not a whole number from 0 to {}.", self.s, u64::MAX));
        };
        let options = SimulateOptions { horizon_months: self.h, paths: self.n, seed };
        crate::check_simulate_options(&options, self.k.len()).map_err(|e| format!("run: {e}"))?;
        let as_of = if version >= 2 && self.a.len() == 10 { format!("{}{MIDNIGHT}", self.a) } else { self.a };
        if as_of.len() > 32 || crate::import::values::parse_instant(&as_of).is_none() {
            return Err(format!("as-of instant {as_of:?} is not a date and time."));
        }
        let Some(currency) = Currency::from_code(&self.c) else {
            return Err(format!("currency {:?} is not an ISO 4217 code.", self.c));
        };
        if self.o.len() > MAX_NOTES || self.o.iter().any(|n| n.chars().count() > MAX_NOTE_CHARS) {
            return Err(format!("notes are more than {MAX_NOTES}, or longer than {MAX_NOTE_CHARS} characters."));
        }
        if self.g.len() > crate::twin::MAX_SEGMENTS {
            return Err(format!("twin has {} segments, more than {}.", self.g.len(), crate::twin::MAX_SEGMENTS));
        }
        let mut segments = Vec::with_capacity(self.g.len());
        for (index, segment) in self.g.into_iter().enumerate() {
            segments.push(segment.into_segment(version, index)?);
        }
        for (index, segment) in segments.iter().enumerate() {
            if segments.iter().take(index).any(|other| other.name == segment.name) {
                return Err(format!("twin names two segments {:?}.", segment.name));
            }
        }
        let twin = Twin { start_month_index: self.m, first_month_exposure: self.x, segments };
        twin.check().map_err(|e| format!("twin is not valid: {e}."))?;
        check_five(&twin).map_err(|e| format!("twin singles out customers: {e} subtwin's links never do."))?;
        let mut scenarios = Vec::with_capacity(self.k.len());
        for (index, value) in self.k.into_iter().enumerate() {
            let scenario = scenario_of_wire(value, &twin, index + 1)?;
            if scenario.version != scenario::SCENARIO_VERSION {
                return Err(format!(
                    "scenario {:?} is in version {}, not {}.",
                    scenario.name,
                    scenario.version,
                    scenario::SCENARIO_VERSION
                ));
            }
            scenario::compile(&scenario, &twin, options.horizon_months)
                .map_err(|e| format!("scenario {:?} does not fit its twin: {e}", scenario.name))?;
            scenarios.push(scenario);
        }
        Ok(Link {
            twin: CalibratedTwin { twin, as_of, currency, notes: self.o },
            scenarios,
            options,
            engine_version: self.e,
            digest: self.d,
        })
    }
}

/// The neutral label of the segment at `index` of a shared twin: `Segment A (month)`.
fn neutral_name(index: usize, cadence: Cadence) -> String {
    format!("Segment {} ({})", letters(index), interval_label(cadence))
}

impl WireSegment {
    fn of(segment: &SegmentTwin, index: usize) -> WireSegment {
        let cadence = segment.cadence;
        let c = match cadence {
            Cadence::EveryMonths(months) => i64::from(months),
            Cadence::TimesPerYear(times) => -i64::from(times),
        };
        let r = match segment.retention {
            Retention::ShiftedBetaGeometric { alpha, beta, uncertainty } => {
                vec![alpha, beta, uncertainty.variance_first, uncertainty.variance_second, uncertainty.covariance]
            }
            Retention::Geometric { churn_probability, variance_logit_churn } => {
                vec![churn_probability, variance_logit_churn]
            }
        };
        // Each price as the step from the one before it, and each count of subscribers above the
        // fewest a group has (encode has checked that prices increase and that no count is fewer).
        let steps = |groups: &[MrrGroup]| -> Vec<u64> {
            let mut before = 0;
            let mut out = Vec::with_capacity(2 * groups.len());
            for group in groups {
                let cents = cents_of(group.mrr_major_units, cadence);
                out.extend([cents.saturating_sub(before), group.subscribers.saturating_sub(MIN_GROUP)]);
                before = cents;
            }
            out
        };
        let w = steps(&segment.new_mrr);
        let mut z = Vec::new();
        let (mut offset, mut age) = (0u32, None::<u32>);
        for cell in &segment.cells {
            let same_offset = cell.next_renewal_offset_months == offset;
            let offset_step = cell.next_renewal_offset_months.wrapping_sub(offset);
            let age_code = match (same_offset, age) {
                (true, Some(previous)) => cell.renewals_survived.wrapping_sub(previous).wrapping_sub(1),
                _ => cell.renewals_survived,
            };
            z.extend([u64::from(offset_step), u64::from(age_code), cell.mrr.len() as u64]);
            z.extend(steps(&cell.mrr));
            offset = cell.next_renewal_offset_months;
            age = Some(cell.renewals_survived);
        }
        let pair = |e: NormalEstimate| [e.estimate, e.standard_error];
        WireSegment {
            n: (segment.name != neutral_name(index, cadence)).then(|| segment.name.clone()),
            c,
            r,
            a: segment.acquisition.direct.as_ref().map(wire_trend),
            t: segment.acquisition.trials.as_ref().map(|t| WireTrials {
                s: wire_trend(&t.starts),
                a: t.conversion.a,
                b: t.conversion.b,
                l: t.lag_months,
                i: t.in_progress_at_start,
            }),
            p: Vec::new(),
            w,
            z: to_columns(&z),
            pc: segment.price_response.and_then(|p| p.churn_elasticity).map(pair),
            pa: segment.price_response.and_then(|p| p.acquisition_elasticity).map(pair),
            v: segment.movements.map(|m| {
                [m.expansion.estimate, m.expansion.standard_error, m.contraction.estimate, m.contraction.standard_error]
            }),
        }
    }

    /// The segment at `index` of a link in format `version`.
    fn into_segment(self, version: u32, index: usize) -> Result<SegmentTwin, String> {
        let at = &format!("twin: segments[{index}]");
        let cadence = match self.c {
            1..=60 => Cadence::EveryMonths(self.c as u32),
            -366..=-13 => Cadence::TimesPerYear(self.c.unsigned_abs() as u32),
            other => return Err(format!("{at}: billing interval code {other} is not one (1 to 60, or -13 to -366).")),
        };
        let retention = match self.r.as_slice() {
            &[alpha, beta, v1, v2, c] => Retention::ShiftedBetaGeometric {
                alpha,
                beta,
                uncertainty: Covariance2 { variance_first: v1, variance_second: v2, covariance: c },
            },
            &[p, variance] => Retention::Geometric { churn_probability: p, variance_logit_churn: variance },
            other => return Err(format!("{at}: retention has {} numbers where it has 5 or 2.", other.len())),
        };
        let direct = match &self.a {
            Some(numbers) => Some(trend_of(&format!("{at}: direct arrivals"), numbers, version)?),
            None => None,
        };
        let trials = match &self.t {
            Some(t) => Some(Trials {
                starts: trend_of(&format!("{at}: trial starts"), &t.s, version)?,
                conversion: BetaParams { a: t.a, b: t.b },
                lag_months: t.l,
                in_progress_at_start: t.i,
            }),
            None => None,
        };
        if self.p.len() > crate::twin::MAX_MRR_VALUES.saturating_mul(2) {
            return Err(format!("{at}: more than {} prices.", crate::twin::MAX_MRR_VALUES * 2));
        }
        if version >= 2 && !self.p.is_empty() {
            return Err(format!("{at}: has a list of prices, which links in format s{version} do not have."));
        }
        let mrr_at_most = |cents: u64| -> Result<f64, String> {
            let mrr = mrr_of(cents, cadence);
            if mrr > crate::twin::MAX_MRR_MAJOR_UNITS {
                return Err(format!("{at}: the price {cents} is above the largest MRR."));
            }
            Ok(mrr)
        };
        let palette = self.p.iter().map(|&cents| mrr_at_most(cents)).collect::<Result<Vec<f64>, String>>()?;
        // From s2 on, a price is the step from the one before it in its cell (or in the
        // new-subscriber MRR), the first from 0; in s1, its position in the palette.
        let price = |written: u64, before: &mut u64| -> Result<f64, String> {
            if version >= 2 {
                *before = before.checked_add(written).ok_or_else(|| format!("{at}: a price is too large."))?;
                return mrr_at_most(*before);
            }
            usize::try_from(written).ok().and_then(|i| palette.get(i).copied()).ok_or_else(|| {
                format!("{at}: price number {written} is not among the segment's {} prices.", palette.len())
            })
        };
        // From s2 on, a group's count is written above the fewest a group has; s1 wrote it as it is.
        let subscribers_of = |written: u64| -> Result<u64, String> {
            let offset = if version >= 2 { MIN_GROUP } else { 0 };
            written.checked_add(offset).ok_or_else(|| format!("{at}: a count of {written} subscribers is too large."))
        };
        if !self.w.len().is_multiple_of(2) || self.w.len() / 2 > crate::twin::MAX_MRR_VALUES {
            return Err(format!("{at}: the new-subscriber prices are not (price, weight) pairs, or too many."));
        }
        let mut new_mrr = Vec::with_capacity(self.w.len() / 2);
        let mut before = 0;
        for pair in self.w.chunks_exact(2) {
            if let &[written, weight] = pair {
                let mrr_major_units = price(written, &mut before)?;
                new_mrr.push(MrrGroup { mrr_major_units, subscribers: subscribers_of(weight)? });
            }
        }
        let mut cells = Vec::new();
        let flat = from_columns(&self.z).map_err(|problem| format!("{at}: {problem}"))?;
        let mut rest = flat.as_slice();
        let (mut offset, mut age) = (0u64, None::<u64>);
        while !rest.is_empty() {
            let Some((&[offset_step, age_code, groups], tail)) = rest.split_first_chunk::<3>() else {
                return Err(format!("{at}: the cells end in the middle of a cell."));
            };
            if cells.len() >= crate::twin::MAX_CELLS_PER_SEGMENT {
                return Err(format!("{at}: more than {} cells.", crate::twin::MAX_CELLS_PER_SEGMENT));
            }
            let count = usize::try_from(groups).unwrap_or(usize::MAX);
            if count > crate::twin::MAX_MRR_VALUES || count.saturating_mul(2) > tail.len() {
                return Err(format!(
                    "{at}: cells[{}] says it has {groups} MRR groups, which are not there.",
                    cells.len()
                ));
            }
            let (pairs, after) = tail.split_at(count * 2);
            let mut mrr = Vec::with_capacity(count);
            let mut before = 0;
            for pair in pairs.chunks_exact(2) {
                if let &[written, subscribers] = pair {
                    let mrr_major_units = price(written, &mut before)?;
                    mrr.push(MrrGroup { mrr_major_units, subscribers: subscribers_of(subscribers)? });
                }
            }
            let cell_offset = offset.checked_add(offset_step);
            let cell_age = match (offset_step, age) {
                (0, Some(previous)) => previous.checked_add(age_code).and_then(|a| a.checked_add(1)),
                _ => Some(age_code),
            };
            let whole = |value: Option<u64>, what: &str| {
                value
                    .and_then(|v| u32::try_from(v).ok())
                    .ok_or_else(|| format!("{at}: cells[{}].{what} is too large.", cells.len()))
            };
            let cell = Cell {
                renewals_survived: whole(cell_age, "renewal age")?,
                next_renewal_offset_months: whole(cell_offset, "renewal month")?,
                mrr,
            };
            offset = u64::from(cell.next_renewal_offset_months);
            age = Some(u64::from(cell.renewals_survived));
            cells.push(cell);
            rest = after;
        }
        let estimate = |[estimate, standard_error]: [f64; 2]| NormalEstimate { estimate, standard_error };
        let price_response = match (self.pc, self.pa) {
            (None, None) => None,
            (churn, acquisition) => Some(LearnedPriceResponse {
                churn_elasticity: churn.map(estimate),
                acquisition_elasticity: acquisition.map(estimate),
            }),
        };
        Ok(SegmentTwin {
            name: self.n.unwrap_or_else(|| neutral_name(index, cadence)),
            cadence,
            retention,
            acquisition: Acquisition { direct, trials },
            new_mrr,
            cells,
            price_response,
            movements: self.v.map(|[e1, s1, e2, s2]| MrrMovements {
                expansion: NormalEstimate { estimate: e1, standard_error: s1 },
                contraction: NormalEstimate { estimate: e2, standard_error: s2 },
            }),
        })
    }
}

// --- How far the shared twin's results are from the full data's -------------------------------------

/// What a link holds, in a sentence for the person who made it: its segments and scenarios, the
/// five-subscriber rule, and the length in characters of `whole_link` (the whole address).
/// `keep_names` is whether the segments travel under their own names; `how_to_keep` says how to keep
/// them otherwise.
pub fn link_summary(
    (segments, scenarios): (usize, usize),
    keep_names: bool,
    how_to_keep: &str,
    whole_link: &str,
) -> String {
    let names = if keep_names { "their own names".to_owned() } else { format!("neutral names ({how_to_keep})") };
    format!(
        "The link holds {} segment(s) under {names}, {} scenario(s), and no cell, price or segment of fewer than \
         {MIN_GROUP} subscribers; it is {} characters long.",
        segments,
        scenarios,
        whole_link.chars().count()
    )
}

/// One figure at the horizon, from the full data and from the shared twin.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Gap {
    /// `Baseline` or the scenario's name.
    pub run: String,
    /// `MRR` or `Paid subscribers`.
    pub figure: String,
    pub full: f64,
    pub shared: f64,
    /// (shared - full) / full; NaN when the full figure is 0.
    pub relative: f64,
}

/// The median MRR and paid subscribers at the horizon of the baseline and of each scenario (matched
/// by position), from the full twin's report and the shared twin's.
pub fn gaps(full: &SimulationReport, shared: &SimulationReport) -> Vec<Gap> {
    let median = crate::report::simulate::PROBABILITIES.iter().position(|p| *p == 0.5).unwrap_or(3);
    let at_horizon = |rows: &[Vec<f64>]| rows.last().and_then(|q| q.get(median)).copied().unwrap_or(f64::NAN);
    let mut out = Vec::new();
    let mut push = |run: &str,
                    full_total: &crate::report::simulate::TotalReport,
                    shared_total: &crate::report::simulate::TotalReport| {
        for (figure, f, s) in [
            ("MRR", at_horizon(&full_total.mrr), at_horizon(&shared_total.mrr)),
            ("Paid subscribers", at_horizon(&full_total.active), at_horizon(&shared_total.active)),
        ] {
            let relative = if f != 0.0 { (s - f) / f } else { f64::NAN };
            out.push(Gap { run: run.to_owned(), figure: figure.to_owned(), full: f, shared: s, relative });
        }
    };
    push("Baseline", &full.baseline.total, &shared.baseline.total);
    for (f, s) in full.scenarios.iter().zip(&shared.scenarios) {
        push(&f.name, &f.run.total, &s.run.total);
    }
    out
}

/// [`gaps`] as a table of display strings: the run, the figure, the full data's median, the shared
/// twin's and the relative difference.
pub fn gaps_table(full: &SimulationReport, shared: &SimulationReport) -> Table {
    let currency = Currency::from_code(&full.currency).unwrap_or(Currency {
        code: full.currency.clone(),
        minor_digits: 2,
        symbol: String::new(),
    });
    let last = full.months.last().cloned().unwrap_or_default();
    let rows = gaps(full, shared)
        .into_iter()
        .map(|gap| {
            let show = |value: f64| {
                if gap.figure == "MRR" {
                    crate::report::simulate_page::money(&currency, value)
                } else {
                    crate::report::simulate_page::count(value)
                }
            };
            let relative = if gap.relative.is_finite() {
                let text = format!("{:+.1}%", gap.relative * 100.0);
                if text == "-0.0%" {
                    "+0.0%".to_owned()
                } else {
                    text
                }
            } else {
                "n/a".to_owned()
            };
            vec![gap.run.clone(), gap.figure.clone(), show(gap.full), show(gap.shared), relative]
        })
        .collect();
    Table {
        columns: vec![
            "Run".into(),
            format!("Median in {last}"),
            "Full data".into(),
            "Shared twin".into(),
            "Difference".into(),
        ],
        rows,
    }
}

/// [`gaps_table`] as text, for the command's stderr.
pub fn gaps_text(full: &SimulationReport, shared: &SimulationReport) -> String {
    crate::report::render_table(&gaps_table(full, shared))
}

#[cfg(test)]
#[path = "share_tests.rs"]
mod tests;
