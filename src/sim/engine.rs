//! The forward simulation: a checked twin, with or without a scenario's [`Plan`], stepped month by
//! month over many paths.
//!
//! Each path first draws its parameters (per segment: retention from its uncertainty, the
//! acquisition trends, the trial conversion probability, and under a plan the price response), then
//! steps month by month. In a month, every cell whose renewal falls in it renews: its churners are
//! Binomial(n, h(k + 1)) with the path's hazard, and which MRR values leave is multivariate
//! hypergeometric over the cell's distinct values; the survivors move to age k + 1, pay for their
//! next billing interval, and renew next one interval later. Then new subscribers arrive, direct
//! starts Poisson at the month's rate and converted trials Binomial(trials, p) after the trial lag;
//! they form a new cell of age 0, each one's MRR drawn from the segment's new-subscriber distribution
//! (multinomial over its weights), and pay their first interval. Subscribers who start in a month do
//! not renew in it.
//!
//! Random streams. Every path, segment and purpose has its own stream of one `ChaCha8Rng`: the key
//! comes from the seed (`seed_from_u64`), the ChaCha stream number is the path's index, and within
//! that stream each (segment, purpose) starts at its own word position, 2^48 words apart. The
//! purposes are the parameters, the renewals, the acquisition and the scenario's own draws (price
//! response, migrations, new plans' share of arrivals). Draws made before the first month (the
//! parameters, the price response) come from the start of their block. Each month's draws come from
//! a `Xoshiro256PlusPlus` of its own, whose 256-bit state is the month's key, read from the block at
//! 2^36 words in plus 8 words a month: ChaCha8 keys the months, and the fast generator serves the
//! renewals' one or more numbers per cell. So a month's draws do not depend on how many earlier
//! months consumed, a path's numbers depend on the seed and its index alone (not on which other paths
//! are simulated, nor where, nor on the platform), and a scenario shares the baseline's draws
//! everywhere it does not change the inputs of a draw: common random numbers, which make the per-path
//! difference between a scenario and the baseline tell about the scenario rather than about luck. The
//! month-by-month draws are also independent of the horizon: a shorter run is the start of a longer
//! one.

use std::ops::Range;

use rand::RngCore;
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use rand_xoshiro::Xoshiro256PlusPlus;
use serde::{Deserialize, Serialize};

use super::plan::{factor_in, Plan, ResponseDraws, SegmentPlan, NEVER};
use super::sample;
use crate::twin::{Cadence, Covariance2, PoissonTrend, Retention, SegmentTwin, Twin, TwinError};

/// The most paths one run may have.
pub const MAX_PATHS: u32 = 1_000_000;
/// The longest horizon: 50 years.
pub const MAX_HORIZON_MONTHS: u32 = 600;
/// The most figures one call may hold (paths × months × (segments + 3)): 16.8 million, 268 MB at
/// 16 bytes each, which a browser tab can hold (1000 paths × 60 months × 9 series are 540,000).
/// Larger runs are simulated in batches of paths ([`simulate_paths`]).
pub const MAX_FIGURES_PER_BATCH: u64 = 1 << 24;
/// The most bytes a baseline keeps of its segments' flows (new, churned and billed: 32 bytes a
/// segment, month and path) so that scenarios can take the segments they leave unchanged from it
/// ([`reuse_fits`]): the demo company's 6 segments × 60 months × 10,000 paths are 115 MB.
pub const MAX_REUSE_BYTES: u64 = 128 << 20;
/// The largest expected number of starts in a month of one acquisition stream: a drawn trend that
/// grows past it stays at it, so that no draw of uncertain parameters can explode.
pub const MAX_RATE_PER_MONTH: f64 = 1e8;
/// `libm::log(MAX_RATE_PER_MONTH)`, bit for bit (a test checks it), without a logarithm a month.
const LN_MAX_RATE_PER_MONTH: f64 = 18.420_680_743_952_367;

/// What to simulate: how many paths, how far, from which seed.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SimOptions {
    /// The number of Monte Carlo paths of the whole run (1 to [`MAX_PATHS`]); a batch simulates
    /// some of them.
    pub paths: u32,
    /// Months to simulate from the twin's start month (1 to [`MAX_HORIZON_MONTHS`]).
    pub horizon_months: u32,
    /// The seed every path's stream is derived from, with the path's index.
    pub seed: u64,
}

/// One month of one path: a segment's figures, or the sum over segments.
#[derive(Clone, Copy, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct MonthFigures {
    /// Subscribers at the end of the month.
    pub active_subscribers: u64,
    /// Their MRR at the end of the month, in major currency units.
    pub mrr_major_units: f64,
    /// Paid subscribers who started in the month (direct, converted trials, and those a new plan
    /// took from another segment's arrivals); not those who moved between segments.
    pub new_subscribers: u64,
    /// Subscribers who churned at a renewal in the month.
    pub churned_subscribers: u64,
    /// The MRR they took with them, in major currency units.
    pub churned_mrr_major_units: f64,
    /// What was billed in the month, in major currency units: each renewal and each start pays its
    /// billing interval up front (an annual plan twelve months of MRR in its renewal month).
    pub billed_major_units: f64,
}

/// Which figures: one segment's (by its index: the twin's segments, then a plan's new ones) or the
/// sum over segments.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Series {
    Segment(usize),
    Total,
}

/// The simulated paths of one call, or of several batches appended in path order. The total keeps
/// every figure; each segment keeps its actives and MRR (what its fan chart needs), to bound memory,
/// and its other figures too in a baseline kept for reuse and in a partial simulation.
///
/// A partial simulation ([`simulate_changed_paths`]) holds only the segments its plan changes: the
/// others are the baseline's on the same paths, figure for figure, since each segment draws from
/// streams of its own. [`Simulation::complete`] takes them from a baseline kept for reuse
/// ([`simulate_reusable_paths`]) and sums the totals in the segments' order, so that the result is,
/// bit for bit, the whole simulation of the plan.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Simulation {
    pub options: SimOptions,
    /// As in the twin: the first simulated month, `year * 12 + (month - 1)`.
    pub start_month_index: i32,
    pub segment_names: Vec<String>,
    /// The indices of the paths held, within `0..options.paths`.
    pub paths: Range<u32>,
    /// Path-major: the total of path `paths.start + i`, month `m`, is at `i * horizon + m`.
    pub(super) totals: Vec<MonthFigures>,
    /// Path-major: segment `s` of path `paths.start + i`, month `m`, is at
    /// `(i * horizon + m) * segments + s`.
    pub(super) segments: Vec<SegmentMonth>,
    /// Laid out as `segments`: each segment's other figures, in a baseline kept for reuse and in a
    /// partial simulation; empty otherwise.
    #[serde(default)]
    pub(super) flows: Vec<SegmentFlows>,
    /// In a partial simulation, the segments it left to the baseline (their figures are 0 and
    /// `totals` is empty until [`Simulation::complete`]); `None` in a whole one.
    #[serde(default)]
    pending: Option<Vec<usize>>,
}

/// What a simulation keeps of a segment's month.
#[derive(Clone, Copy, Debug, Default, PartialEq, Serialize, Deserialize)]
pub(super) struct SegmentMonth {
    pub(super) active_subscribers: u64,
    pub(super) mrr_major_units: f64,
}

/// The rest of a segment's month, kept where a total may have to be summed again.
#[derive(Clone, Copy, Debug, Default, PartialEq, Serialize, Deserialize)]
pub(super) struct SegmentFlows {
    new_subscribers: u64,
    churned_subscribers: u64,
    churned_mrr_major_units: f64,
    billed_major_units: f64,
}

/// A segment's month split into what every simulation keeps and the rest.
fn split(figures: &MonthFigures) -> (SegmentMonth, SegmentFlows) {
    (
        SegmentMonth { active_subscribers: figures.active_subscribers, mrr_major_units: figures.mrr_major_units },
        SegmentFlows {
            new_subscribers: figures.new_subscribers,
            churned_subscribers: figures.churned_subscribers,
            churned_mrr_major_units: figures.churned_mrr_major_units,
            billed_major_units: figures.billed_major_units,
        },
    )
}

/// A segment's month whole again.
fn joined(month: &SegmentMonth, flows: &SegmentFlows) -> MonthFigures {
    MonthFigures {
        active_subscribers: month.active_subscribers,
        mrr_major_units: month.mrr_major_units,
        new_subscribers: flows.new_subscribers,
        churned_subscribers: flows.churned_subscribers,
        churned_mrr_major_units: flows.churned_mrr_major_units,
        billed_major_units: flows.billed_major_units,
    }
}

/// What a call keeps.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Keep {
    /// Every segment; the segments' actives and MRR.
    Whole,
    /// Every segment, with all of their figures: a baseline that scenarios take segments from.
    WholeWithFlows,
    /// The segments the plan changes, with all of their figures, and no totals.
    Changed,
}

impl Keep {
    /// The figures a path holds, in units of 16 bytes: a total is 3, a segment's month 1, or 3 with
    /// its flows.
    fn figures_per_path(self, horizon_months: u32, segments: usize) -> u64 {
        let per_segment = if self == Keep::Whole { 1 } else { 3 };
        u64::from(horizon_months) * (segments as u64 * per_segment + 3)
    }
}

/// Whether a baseline of `segments` segments keeps its flows for scenarios to reuse: within
/// [`MAX_REUSE_BYTES`]. The page's workers and the command decide alike; either way the numbers
/// are the same, only the time differs.
pub fn reuse_fits(segments: usize, horizon_months: u32, paths: u32) -> bool {
    u64::from(paths) * u64::from(horizon_months) * segments as u64 * 32 <= MAX_REUSE_BYTES
}

/// The most paths one call may simulate ([`MAX_FIGURES_PER_BATCH`]) for a twin of `segments`
/// segments (with a plan's new plans), keeping flows or not.
pub fn max_batch_paths(segments: usize, horizon_months: u32, flows: bool) -> u32 {
    let keep = if flows { Keep::WholeWithFlows } else { Keep::Whole };
    let per_path = keep.figures_per_path(horizon_months, segments).max(1);
    (MAX_FIGURES_PER_BATCH / per_path).clamp(1, u64::from(u32::MAX)) as u32
}

/// Which segments of a plan (the twin's, then its new plans) can differ from the baseline's on the
/// same path: a new plan, a segment whose plan changes anything, and one that sends or receives
/// migrants. Every other segment draws what the baseline draws, from its own streams, with the same
/// inputs.
pub fn changed_segments(plan: &Plan) -> Vec<bool> {
    let mut changed: Vec<bool> = plan.segments.iter().map(|s| *s != SegmentPlan::default()).collect();
    for migration in &plan.migrations {
        for index in [migration.from_segment, migration.to_segment] {
            if let Some(flag) = changed.get_mut(index) {
                *flag = true;
            }
        }
    }
    changed.extend(plan.new_plans.iter().map(|_| true));
    changed
}

impl Simulation {
    /// The figures of one path (its index in the whole run), month (0 is the start month) and
    /// series; `None` outside what this simulation holds. A segment's figures hold its actives and
    /// MRR only (the other fields are 0).
    pub fn figures(&self, path: u32, month: u32, series: Series) -> Option<MonthFigures> {
        if !self.paths.contains(&path) || month >= self.options.horizon_months {
            return None;
        }
        let row = (path - self.paths.start) as usize * self.options.horizon_months as usize + month as usize;
        match series {
            Series::Total => self.totals.get(row).copied(),
            Series::Segment(index) if index < self.segment_names.len() => {
                let segment = self.segments.get(row * self.segment_names.len() + index)?;
                Some(MonthFigures {
                    active_subscribers: segment.active_subscribers,
                    mrr_major_units: segment.mrr_major_units,
                    ..MonthFigures::default()
                })
            }
            Series::Segment(_) => None,
        }
    }

    /// One series in one month, over every path held, in path order (segments: actives and MRR
    /// only, as [`Simulation::figures`]).
    pub fn across_paths(&self, month: u32, series: Series) -> impl Iterator<Item = MonthFigures> + '_ {
        let valid = month < self.options.horizon_months;
        let paths = if valid { self.paths.clone() } else { 0..0 };
        paths.filter_map(move |path| self.figures(path, month, series))
    }

    /// The totals of one path, month by month; empty for a path not held.
    pub fn path_totals(&self, path: u32) -> &[MonthFigures] {
        if !self.paths.contains(&path) {
            return &[];
        }
        let horizon = self.options.horizon_months as usize;
        let start = (path - self.paths.start) as usize * horizon;
        self.totals.get(start..start + horizon).unwrap_or(&[])
    }

    /// Whether this is a partial simulation, waiting for [`Simulation::complete`].
    pub fn is_partial(&self) -> bool {
        self.pending.is_some()
    }

    /// The segments a partial simulation left to its baseline; `None` for a whole one.
    pub fn pending(&self) -> Option<&[usize]> {
        self.pending.as_deref()
    }

    /// Whether this is a whole simulation that kept every segment's flows, so that a partial
    /// simulation of the same run can be completed from it.
    pub fn keeps_flows(&self) -> bool {
        self.pending.is_none() && !self.flows.is_empty()
    }

    /// Completes a partial simulation ([`simulate_changed_paths`]) with the segments its plan left
    /// unchanged, taken from `baseline`, a simulation of the same run kept for reuse
    /// ([`simulate_reusable_paths`]) that holds these paths; then sums each month's totals over the
    /// segments in order, as the engine does. The result is the whole simulation of the plan, bit for
    /// bit. A whole simulation is left as it is.
    pub fn complete(&mut self, baseline: &Simulation) -> Result<(), SimError> {
        let Some(pending) = self.pending.as_ref() else {
            return Ok(());
        };
        let base_segments = baseline.segment_names.len();
        let same_run = baseline.options == self.options
            && baseline.start_month_index == self.start_month_index
            && self.segment_names.get(..base_segments) == Some(&baseline.segment_names[..])
            && pending.iter().all(|s| *s < base_segments);
        if !same_run {
            return Err(SimError::NotTheSameRun);
        }
        if !baseline.keeps_flows() {
            return Err(SimError::NothingToReuse);
        }
        if self.paths.start < baseline.paths.start || self.paths.end > baseline.paths.end {
            return Err(SimError::PathRange {
                start: self.paths.start,
                end: self.paths.end,
                paths: self.options.paths,
            });
        }
        let horizon = self.options.horizon_months as usize;
        let segments = self.segment_names.len();
        let rows = self.paths.len() * horizon;
        let offset = (self.paths.start - baseline.paths.start) as usize * horizon;
        let from_baseline: Vec<bool> = (0..segments).map(|s| pending.contains(&s)).collect();
        let mut totals = Vec::with_capacity(rows);
        let rows_here = self.segments.chunks_exact_mut(segments).zip(self.flows.chunks_exact_mut(segments));
        let rows_there = baseline.segments[offset * base_segments..]
            .chunks_exact(base_segments)
            .zip(baseline.flows[offset * base_segments..].chunks_exact(base_segments));
        for ((months, flows), (base_months, base_flows)) in rows_here.zip(rows_there).take(rows) {
            let mut total = MonthFigures::default();
            for (segment, taken) in from_baseline.iter().enumerate() {
                if *taken {
                    months[segment] = base_months[segment];
                    flows[segment] = base_flows[segment];
                }
                total = plus(total, &joined(&months[segment], &flows[segment]));
            }
            totals.push(total);
        }
        if totals.len() != rows {
            // Only a simulation whose figures do not match its own paths and horizon gets here.
            return Err(SimError::NotTheSameRun);
        }
        self.totals = totals;
        self.flows = Vec::new();
        self.pending = None;
        Ok(())
    }

    /// The simulation as bytes (little-endian, with its options, names and every figure), for
    /// handing a batch of paths from one worker to another; [`Simulation::from_bytes`] reads it back
    /// to the same bits. A partial simulation writes the segments it holds and no totals.
    pub fn to_bytes(&self) -> Vec<u8> {
        let segments = self.segment_names.len();
        let held: Vec<bool> = match &self.pending {
            Some(pending) => (0..segments).map(|s| !pending.contains(&s)).collect(),
            None => vec![true; segments],
        };
        let flows = !self.flows.is_empty();
        let per_segment = if flows { 48 } else { 16 };
        let mut out = Vec::with_capacity(64 + self.totals.len() * 48 + self.segments.len() * per_segment);
        out.extend_from_slice(ENCODING_MAGIC);
        for value in [self.options.paths, self.options.horizon_months, self.paths.start, self.paths.end] {
            out.extend_from_slice(&value.to_le_bytes());
        }
        out.extend_from_slice(&self.options.seed.to_le_bytes());
        out.extend_from_slice(&self.start_month_index.to_le_bytes());
        out.extend_from_slice(&(segments as u32).to_le_bytes());
        for name in &self.segment_names {
            out.extend_from_slice(&(name.len() as u32).to_le_bytes());
            out.extend_from_slice(name.as_bytes());
        }
        let kind = match (&self.pending, flows) {
            (None, false) => ENCODING_WHOLE,
            (None, true) => ENCODING_WITH_FLOWS,
            (Some(_), _) => ENCODING_PARTIAL,
        };
        out.push(kind);
        if let Some(pending) = &self.pending {
            out.extend_from_slice(&(pending.len() as u32).to_le_bytes());
            for segment in pending {
                out.extend_from_slice(&(*segment as u32).to_le_bytes());
            }
        }
        for total in &self.totals {
            out.extend_from_slice(&total.active_subscribers.to_le_bytes());
            out.extend_from_slice(&total.mrr_major_units.to_le_bytes());
            out.extend_from_slice(&total.new_subscribers.to_le_bytes());
            out.extend_from_slice(&total.churned_subscribers.to_le_bytes());
            out.extend_from_slice(&total.churned_mrr_major_units.to_le_bytes());
            out.extend_from_slice(&total.billed_major_units.to_le_bytes());
        }
        for (at, segment) in self.segments.iter().enumerate() {
            if !held[at % segments.max(1)] {
                continue;
            }
            out.extend_from_slice(&segment.active_subscribers.to_le_bytes());
            out.extend_from_slice(&segment.mrr_major_units.to_le_bytes());
            if let Some(flow) = self.flows.get(at) {
                out.extend_from_slice(&flow.new_subscribers.to_le_bytes());
                out.extend_from_slice(&flow.churned_subscribers.to_le_bytes());
                out.extend_from_slice(&flow.churned_mrr_major_units.to_le_bytes());
                out.extend_from_slice(&flow.billed_major_units.to_le_bytes());
            }
        }
        out
    }

    /// Reads [`Simulation::to_bytes`]' encoding, checking every length against the header.
    pub fn from_bytes(bytes: &[u8]) -> Result<Simulation, SimError> {
        let mut reader = ByteReader { bytes, at: 0 };
        if reader.take(ENCODING_MAGIC.len())? != ENCODING_MAGIC {
            return Err(SimError::Encoding("not a simulation's bytes".into()));
        }
        let paths = reader.u32()?;
        let horizon_months = reader.u32()?;
        let (start, end) = (reader.u32()?, reader.u32()?);
        let seed = reader.u64()?;
        let start_month_index = reader.u32()? as i32;
        let options = SimOptions { paths, horizon_months, seed };
        options.check()?;
        if start > end || end > paths {
            return Err(SimError::PathRange { start, end, paths });
        }
        let names = reader.u32()? as usize;
        if names > crate::twin::MAX_SEGMENTS + super::plan::MAX_CHANGES {
            return Err(SimError::Encoding(format!("{names} segments")));
        }
        let mut segment_names = Vec::with_capacity(names);
        for _ in 0..names {
            let length = reader.u32()? as usize;
            let name = std::str::from_utf8(reader.take(length)?)
                .map_err(|_| SimError::Encoding("a name is not UTF-8".into()))?;
            segment_names.push(name.to_owned());
        }
        let kind = reader.take(1)?[0];
        let pending = match kind {
            ENCODING_WHOLE | ENCODING_WITH_FLOWS => None,
            ENCODING_PARTIAL => {
                let count = reader.u32()? as usize;
                if count > names {
                    return Err(SimError::Encoding(format!("{count} segments left to the baseline of {names}")));
                }
                let mut pending = Vec::with_capacity(count);
                for _ in 0..count {
                    let segment = reader.u32()? as usize;
                    if segment >= names || pending.last().is_some_and(|last| *last >= segment) {
                        return Err(SimError::Encoding(format!("segment {segment} left to the baseline")));
                    }
                    pending.push(segment);
                }
                Some(pending)
            }
            other => return Err(SimError::Encoding(format!("kind {other}"))),
        };
        let flows = kind != ENCODING_WHOLE;
        let keep = if flows { Keep::WholeWithFlows } else { Keep::Whole };
        let figures = u64::from(end - start) * keep.figures_per_path(horizon_months, names);
        if figures > MAX_FIGURES_PER_BATCH {
            return Err(SimError::TooLarge { figures });
        }
        let rows = (end - start) as usize * horizon_months as usize;
        let held = names - pending.as_ref().map_or(0, Vec::len);
        let total_rows = if pending.is_some() { 0 } else { rows };
        if bytes.len() - reader.at != total_rows * 48 + rows * held * if flows { 48 } else { 16 } {
            return Err(SimError::Encoding("the figures' length does not match the header".into()));
        }
        // The lengths are checked: the figures are read in fixed-size chunks, without a check per
        // number.
        let (total_bytes, segment_bytes) = bytes
            .get(reader.at..)
            .and_then(|rest| rest.split_at_checked(total_rows * 48))
            .ok_or_else(|| SimError::Encoding("the bytes end early".into()))?;
        let totals: Vec<MonthFigures> = total_bytes
            .chunks_exact(48)
            .map(|c| MonthFigures {
                active_subscribers: u64_at(c, 0),
                mrr_major_units: f64_at(c, 8),
                new_subscribers: u64_at(c, 16),
                churned_subscribers: u64_at(c, 24),
                churned_mrr_major_units: f64_at(c, 32),
                billed_major_units: f64_at(c, 40),
            })
            .collect();
        let is_held: Vec<bool> = (0..names).map(|s| pending.as_ref().is_none_or(|p| !p.contains(&s))).collect();
        let mut chunks = segment_bytes.chunks_exact(if flows { 48 } else { 16 });
        let mut segments = Vec::with_capacity(rows * names);
        let mut flow_figures = Vec::with_capacity(if flows { rows * names } else { 0 });
        for at in 0..rows * names {
            let chunk = if is_held[at % names] { chunks.next() } else { None };
            let Some(c) = chunk else {
                segments.push(SegmentMonth::default());
                if flows {
                    flow_figures.push(SegmentFlows::default());
                }
                continue;
            };
            segments.push(SegmentMonth { active_subscribers: u64_at(c, 0), mrr_major_units: f64_at(c, 8) });
            if flows {
                flow_figures.push(SegmentFlows {
                    new_subscribers: u64_at(c, 16),
                    churned_subscribers: u64_at(c, 24),
                    churned_mrr_major_units: f64_at(c, 32),
                    billed_major_units: f64_at(c, 40),
                });
            }
        }
        Ok(Simulation {
            options,
            start_month_index,
            segment_names,
            paths: start..end,
            totals,
            segments,
            flows: flow_figures,
            pending,
        })
    }

    /// Makes room for `more` paths to be appended, so that merging a run's batches allocates its
    /// figures once rather than doubling as they come (which, for a large run in a browser's worker,
    /// would hold half as much again of memory that WebAssembly never gives back).
    /// Memory that cannot be had is an error, not an abort.
    pub fn reserve_paths(&mut self, more: u32) -> Result<(), SimError> {
        let rows = u64::from(more) * u64::from(self.options.horizon_months);
        let segments = self.segment_names.len() as u64;
        let figures = rows * (segments * if self.flows.is_empty() { 1 } else { 3 } + 3);
        let out_of_memory = SimError::OutOfMemory { figures };
        let rows = usize::try_from(rows).map_err(|_| out_of_memory.clone())?;
        let segment_rows = usize::try_from(rows as u64 * segments).map_err(|_| out_of_memory.clone())?;
        if self.pending.is_none() {
            self.totals.try_reserve_exact(rows).map_err(|_| out_of_memory.clone())?;
        }
        self.segments.try_reserve_exact(segment_rows).map_err(|_| out_of_memory.clone())?;
        if !self.flows.is_empty() {
            self.flows.try_reserve_exact(segment_rows).map_err(|_| out_of_memory)?;
        }
        Ok(())
    }

    /// Appends the next batch of paths of the same run: `later` must come from the same twin and
    /// options, keep the same figures (a partial one: leave the same segments to the baseline), and
    /// start where this one ends. Workers that each simulated a range merge this way.
    pub fn append(&mut self, later: Simulation) -> Result<(), SimError> {
        let same_run = later.options == self.options
            && later.start_month_index == self.start_month_index
            && later.segment_names == self.segment_names
            && later.pending == self.pending
            && later.flows.is_empty() == self.flows.is_empty();
        if !same_run {
            return Err(SimError::NotTheSameRun);
        }
        if later.paths.start != self.paths.end {
            return Err(SimError::PathsNotContiguous { ends_at: self.paths.end, next_starts_at: later.paths.start });
        }
        self.paths.end = later.paths.end;
        self.totals.extend(later.totals);
        self.segments.extend(later.segments);
        self.flows.extend(later.flows);
        Ok(())
    }
}

/// The first bytes of [`Simulation::to_bytes`], with the encoding's version.
const ENCODING_MAGIC: &[u8] = b"subtwin-simulation-2\n";
/// What the bytes hold after the names: every segment's actives and MRR and the totals; with the
/// segments' flows too; or a partial simulation (the segments held, with their flows, no totals).
const ENCODING_WHOLE: u8 = 0;
const ENCODING_WITH_FLOWS: u8 = 1;
const ENCODING_PARTIAL: u8 = 2;

/// The little-endian u64 at `at` in a chunk whose length was checked (0 past its end).
fn u64_at(chunk: &[u8], at: usize) -> u64 {
    chunk.get(at..at + 8).and_then(|b| <[u8; 8]>::try_from(b).ok()).map_or(0, u64::from_le_bytes)
}

/// The little-endian f64 at `at` in a chunk whose length was checked (0 past its end).
fn f64_at(chunk: &[u8], at: usize) -> f64 {
    f64::from_bits(u64_at(chunk, at))
}

/// Reads little-endian numbers off a byte slice, refusing to read past its end.
struct ByteReader<'a> {
    bytes: &'a [u8],
    at: usize,
}

impl<'a> ByteReader<'a> {
    fn take(&mut self, length: usize) -> Result<&'a [u8], SimError> {
        let end = self.at.checked_add(length).filter(|end| *end <= self.bytes.len());
        let end = end.ok_or_else(|| SimError::Encoding("the bytes end early".into()))?;
        let taken = &self.bytes[self.at..end];
        self.at = end;
        Ok(taken)
    }

    fn array<const N: usize>(&mut self) -> Result<[u8; N], SimError> {
        let mut array = [0u8; N];
        array.copy_from_slice(self.take(N)?);
        Ok(array)
    }

    fn u32(&mut self) -> Result<u32, SimError> {
        Ok(u32::from_le_bytes(self.array()?))
    }

    fn u64(&mut self) -> Result<u64, SimError> {
        Ok(u64::from_le_bytes(self.array()?))
    }
}

/// Why a simulation was refused.
#[derive(Clone, Debug, PartialEq)]
pub enum SimError {
    /// The twin did not pass [`Twin::check`].
    Twin(TwinError),
    /// The plan does not fit the twin (a bug in whatever compiled it: scenarios are checked first).
    Plan(String),
    /// The number of paths is 0 or above [`MAX_PATHS`].
    Paths { paths: u32 },
    /// The horizon is 0 or above [`MAX_HORIZON_MONTHS`].
    Horizon { horizon_months: u32 },
    /// The range of paths asked for is empty or reaches beyond the run's paths.
    PathRange { start: u32, end: u32, paths: u32 },
    /// The batch would hold more than [`MAX_FIGURES_PER_BATCH`] figures.
    TooLarge { figures: u64 },
    /// A batch to append comes from another run (twin, options or segments differ).
    NotTheSameRun,
    /// A batch to append does not start where the simulation ends.
    PathsNotContiguous { ends_at: u32, next_starts_at: u32 },
    /// A quantile's probability is not a number from 0 to 1.
    Probability { value: f64 },
    /// Quantiles of a simulation that holds no paths.
    NoPaths,
    /// Bytes that are not a simulation's encoding.
    Encoding(String),
    /// A partial simulation to complete from a baseline that did not keep its segments' flows.
    NothingToReuse,
    /// A partial simulation where a whole one is needed (not yet completed from its baseline).
    Partial,
    /// Room for this many figures (in units of 16 bytes) could not be had.
    OutOfMemory { figures: u64 },
}

impl std::fmt::Display for SimError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            SimError::Twin(error) => write!(f, "the twin cannot be simulated: {error}"),
            SimError::Plan(problem) => write!(f, "the scenario cannot be simulated: {problem}"),
            SimError::Paths { paths } => write!(f, "{paths} paths: give 1 to {MAX_PATHS}."),
            SimError::Horizon { horizon_months } => {
                write!(f, "a horizon of {horizon_months} months: give 1 to {MAX_HORIZON_MONTHS}.")
            }
            SimError::PathRange { start, end, paths } => {
                write!(f, "paths {start}..{end} are not a non-empty range within the run's 0..{paths}.")
            }
            SimError::TooLarge { figures } => write!(
                f,
                "{figures} figures (paths × months × (segments + 3)) is more than {MAX_FIGURES_PER_BATCH} at once: \
                 simulate fewer paths per batch."
            ),
            SimError::NotTheSameRun => {
                write!(f, "the batch comes from another run (its options or segments differ): it cannot be appended.")
            }
            SimError::PathsNotContiguous { ends_at, next_starts_at } => write!(
                f,
                "the simulation ends at path {ends_at} but the batch starts at {next_starts_at}: append batches in \
                 path order."
            ),
            SimError::Probability { value } => write!(f, "quantile probability {value}: give a number from 0 to 1."),
            SimError::NoPaths => write!(f, "the simulation holds no paths to summarise."),
            SimError::Encoding(problem) => write!(f, "the simulation's bytes cannot be read: {problem}."),
            SimError::NothingToReuse => write!(
                f,
                "the baseline did not keep its segments' figures, so a scenario's unchanged segments cannot be taken \
                 from it: simulate the scenario whole."
            ),
            SimError::OutOfMemory { figures } => write!(
                f,
                "{figures} figures (paths × months × series) do not fit in this machine's memory: simulate fewer paths or \
                 a shorter horizon."
            ),
            SimError::Partial => {
                write!(
                    f,
                    "the scenario's simulation holds only the segments it changes: complete it from the baseline."
                )
            }
        }
    }
}

impl std::error::Error for SimError {}

impl SimOptions {
    fn check(&self) -> Result<(), SimError> {
        if self.paths == 0 || self.paths > MAX_PATHS {
            return Err(SimError::Paths { paths: self.paths });
        }
        if self.horizon_months == 0 || self.horizon_months > MAX_HORIZON_MONTHS {
            return Err(SimError::Horizon { horizon_months: self.horizon_months });
        }
        Ok(())
    }
}

/// Simulates all of the run's paths, `0..options.paths`, with no change (in batches, as
/// [`simulate_plan`]).
pub fn simulate(twin: &Twin, options: &SimOptions) -> Result<Simulation, SimError> {
    simulate_plan(twin, &Plan::baseline(twin.segments.len()), options)
}

/// Simulates the paths `path_range` of the run (a batch for one worker) with no change. The figures
/// of a path are the same whichever batch it is simulated in, so batches appended in order
/// ([`Simulation::append`]) equal one call over the whole range.
pub fn simulate_paths(twin: &Twin, options: &SimOptions, path_range: Range<u32>) -> Result<Simulation, SimError> {
    simulate_plan_paths(twin, &Plan::baseline(twin.segments.len()), options, path_range)
}

/// Simulates all of the run's paths under a plan, in batches of at most [`MAX_FIGURES_PER_BATCH`]
/// figures appended in order (the same figures as one call: a path's do not depend on its batch).
pub fn simulate_plan(twin: &Twin, plan: &Plan, options: &SimOptions) -> Result<Simulation, SimError> {
    options.check()?;
    in_batches(twin, plan, options, 0..options.paths, Keep::Whole)
}

/// Simulates the paths `path_range` of the run with no change (in batches, as [`simulate_plan`]),
/// keeping every segment's flows when they fit ([`reuse_fits`]), so that scenarios over the same
/// paths can be simulated with [`simulate_plan_on`], the segments they leave unchanged taken from it.
pub fn simulate_reusable(twin: &Twin, options: &SimOptions, path_range: Range<u32>) -> Result<Simulation, SimError> {
    options.check()?;
    let paths = path_range.end.saturating_sub(path_range.start);
    let keep =
        if reuse_fits(twin.segments.len(), options.horizon_months, paths) { Keep::WholeWithFlows } else { Keep::Whole };
    in_batches(twin, &Plan::baseline(twin.segments.len()), options, path_range, keep)
}

/// Simulates the paths of `baseline` under a plan: the segments the plan changes, the others taken
/// from `baseline` when it kept its flows ([`simulate_reusable`]), else every segment. Either way
/// the same simulation, bit for bit, as [`simulate_plan_paths`] over those paths.
pub fn simulate_plan_on(twin: &Twin, plan: &Plan, baseline: &Simulation) -> Result<Simulation, SimError> {
    let options = &baseline.options;
    options.check()?;
    if !baseline.keeps_flows() {
        return in_batches(twin, plan, options, baseline.paths.clone(), Keep::Whole);
    }
    let mut simulation = in_batches(twin, plan, options, baseline.paths.clone(), Keep::Changed)?;
    simulation.complete(baseline)?;
    Ok(simulation)
}

/// `range` in batches of at most [`MAX_FIGURES_PER_BATCH`] figures, appended in order.
fn in_batches(
    twin: &Twin,
    plan: &Plan,
    options: &SimOptions,
    range: Range<u32>,
    keep: Keep,
) -> Result<Simulation, SimError> {
    let per_path = keep.figures_per_path(options.horizon_months, twin.segments.len() + plan.new_plans.len());
    let batch = (MAX_FIGURES_PER_BATCH / per_path.max(1)).clamp(1, u64::from(options.paths)) as u32;
    let mut start = range.start;
    let mut whole: Option<Simulation> = None;
    while start < range.end {
        let end = start.saturating_add(batch).min(range.end);
        let part = run_paths(twin, plan, options, start..end, keep)?;
        match whole.as_mut() {
            Some(whole) => whole.append(part)?,
            None => whole = Some(part),
        }
        start = end;
    }
    whole.ok_or(SimError::NoPaths)
}

/// Simulates the paths `path_range` of the run under a scenario's plan. With the same seed, each
/// path shares the baseline's random numbers wherever the plan leaves a draw's inputs unchanged.
pub fn simulate_plan_paths(
    twin: &Twin,
    plan: &Plan,
    options: &SimOptions,
    path_range: Range<u32>,
) -> Result<Simulation, SimError> {
    run_paths(twin, plan, options, path_range, Keep::Whole)
}

/// Simulates the paths `path_range` with no change, keeping every segment's flows: a baseline (or a
/// worker's part of one) that partial simulations of the same run are completed from.
pub fn simulate_reusable_paths(
    twin: &Twin,
    options: &SimOptions,
    path_range: Range<u32>,
) -> Result<Simulation, SimError> {
    run_paths(twin, &Plan::baseline(twin.segments.len()), options, path_range, Keep::WholeWithFlows)
}

/// Simulates the paths `path_range` under a plan, but only the segments it changes
/// ([`changed_segments`]): a partial simulation, for [`Simulation::complete`] to finish from the
/// baseline's same paths.
pub fn simulate_changed_paths(
    twin: &Twin,
    plan: &Plan,
    options: &SimOptions,
    path_range: Range<u32>,
) -> Result<Simulation, SimError> {
    run_paths(twin, plan, options, path_range, Keep::Changed)
}

fn run_paths(
    twin: &Twin,
    plan: &Plan,
    options: &SimOptions,
    path_range: Range<u32>,
    keep: Keep,
) -> Result<Simulation, SimError> {
    twin.check().map_err(SimError::Twin)?;
    plan.check(twin.segments.len()).map_err(SimError::Plan)?;
    options.check()?;
    if path_range.start >= path_range.end || path_range.end > options.paths {
        return Err(SimError::PathRange { start: path_range.start, end: path_range.end, paths: options.paths });
    }
    let horizon = options.horizon_months as usize;
    let twin_segments = twin.segments.len();
    let segment_count = twin_segments + plan.new_plans.len();
    let path_count = (path_range.end - path_range.start) as usize;
    let figure_count = path_count as u64 * keep.figures_per_path(options.horizon_months, segment_count);
    if figure_count > MAX_FIGURES_PER_BATCH {
        return Err(SimError::TooLarge { figures: figure_count });
    }

    let prepared: Vec<PreparedSegment> = (0..segment_count).map(|i| PreparedSegment::new(twin, plan, i)).collect();
    let order = plan.order(twin_segments);
    let mut states: Vec<SegmentState> = prepared.iter().map(|p| p.initial.clone()).collect();
    let most_groups = prepared.iter().map(PreparedSegment::most_groups).max().unwrap_or(0);
    let mut scratch = vec![0u64; most_groups.max(1)];
    let base = ChaCha8Rng::seed_from_u64(options.seed);
    let simulated = match keep {
        Keep::Changed => changed_segments(plan),
        Keep::Whole | Keep::WholeWithFlows => vec![true; segment_count],
    };
    let with_totals = keep != Keep::Changed;
    let mut totals = vec![MonthFigures::default(); if with_totals { path_count * horizon } else { 0 }];
    let mut segments = vec![SegmentMonth::default(); path_count * horizon * segment_count];
    let flow_count = if keep == Keep::Whole { 0 } else { path_count * horizon * segment_count };
    let mut flows = vec![SegmentFlows::default(); flow_count];
    let mut month_figures = vec![MonthFigures::default(); horizon * segment_count];
    let mut inflows: Vec<Vec<Inflow>> = vec![Vec::new(); segment_count];

    for (offset, path) in path_range.clone().enumerate() {
        // Parameters first, in the twin's order, each from its own stream.
        let mut parameters = Vec::with_capacity(segment_count);
        let mut responses = Vec::with_capacity(segment_count);
        for (index, segment) in prepared.iter().enumerate() {
            let drawn = match segment.kind {
                SegmentKind::Twin(twin_segment) => {
                    PathParameters::draw(twin_segment, &mut purpose_stream(&base, path, index, PARAMETERS))
                }
                SegmentKind::NewPlan { like, .. } => parameters[like],
            };
            parameters.push(drawn);
            responses.push(Response::draw(&segment.response, &mut purpose_stream(&base, path, index, SCENARIO)));
        }
        inflows.iter_mut().for_each(Vec::clear);
        for &index in order.iter().filter(|index| simulated[**index]) {
            let segment = &prepared[index];
            let mut streams = SegmentStreams::new(&base, path, index);
            let run = SegmentRun {
                segment,
                parameters: parameters[index],
                response: responses[index],
                start_month_index: twin.start_month_index,
                first_month_exposure: twin.first_month_exposure,
                horizon_months: horizon,
                twin_segments,
            };
            let mut arriving = std::mem::take(&mut inflows[index]);
            arriving.sort_by_key(Inflow::month);
            let mut record = |month: usize, figures: MonthFigures| {
                month_figures[month * segment_count + index] = figures;
            };
            run.simulate(&mut states[index], &mut streams, &mut scratch, &arriving, &mut inflows, &mut record);
        }
        for month in 0..horizon {
            let row = &month_figures[month * segment_count..(month + 1) * segment_count];
            let at = (offset * horizon + month) * segment_count;
            if with_totals {
                totals[offset * horizon + month] = sum_of(row);
            }
            if keep == Keep::Whole {
                for (kept, figures) in segments[at..at + segment_count].iter_mut().zip(row) {
                    *kept = split(figures).0;
                }
            } else {
                let kept = segments[at..at + segment_count].iter_mut().zip(&mut flows[at..at + segment_count]);
                for ((month_kept, flows_kept), figures) in kept.zip(row) {
                    (*month_kept, *flows_kept) = split(figures);
                }
            }
        }
    }

    let pending = (keep == Keep::Changed).then(|| (0..segment_count).filter(|s| !simulated[*s]).collect());
    Ok(Simulation {
        options: *options,
        start_month_index: twin.start_month_index,
        segment_names: prepared.iter().map(|p| p.name.clone()).collect(),
        paths: path_range,
        totals,
        segments,
        flows,
        pending,
    })
}

/// The total of the segments' figures, summed in the segments' order (so the same bits everywhere).
fn sum_of(segments: &[MonthFigures]) -> MonthFigures {
    segments.iter().fold(MonthFigures::default(), plus)
}

/// `sum` with a segment's figures added.
fn plus(sum: MonthFigures, s: &MonthFigures) -> MonthFigures {
    MonthFigures {
        active_subscribers: sum.active_subscribers + s.active_subscribers,
        mrr_major_units: sum.mrr_major_units + s.mrr_major_units,
        new_subscribers: sum.new_subscribers + s.new_subscribers,
        churned_subscribers: sum.churned_subscribers + s.churned_subscribers,
        churned_mrr_major_units: sum.churned_mrr_major_units + s.churned_mrr_major_units,
        billed_major_units: sum.billed_major_units + s.billed_major_units,
    }
}

// ---------------------------------------------------------------------------------------------
// Random streams.

/// Word positions 2^48 apart within a path's ChaCha stream: one block per (segment, purpose).
const STREAM_BLOCK_WORDS_LOG2: u32 = 48;
/// Within a block, the months' keys start 2^36 words in (draws made before the first month come
/// from the block's start), one key of [`MONTH_KEY_WORDS`] words per month, in month order.
const MONTH_KEYS_WORDS_LOG2: u32 = 36;
/// A month's key: 256 bits, the whole state of its `Xoshiro256PlusPlus`.
const MONTH_KEY_WORDS: u128 = 8;
/// The longest table of hazards by age a segment keeps per path (older cells work theirs out).
const MAX_HAZARD_TABLE: usize = 1 << 14;
/// Purposes per segment.
const PURPOSES_PER_SEGMENT: u128 = 4;
const PARAMETERS: u128 = 0;
const RENEWALS: u128 = 1;
const ACQUISITION: u128 = 2;
const SCENARIO: u128 = 3;

/// The generator of a month's draws: keyed by the path's ChaCha8 stream, and fast, which matters
/// because the renewals take one or more numbers per cell per month.
type MonthRng = Xoshiro256PlusPlus;

/// The stream of one (path, segment, purpose), at the start of its block.
fn purpose_stream(base: &ChaCha8Rng, path: u32, segment: usize, purpose: u128) -> ChaCha8Rng {
    let mut rng = base.clone();
    rng.set_stream(u64::from(path));
    rng.set_word_pos(block_of(segment, purpose));
    rng
}

fn block_of(segment: usize, purpose: u128) -> u128 {
    (segment as u128 * PURPOSES_PER_SEGMENT + purpose) << STREAM_BLOCK_WORDS_LOG2
}

/// A purpose's draws month by month: each month has its own `Xoshiro256PlusPlus`, its state the
/// month's key in the purpose's ChaCha8 block. Keys are read in order, so moving to the next month
/// costs a quarter of a ChaCha block, and the stream is positioned only when months are skipped.
struct MonthlyStream<'a> {
    base: &'a ChaCha8Rng,
    /// The purpose's ChaCha stream (made at the first month drawn from), at the key of `next_key`.
    keys: Option<ChaCha8Rng>,
    next_key: usize,
    path: u32,
    block: u128,
    month: usize,
    rng: MonthRng,
}

impl<'a> MonthlyStream<'a> {
    fn new(base: &'a ChaCha8Rng, path: u32, segment: usize, purpose: u128) -> MonthlyStream<'a> {
        MonthlyStream {
            base,
            keys: None,
            next_key: usize::MAX,
            path,
            block: block_of(segment, purpose),
            month: usize::MAX,
            rng: MonthRng::from_seed([0; 32]),
        }
    }

    /// The generator of `month`'s draws, at the start of the month when first asked for it.
    fn at(&mut self, month: usize) -> &mut MonthRng {
        if self.month != month {
            self.month = month;
            let position = self.block + (1 << MONTH_KEYS_WORDS_LOG2) + month as u128 * MONTH_KEY_WORDS;
            let (base, path) = (self.base, self.path);
            let keys = self.keys.get_or_insert_with(|| {
                let mut rng = base.clone();
                rng.set_stream(u64::from(path));
                rng
            });
            if self.next_key != month {
                keys.set_word_pos(position);
            }
            let mut key = [0u8; 32];
            keys.fill_bytes(&mut key);
            self.next_key = month + 1;
            self.rng = MonthRng::from_seed(key);
        }
        &mut self.rng
    }
}

/// One segment's streams on one path, month by month.
struct SegmentStreams<'a> {
    renewals: MonthlyStream<'a>,
    acquisition: MonthlyStream<'a>,
    scenario: MonthlyStream<'a>,
}

impl<'a> SegmentStreams<'a> {
    fn new(base: &'a ChaCha8Rng, path: u32, segment: usize) -> SegmentStreams<'a> {
        SegmentStreams {
            renewals: MonthlyStream::new(base, path, segment, RENEWALS),
            acquisition: MonthlyStream::new(base, path, segment, ACQUISITION),
            scenario: MonthlyStream::new(base, path, segment, SCENARIO),
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Parameters drawn per path.

/// The churn probability at a renewal, as a function of the renewals already survived.
#[derive(Clone, Copy, Debug, PartialEq)]
enum Hazard {
    /// sBG: h(k + 1) = alpha / (alpha + beta + k).
    ShiftedBeta { alpha: f64, alpha_plus_beta: f64 },
    /// Geometric: the same at every renewal.
    Constant { churn_probability: f64 },
}

impl Hazard {
    /// The churn probability from the path's table of it by age (`hazards`), or worked out beyond.
    #[inline(always)]
    fn at(&self, hazards: &[f64], renewals_survived: u64) -> f64 {
        match hazards.get(renewals_survived as usize) {
            Some(h) => *h,
            None => self.churn_probability(renewals_survived),
        }
    }

    fn churn_probability(&self, renewals_survived: u64) -> f64 {
        match *self {
            Hazard::ShiftedBeta { alpha, alpha_plus_beta } => alpha / (alpha_plus_beta + renewals_survived as f64),
            Hazard::Constant { churn_probability } => churn_probability,
        }
    }

    /// The path's hazard. Two standard normals are always drawn first, whether used or not, so that
    /// the draws after them do not depend on the kind of retention or on its uncertainty.
    fn draw(retention: &Retention, rng: &mut ChaCha8Rng) -> Hazard {
        let z1 = sample::standard_normal(rng);
        let z2 = sample::standard_normal(rng);
        match *retention {
            Retention::ShiftedBetaGeometric { alpha, beta, uncertainty } => {
                if uncertainty.is_zero() {
                    return Hazard::ShiftedBeta { alpha, alpha_plus_beta: alpha + beta };
                }
                // logit m = ln(alpha / beta) and logit p = -ln(alpha + beta), for m = alpha / (alpha + beta)
                // and p = 1 / (alpha + beta + 1); back again: alpha + beta = exp(-logit p), alpha = m (alpha + beta).
                let (l11, l21, l22) = uncertainty.cholesky();
                let logit_mean = libm::log(alpha) - libm::log(beta) + l11 * z1;
                let logit_polarisation = -libm::log(alpha + beta) + l21 * z1 + l22 * z2;
                let alpha_plus_beta = libm::exp(-logit_polarisation);
                Hazard::ShiftedBeta { alpha: logistic(logit_mean) * alpha_plus_beta, alpha_plus_beta }
            }
            Retention::Geometric { churn_probability, variance_logit_churn } => {
                if variance_logit_churn == 0.0 {
                    return Hazard::Constant { churn_probability };
                }
                let logit = libm::log(churn_probability) - libm::log1p(-churn_probability);
                Hazard::Constant { churn_probability: logistic(logit + f64::sqrt(variance_logit_churn) * z1) }
            }
        }
    }
}

fn logistic(x: f64) -> f64 {
    1.0 / (1.0 + libm::exp(-x))
}

/// A path's log-linear trend: ln(rate) in month offset k is `intercept + slope_per_month * k` plus the
/// seasonal multiplier.
#[derive(Clone, Copy, Debug, PartialEq)]
struct LogRate {
    intercept: f64,
    slope_per_month: f64,
}

impl LogRate {
    fn draw(trend: &PoissonTrend, rng: &mut ChaCha8Rng) -> LogRate {
        let z1 = sample::standard_normal(rng);
        let z2 = sample::standard_normal(rng);
        let (intercept, slope) = (trend.log_rate_intercept, trend.log_rate_slope_per_month);
        if trend.uncertainty == Covariance2::ZERO {
            return LogRate { intercept, slope_per_month: slope };
        }
        let (l11, l21, l22) = trend.uncertainty.cholesky();
        LogRate { intercept: intercept + l11 * z1, slope_per_month: slope + l21 * z1 + l22 * z2 }
    }

    /// The expected starts in month offset `month`, capped at [`MAX_RATE_PER_MONTH`].
    fn rate(&self, trend: &PoissonTrend, start_month_index: i32, month: usize) -> f64 {
        let calendar_month = (i64::from(start_month_index) + month as i64).rem_euclid(12) as usize;
        let ln_rate =
            self.intercept + self.slope_per_month * month as f64 + trend.seasonal_log_multipliers[calendar_month];
        libm::exp(ln_rate.min(LN_MAX_RATE_PER_MONTH))
    }
}

/// A month's arrivals with `expected` as their mean: Poisson, or with a dispersion above 1 a
/// negative binomial (the rate drawn from Gamma(expected / (dispersion - 1), dispersion - 1) first,
/// which keeps the mean and makes the variance dispersion x mean).
fn arrivals(rng: &mut impl RngCore, expected: f64, dispersion: f64) -> u64 {
    if dispersion > 1.0 && expected > 0.0 {
        let excess = dispersion - 1.0;
        let rate = sample::gamma(rng, expected / excess) * excess;
        return sample::poisson(rng, rate.min(MAX_RATE_PER_MONTH));
    }
    sample::poisson(rng, expected)
}

/// Everything one path draws for one segment before its first month.
#[derive(Clone, Copy, Debug, PartialEq)]
struct PathParameters {
    hazard: Hazard,
    direct: Option<LogRate>,
    trial_starts: Option<LogRate>,
    /// The path's trial conversion probability (0 without trials).
    conversion_probability: f64,
    /// The path's net monthly change of existing subscribers' MRR (expansion less contraction, as
    /// a share of MRR); 0 without movements.
    net_movement: f64,
}

impl PathParameters {
    /// Draws in a fixed order from the segment's parameter stream: retention, direct trend, trial
    /// trend, then the conversion probability (last, as the only draw of variable length).
    fn draw(segment: &SegmentTwin, rng: &mut ChaCha8Rng) -> PathParameters {
        let hazard = Hazard::draw(&segment.retention, rng);
        let direct = segment.acquisition.direct.as_ref().map(|trend| LogRate::draw(trend, rng));
        let trials = segment.acquisition.trials.as_ref();
        let trial_starts = trials.map(|trials| LogRate::draw(&trials.starts, rng));
        let conversion_probability =
            trials.map_or(0.0, |trials| sample::beta(rng, trials.conversion.a, trials.conversion.b));
        // After the variable-length draw: a twin without movements draws nothing more, so its paths
        // are what they were before movements were carried.
        let net_movement = segment.movements.map_or(0.0, |movements| {
            let expansion =
                movements.expansion.estimate + movements.expansion.standard_error * sample::standard_normal(rng);
            let contraction =
                movements.contraction.estimate + movements.contraction.standard_error * sample::standard_normal(rng);
            expansion.max(0.0) - contraction.max(0.0)
        });
        PathParameters { hazard, direct, trial_starts, conversion_probability, net_movement }
    }
}

/// A path's price response for one segment.
#[derive(Clone, Copy, Debug, PartialEq)]
struct Response {
    churn_elasticity: f64,
    acquisition_elasticity: f64,
    shock: f64,
}

impl Response {
    /// Draws in a fixed order, each draw consuming a uniform and a normal whatever its distribution.
    fn draw(draws: &ResponseDraws, rng: &mut ChaCha8Rng) -> Response {
        let mut one = |draw: &super::plan::Draw| {
            let u = sample::uniform(rng);
            let z = sample::standard_normal(rng);
            draw.value(u, z)
        };
        let churn_elasticity = one(&draws.churn_elasticity);
        let acquisition_elasticity = one(&draws.acquisition_elasticity);
        let shock = one(&draws.shock).clamp(0.0, 1.0);
        Response { churn_elasticity, acquisition_elasticity, shock }
    }

    /// The factor on the churn probability of a subscriber paying `ratio` times the baseline price.
    fn churn_factor(&self, ratio: f64) -> f64 {
        if ratio == 1.0 || self.churn_elasticity == 0.0 {
            1.0
        } else {
            libm::pow(ratio, self.churn_elasticity)
        }
    }

    /// The factor on arrivals at an entry price of `ratio` times the baseline's.
    fn acquisition_factor(&self, ratio: f64) -> f64 {
        if ratio == 1.0 || self.acquisition_elasticity == 0.0 {
            1.0
        } else {
            libm::pow(ratio, -self.acquisition_elasticity)
        }
    }
}

// ---------------------------------------------------------------------------------------------
// A segment's state and its months.

/// A cell during a path. Its MRR groups are `groups_start..groups_start + groups_len` of the
/// segment state's `mrr_values` and `counts`; what each subscriber pays is the group's value times
/// `price * discount`.
#[derive(Clone, Debug, PartialEq)]
struct CellState {
    renewals_survived: u64,
    /// For a cadence of whole months, the month offset of the next renewal; for several renewals a
    /// month, the first month in which the cell renews (after that, every month).
    next_renewal_month: usize,
    groups_start: usize,
    groups_len: usize,
    subscribers: u64,
    /// The sum of the MRR values held times their counts (before `price * discount`), kept up to
    /// date as subscribers leave.
    list: f64,
    /// The price they pay over the baseline's (1 in the baseline).
    price: f64,
    /// The discount factor they pay (1 for none).
    discount: f64,
    /// Their price over the baseline segment's, beyond `price * discount`, for the churn response
    /// (a new plan's price over the segment it renews like); 1 otherwise.
    relative: f64,
    /// At their first renewal in or after this month they move to the plan's new price ([`NEVER`]).
    price_from: u32,
    /// At their first renewal in or after this month their discount ends ([`NEVER`]).
    discount_until: u32,
    /// The month from which expansion and contraction move their MRR: what they have done since is
    /// the segment's [`SegmentState::drift_powers`] at the months between.
    drift_from: usize,
    /// The price over the baseline's that `churn_response` was worked out for: always what they pay
    /// now, `paying() * relative` (worked out when the cell is made, and again when its terms change).
    response_ratio: f64,
    /// The path's churn response to `response_ratio`: a power, worked out again only when the
    /// price they pay changes.
    churn_response: f64,
}

impl CellState {
    /// Their price and discount over the baseline's list price: what the price response reacts to.
    fn paying(&self) -> f64 {
        self.price * self.discount
    }

    /// The factor on the MRR values held: price, discount, and `drift`, what expansion and contraction
    /// have done since they joined.
    fn charged(&self, drift: f64) -> f64 {
        self.price * self.discount * drift
    }
}

/// A segment's cells during a path, with their MRR groups stored flat (structure of arrays), so
/// that resetting for the next path reuses the same memory. The cells are kept in buckets by their
/// renewal month modulo the billing interval, so that a month visits only the bucket that can renew
/// in it (an annual plan's cells, a twelfth of them a month); the others' totals move with the
/// segment's expansion alone.
#[derive(Clone, Debug, PartialEq)]
struct SegmentState {
    buckets: Vec<Bucket>,
    mrr_values: Vec<f64>,
    counts: Vec<u64>,
    /// The path's expansion and contraction over k months, (1 + net movement)^k by repeated
    /// multiplication, for k = 0 to the horizon.
    drift_powers: Vec<f64>,
    /// The path's churn probability by renewals survived, for the ages the run can reach.
    hazards: Vec<f64>,
    /// The path's churn responses worked out so far, as (price ratio, response) pairs: a few at
    /// most (a segment's cells pay a few prices), so that the power is taken once per price a path.
    churn_responses: Vec<(f64, f64)>,
}

/// A new cell's terms.
#[derive(Clone, Copy, Debug, PartialEq)]
struct Terms {
    price: f64,
    discount: f64,
    relative: f64,
    price_from: u32,
    discount_until: u32,
}

impl Terms {
    const BASELINE: Terms =
        Terms { price: 1.0, discount: 1.0, relative: 1.0, price_from: NEVER, discount_until: NEVER };
}

/// The cells of a segment whose renewal months are one residue modulo the segment's bucket count,
/// in the order they arrived, and their totals at the end of the latest month.
#[derive(Clone, Debug, PartialEq)]
struct Bucket {
    cells: Vec<CellState>,
    /// How many of `cells` are empty (kept until [`SegmentState::drop_empty_cells`] drops them).
    empty: usize,
    active: u64,
    mrr: f64,
    /// No cell meets new terms (a price change, a discount's end) before this month: at most the
    /// earliest `price_from` or `discount_until` of its cells ([`NEVER`] for none).
    terms_from: u32,
}

impl Default for Bucket {
    fn default() -> Bucket {
        Bucket { cells: Vec::new(), empty: 0, active: 0, mrr: 0.0, terms_from: NEVER }
    }
}

/// The most buckets a segment keeps (a cadence of more months than this shares them: a bucket's
/// cells are then not all due when it is visited, which the renewal checks).
const MAX_BUCKETS: usize = 120;

impl SegmentState {
    /// No cells, in buckets for `cadence`.
    fn new(cadence: Cadence) -> SegmentState {
        let buckets = match cadence {
            Cadence::EveryMonths(months) => (months as usize).clamp(1, MAX_BUCKETS),
            Cadence::TimesPerYear(_) => 1,
        };
        SegmentState {
            buckets: vec![Bucket::default(); buckets],
            mrr_values: Vec::new(),
            counts: Vec::new(),
            drift_powers: Vec::new(),
            hazards: Vec::new(),
            churn_responses: Vec::new(),
        }
    }

    fn reset_to(&mut self, initial: &SegmentState) {
        self.buckets.resize_with(initial.buckets.len(), Bucket::default);
        for (bucket, start) in self.buckets.iter_mut().zip(&initial.buckets) {
            bucket.cells.clone_from(&start.cells);
            bucket.empty = start.empty;
            bucket.active = start.active;
            bucket.mrr = start.mrr;
            bucket.terms_from = start.terms_from;
        }
        self.mrr_values.clone_from(&initial.mrr_values);
        self.counts.clone_from(&initial.counts);
    }

    /// The bucket of cells renewing in `month`.
    fn bucket_of(&self, month: usize) -> usize {
        month % self.buckets.len()
    }

    fn cells(&self) -> impl Iterator<Item = &CellState> {
        self.buckets.iter().flat_map(|b| &b.cells)
    }

    /// Adds a cell to the bucket of its renewal month (its totals are the caller's to update), with
    /// `response`, the path's churn response at the price its terms make it pay, as (price ratio,
    /// response).
    fn push_cell(
        &mut self,
        renewals_survived: u64,
        next_renewal_month: usize,
        drift_from: usize,
        terms: Terms,
        response: (f64, f64),
        groups: impl Iterator<Item = (f64, u64)>,
    ) {
        let groups_start = self.counts.len();
        for (mrr, count) in groups.filter(|(_, count)| *count > 0) {
            self.mrr_values.push(mrr);
            self.counts.push(count);
        }
        let subscribers = self.counts[groups_start..].iter().sum();
        let groups_len = self.counts.len() - groups_start;
        if subscribers > 0 {
            let list = list_of(&self.mrr_values[groups_start..], &self.counts[groups_start..]);
            let bucket = self.bucket_of(next_renewal_month);
            let bucket = &mut self.buckets[bucket];
            bucket.terms_from = bucket.terms_from.min(terms.price_from).min(terms.discount_until);
            bucket.cells.push(CellState {
                renewals_survived,
                next_renewal_month,
                groups_start,
                groups_len,
                subscribers,
                list,
                price: terms.price,
                discount: terms.discount,
                relative: terms.relative,
                price_from: terms.price_from,
                discount_until: terms.discount_until,
                drift_from,
                response_ratio: response.0,
                churn_response: response.1,
            });
        } else {
            self.mrr_values.truncate(groups_start);
            self.counts.truncate(groups_start);
        }
    }

    /// Drops the cells no one is left in (their MRR groups stay where they are, unused). Empty cells
    /// take no draws, so where they are dropped changes nothing but the time a month
    /// takes: once they are a quarter of the cells.
    fn drop_empty_cells(&mut self, bucket: usize, emptied: usize) {
        let bucket = &mut self.buckets[bucket];
        bucket.empty += emptied;
        if bucket.empty * 4 > bucket.cells.len() {
            bucket.cells.retain(|c| c.subscribers > 0);
            bucket.empty = 0;
        }
    }

    /// Each bucket's subscribers and MRR, as at the start (no expansion yet).
    fn total_buckets(&mut self) {
        for bucket in &mut self.buckets {
            bucket.active = bucket.cells.iter().map(|c| c.subscribers).sum();
            bucket.mrr = bucket.cells.iter().fold(0.0, |sum, c| sum + c.charged(1.0) * c.list);
        }
    }
}

/// The sum of MRR values times their counts, in order.
fn list_of(values: &[f64], counts: &[u64]) -> f64 {
    let mut total = 0.0;
    for (mrr, count) in values.iter().zip(counts) {
        total += *mrr * *count as f64;
    }
    total
}

/// Subscribers arriving in a segment from another in a month: migrants with the MRR they pay, or
/// a new plan's share of another segment's arrivals.
#[derive(Clone, Debug, PartialEq)]
enum Inflow {
    Migrants { month: usize, groups: Vec<(f64, u64)> },
    Arrivals { month: usize, count: u64 },
}

impl Inflow {
    fn month(&self) -> usize {
        match self {
            Inflow::Migrants { month, .. } | Inflow::Arrivals { month, .. } => *month,
        }
    }
}

/// Which segment: one of the twin's, or a new plan renewing like one of them.
#[derive(Clone, Copy)]
enum SegmentKind<'a> {
    Twin(&'a SegmentTwin),
    NewPlan { like: usize, relative: f64 },
}

/// A segment with its starting state and its plan laid out for the engine, built once per call.
struct PreparedSegment<'a> {
    name: String,
    kind: SegmentKind<'a>,
    /// The twin segment whose cadence, acquisition and new-subscriber MRR it has (itself, or the
    /// one a new plan renews like).
    twin: &'a SegmentTwin,
    plan: &'a SegmentPlan,
    response: ResponseDraws,
    /// Migrations out of this segment, as (month, target segment, share, price factor).
    migrations: Vec<(usize, usize, f64, f64)>,
    initial: SegmentState,
    /// The most renewals any starting cell has survived.
    oldest: usize,
    new_mrr_values: Vec<f64>,
    new_mrr_weights: Vec<u64>,
}

/// The plan of a segment no scenario touches.
static NO_CHANGE: std::sync::LazyLock<SegmentPlan> = std::sync::LazyLock::new(SegmentPlan::default);

impl<'a> PreparedSegment<'a> {
    fn new(twin: &'a Twin, plan: &'a Plan, index: usize) -> PreparedSegment<'a> {
        let segments = twin.segments.len();
        if index >= segments {
            let new_plan = &plan.new_plans[index - segments];
            return PreparedSegment {
                name: new_plan.name.clone(),
                kind: SegmentKind::NewPlan { like: new_plan.like, relative: new_plan.price_ratio },
                twin: &twin.segments[new_plan.like],
                plan: &NO_CHANGE,
                response: new_plan.response,
                migrations: Vec::new(),
                initial: SegmentState::new(twin.segments[new_plan.like].cadence),
                oldest: 0,
                new_mrr_values: vec![new_plan.mrr_major_units],
                new_mrr_weights: vec![1],
            };
        }
        let segment = &twin.segments[index];
        let segment_plan = &plan.segments[index];
        // Existing subscribers meet a price change at their first renewal in or after its month.
        let terms = match &segment_plan.price {
            Some(price) => Terms { price_from: price.existing_from, ..Terms::BASELINE },
            None => Terms::BASELINE,
        };
        let mut initial = SegmentState::new(segment.cadence);
        for cell in &segment.cells {
            let groups = cell.mrr.iter().map(|g| (g.mrr_major_units, g.subscribers));
            initial.push_cell(
                u64::from(cell.renewals_survived),
                cell.next_renewal_offset_months as usize,
                0,
                terms,
                // What they pay is the baseline's until they meet the change, where the response is 1.
                (1.0, 1.0),
                groups,
            );
        }
        initial.total_buckets();
        let migrations = plan
            .migrations
            .iter()
            .filter(|m| m.from_segment == index)
            .map(|m| (m.month as usize, m.to_segment, m.share, m.price_factor))
            .collect();
        PreparedSegment {
            name: segment.name.clone(),
            kind: SegmentKind::Twin(segment),
            twin: segment,
            plan: segment_plan,
            response: segment_plan.response,
            migrations,
            oldest: segment.cells.iter().map(|c| c.renewals_survived as usize).max().unwrap_or(0),
            initial,
            new_mrr_values: segment.new_mrr.iter().map(|g| g.mrr_major_units).collect(),
            new_mrr_weights: segment.new_mrr.iter().map(|g| g.subscribers).collect(),
        }
    }

    /// The most MRR groups a draw works on at once: a cell's, or the new-subscriber distribution's.
    fn most_groups(&self) -> usize {
        let cells = self.initial.cells().map(|c| c.groups_len).max().unwrap_or(0);
        cells.max(self.new_mrr_weights.len())
    }

    /// Months paid at each renewal (and at the start).
    fn months_per_payment(&self) -> f64 {
        self.twin.cadence.months_per_payment()
    }

    /// The month a cell that starts in `month` first renews.
    fn first_renewal(&self, month: usize) -> usize {
        match self.twin.cadence {
            Cadence::EveryMonths(months) => month + months as usize,
            Cadence::TimesPerYear(_) => month + 1,
        }
    }
}

/// One segment on one path.
struct SegmentRun<'a> {
    segment: &'a PreparedSegment<'a>,
    parameters: PathParameters,
    response: Response,
    start_month_index: i32,
    first_month_exposure: f64,
    horizon_months: usize,
    /// The number of the twin's segments: new plan `j` is segment `twin_segments + j`.
    twin_segments: usize,
}

/// What a month's renewals did.
#[derive(Clone, Copy, Debug, Default)]
struct Renewed {
    churned: u64,
    churned_mrr: f64,
    billed: f64,
    /// The cells' subscribers and MRR after the month's renewals, expansion and contraction (before
    /// new subscribers arrive).
    active: u64,
    mrr: f64,
    /// The cells this month emptied.
    emptied: usize,
}

impl SegmentRun<'_> {
    /// Steps the segment through the horizon from its starting state, taking in `arriving` (sorted by
    /// month), sending migrants and diverted arrivals to `inflows`, and handing each month's figures
    /// to `record`.
    fn simulate(
        &self,
        state: &mut SegmentState,
        streams: &mut SegmentStreams,
        scratch: &mut [u64],
        arriving: &[Inflow],
        inflows: &mut [Vec<Inflow>],
        record: &mut impl FnMut(usize, MonthFigures),
    ) {
        let prepared = self.segment;
        state.reset_to(&prepared.initial);
        let drift = (1.0 + self.parameters.net_movement).max(0.0);
        state.drift_powers.clear();
        state.drift_powers.push(1.0);
        for k in 1..=self.horizon_months {
            state.drift_powers.push(state.drift_powers[k - 1] * drift);
        }
        // The hazard at every age a cell can reach within the horizon, worked out once a path.
        let ages = prepared.oldest.saturating_add(most_renewals_within(prepared.twin.cadence, self.horizon_months));
        state.hazards.clear();
        state.churn_responses.clear();
        state
            .hazards
            .extend((0..ages.min(MAX_HAZARD_TABLE) as u64 + 1).map(|k| self.parameters.hazard.churn_probability(k)));
        let plan = prepared.plan;
        let acquires = matches!(prepared.kind, SegmentKind::Twin(_));
        let trials = if acquires { prepared.twin.acquisition.trials.as_ref() } else { None };
        let direct = if acquires { prepared.twin.acquisition.direct.as_ref() } else { None };
        let p_convert = self.parameters.conversion_probability;
        let mut converting_next_month = 0u64;
        if let Some(t) = trials {
            // Trials already running convert in the first month.
            let p = (p_convert * factor_in(&plan.conversion, 0)).min(1.0);
            converting_next_month = sample::binomial(streams.acquisition.at(0), t.in_progress_at_start, p);
        }
        let mut arriving = arriving.iter().peekable();
        // The acquisition response at the latest entry price (which changes in a few months at most).
        let mut entry_response = (1.0_f64, self.response.acquisition_factor(1.0));
        for month in 0..self.horizon_months {
            let month_u32 = month as u32;
            let renewed = self.renew(state, month, streams, scratch, inflows);

            // Arrivals: the trend, times the plan's factors and the entry price's response.
            let entry = self.entry_terms(month_u32);
            let entry_ratio = entry.price * entry.discount;
            if entry_ratio.to_bits() != entry_response.0.to_bits() {
                entry_response = (entry_ratio, self.response.acquisition_factor(entry_ratio));
            }
            let mut expected_factor = factor_in(&plan.acquisition, month_u32) * entry_response.1;
            if month == 0 {
                expected_factor *= self.first_month_exposure;
            }
            let mut arrivals_now = std::mem::take(&mut converting_next_month);
            if let (Some(trend), Some(rate)) = (direct, &self.parameters.direct) {
                let expected = rate.rate(trend, self.start_month_index, month) * expected_factor;
                arrivals_now += arrivals(streams.acquisition.at(month), expected, trend.dispersion);
            }
            if let (Some(trials), Some(rate)) = (trials, &self.parameters.trial_starts) {
                let expected = rate.rate(&trials.starts, self.start_month_index, month) * expected_factor;
                let rng = streams.acquisition.at(month);
                let started = arrivals(rng, expected, trials.starts.dispersion);
                let p = (p_convert * factor_in(&plan.conversion, month_u32)).min(1.0);
                let converted = sample::binomial(rng, started, p);
                if trials.lag_months == 0 {
                    arrivals_now += converted;
                } else {
                    converting_next_month = converted;
                }
            }
            state.drop_empty_cells(state.bucket_of(month), renewed.emptied);
            // Whatever arrives this month first renews in the same month.
            let arrived = state.bucket_of(prepared.first_renewal(month));
            let cells_before = state.buckets[arrived].cells.len();
            let staying = self.divert(arrivals_now, month, streams, inflows);
            let mut new_subscribers = staying;
            let mut billed = renewed.billed;
            billed += self.add_new_cell(state, month, staying, entry, streams, scratch);
            while let Some(inflow) = arriving.next_if(|inflow| inflow.month() == month) {
                billed += self.add_inflow(state, inflow);
                if let Inflow::Arrivals { count, .. } = inflow {
                    new_subscribers += count;
                }
            }
            // The month's totals: the cells that were there, then the ones that arrived, in order.
            let (mut active, mut mrr) = (renewed.active, renewed.mrr);
            let bucket = &mut state.buckets[arrived];
            for cell in &bucket.cells[cells_before..] {
                let cell_mrr = cell.charged(1.0) * cell.list;
                active += cell.subscribers;
                mrr += cell_mrr;
                bucket.active += cell.subscribers;
                bucket.mrr += cell_mrr;
            }

            record(
                month,
                MonthFigures {
                    active_subscribers: active,
                    mrr_major_units: mrr,
                    new_subscribers,
                    churned_subscribers: renewed.churned,
                    churned_mrr_major_units: renewed.churned_mrr,
                    billed_major_units: billed,
                },
            );
        }
    }

    /// The terms of a subscriber who starts in `month`: the plan's price from its month, the
    /// introductory discount within its months; one who starts before a price change that reaches
    /// existing subscribers meets it at their renewal as they do.
    fn entry_terms(&self, month: u32) -> Terms {
        if let SegmentKind::NewPlan { relative, .. } = self.segment.kind {
            return Terms { relative, ..Terms::BASELINE };
        }
        let plan = self.segment.plan;
        let mut terms = Terms::BASELINE;
        if let Some(price) = &plan.price {
            if price.new_from <= month {
                terms.price = price.ratio;
            } else {
                terms.price_from = price.existing_from;
            }
        }
        if let Some(discount) = plan.discount.filter(|d| d.from <= month && month < d.until) {
            terms.discount = discount.factor;
            terms.discount_until = month.saturating_add(discount.months);
        }
        terms
    }

    /// Sends the plan's shares of this month's arrivals to new plans (one conditional binomial after
    /// another: an exact multinomial split), returning the arrivals that stay.
    fn divert(&self, arrivals: u64, month: usize, streams: &mut SegmentStreams, inflows: &mut [Vec<Inflow>]) -> u64 {
        let mut staying = arrivals;
        let mut share_left = 1.0;
        for diversion in self.segment.plan.diversions.iter().filter(|d| d.from as usize <= month) {
            if staying == 0 || share_left <= 0.0 {
                break;
            }
            let p = (diversion.share / share_left).min(1.0);
            share_left -= diversion.share;
            let moving = sample::binomial(streams.scenario.at(month), staying, p);
            staying -= moving;
            if let Some(target) = inflows.get_mut(self.twin_segments + diversion.new_plan) {
                if moving > 0 {
                    target.push(Inflow::Arrivals { month, count: moving });
                }
            }
        }
        staying
    }

    /// Applies the renewals that fall in `month`: in each cell, in order, the cell first meets any
    /// new terms due (a price change, the end of a discount), then its churners ~ Binomial(n, h)
    /// with the path's hazard at its age times the plan's factors and the price response, and which
    /// MRR values leave ~ multivariate hypergeometric; in a migration month, the migrants among the
    /// survivors leave for their new segment; the rest move to age k + 1 and pay their next interval.
    /// Then every cell's MRR moves by the path's net expansion, and the cells' subscribers and MRR
    /// are summed, in order: one pass over the cells a month.
    ///
    /// Most months of a plan renewing every k months have no migration and no cell meeting new
    /// terms; those take [`SegmentRun::renew_plain`], the same renewals without the checks for
    /// them (which, in WebAssembly, cost about an eighth of a scenario's time).
    fn renew(
        &self,
        state: &mut SegmentState,
        month: usize,
        streams: &mut SegmentStreams,
        scratch: &mut [u64],
        inflows: &mut [Vec<Inflow>],
    ) -> Renewed {
        let prepared = self.segment;
        let month_u32 = month as u32;
        let churn_factor = factor_in(&prepared.plan.churn, month_u32);
        let migration = prepared.migrations.iter().find(|m| m.0 == month).copied();
        let visited = state.bucket_of(month);
        let plain = match prepared.twin.cadence {
            Cadence::EveryMonths(every)
                if plain_renewals() && migration.is_none() && month_u32 < state.buckets[visited].terms_from =>
            {
                Some(every as usize)
            }
            _ => None,
        };
        let mut renewed = match plain {
            Some(every) => self.renew_plain(state, month, every, churn_factor, streams, scratch),
            None => self.renew_with_changes(state, month, churn_factor, migration, streams, scratch, inflows),
        };
        // The other buckets' cells only move with expansion and contraction.
        let drift = state.drift_powers[1];
        for (index, bucket) in state.buckets.iter_mut().enumerate() {
            if index != visited {
                bucket.mrr *= drift;
            }
            renewed.active += bucket.active;
            renewed.mrr += bucket.mrr;
        }
        renewed
    }

    /// [`SegmentRun::renew`] in a month without a migration, for a plan renewing every `every`
    /// months whose visited bucket has no cell meeting new terms: what each cell pays, and so its
    /// churn response, stays as it is.
    #[inline(never)]
    fn renew_plain(
        &self,
        state: &mut SegmentState,
        month: usize,
        every: usize,
        churn_factor: f64,
        streams: &mut SegmentStreams,
        scratch: &mut [u64],
    ) -> Renewed {
        let months_paid = self.segment.months_per_payment();
        let mut renewed = Renewed::default();
        let visited = state.bucket_of(month);
        let SegmentState { buckets, mrr_values, counts, hazards, drift_powers, .. } = state;
        let bucket = &mut buckets[visited];
        let (mut active, mut mrr) = (0, 0.0);
        let hazard = self.parameters.hazard;
        let mut draws = Draws { counts, mrr_values, scratch, rng: streams.renewals.at(month) };
        for cell in bucket.cells.iter_mut().filter(|c| c.subscribers > 0) {
            let drift = drift_powers[month - cell.drift_from];
            let drift_after = drift_powers[month + 1 - cell.drift_from];
            // With more months between renewals than buckets, a bucket holds cells due later.
            if cell.next_renewal_month == month {
                cell.next_renewal_month += every;
                let base_hazard = hazard.at(hazards, cell.renewals_survived);
                let churn_probability = (base_hazard * churn_factor * cell.churn_response).min(1.0);
                let leaving = sample::binomial(draws.rng, cell.subscribers, churn_probability);
                cell.renewals_survived += 1;
                if leaving > 0 {
                    draws.remove_leaving(cell, leaving, drift, &mut renewed);
                }
                if cell.subscribers > 0 {
                    renewed.billed += cell.charged(drift) * cell.list * months_paid;
                } else {
                    renewed.emptied += 1;
                }
            }
            active += cell.subscribers;
            mrr += cell.charged(drift_after) * cell.list;
        }
        (bucket.active, bucket.mrr) = (active, mrr);
        renewed
    }

    /// [`SegmentRun::renew`] in any month: cells may meet new terms, and a migration may take some of
    /// each cell's survivors.
    #[allow(clippy::too_many_arguments)]
    fn renew_with_changes(
        &self,
        state: &mut SegmentState,
        month: usize,
        churn_factor: f64,
        migration: Option<(usize, usize, f64, f64)>,
        streams: &mut SegmentStreams,
        scratch: &mut [u64],
        inflows: &mut [Vec<Inflow>],
    ) -> Renewed {
        let prepared = self.segment;
        let plan = prepared.plan;
        let month_u32 = month as u32;
        let months_paid = prepared.months_per_payment();
        let new_price = plan.price.map_or(1.0, |p| p.ratio);
        let mut renewed = Renewed::default();
        let visited = state.bucket_of(month);
        let SegmentState { buckets, mrr_values, counts, hazards, drift_powers, churn_responses } = state;
        let bucket = &mut buckets[visited];
        let (mut active, mut mrr) = (0, 0.0);
        let mut terms_from = NEVER;
        let hazard = self.parameters.hazard;
        let mut draws = Draws { counts, mrr_values, scratch, rng: streams.renewals.at(month) };
        for cell in bucket.cells.iter_mut().filter(|c| c.subscribers > 0) {
            // What expansion and contraction have done to their MRR until now, and by the month's end.
            let drift = drift_powers[month - cell.drift_from];
            let drift_after = drift_powers[month + 1 - cell.drift_from];
            let renewals = renewals_due(prepared.twin.cadence, cell, month);
            for renewal in 0..renewals {
                let paid_before = cell.paying();
                if renewal == 0 {
                    if month_u32 >= cell.price_from {
                        cell.price = new_price;
                        cell.price_from = NEVER;
                    }
                    if month_u32 >= cell.discount_until {
                        cell.discount = 1.0;
                        cell.discount_until = NEVER;
                    }
                }
                let paying = cell.paying();
                let base_hazard = hazard.at(hazards, cell.renewals_survived);
                let mut churn_probability = base_hazard * churn_factor;
                let ratio = paying * cell.relative;
                if ratio != cell.response_ratio {
                    cell.response_ratio = ratio;
                    cell.churn_response = churn_response_of(churn_responses, &self.response, ratio);
                }
                churn_probability *= cell.churn_response;
                churn_probability = churn_probability.min(1.0);
                if paying > paid_before && self.response.shock > 0.0 {
                    churn_probability = 1.0 - (1.0 - churn_probability) * (1.0 - self.response.shock);
                }
                let leaving = sample::binomial(draws.rng, cell.subscribers, churn_probability);
                cell.renewals_survived += 1;
                if leaving > 0 {
                    draws.remove_leaving(cell, leaving, drift, &mut renewed);
                }
                let Draws { counts, mrr_values, scratch, .. } = &mut draws;
                let groups = cell.groups_start..cell.groups_start + cell.groups_len;
                if let Some((_, target, share, price_factor)) = migration.filter(|_| renewal == 0) {
                    let moving = sample::binomial(streams.scenario.at(month), cell.subscribers, share);
                    if moving > 0 {
                        let taken = &mut scratch[..cell.groups_len];
                        if cell.groups_len == 1 {
                            taken[0] = moving;
                        } else {
                            sample::multivariate_hypergeometric(
                                streams.scenario.at(month),
                                &counts[groups.clone()],
                                moving,
                                taken,
                            );
                        }
                        let mut moved = Vec::with_capacity(cell.groups_len);
                        for ((count, mrr), out) in
                            counts[groups.clone()].iter_mut().zip(&mrr_values[groups.clone()]).zip(taken.iter())
                        {
                            *count -= *out;
                            if *out > 0 {
                                moved.push((*mrr * cell.charged(drift) * price_factor, *out));
                            }
                        }
                        cell.subscribers -= moving;
                        cell.list = list_of(&mrr_values[groups.clone()], &counts[groups.clone()]);
                        if let Some(inflow) = inflows.get_mut(target) {
                            inflow.push(Inflow::Migrants { month, groups: moved });
                        }
                    }
                }
                if cell.subscribers == 0 {
                    break;
                }
                renewed.billed += cell.charged(drift) * cell.list * months_paid;
            }
            renewed.emptied += usize::from(cell.subscribers == 0);
            active += cell.subscribers;
            mrr += cell.charged(drift_after) * cell.list;
            terms_from = terms_from.min(cell.price_from).min(cell.discount_until);
        }
        (bucket.active, bucket.mrr, bucket.terms_from) = (active, mrr, terms_from);
        renewed
    }

    /// The month's new subscribers become a cell of age 0, each one's MRR drawn from the segment's
    /// new-subscriber distribution, on `terms`. Their first renewal is one billing interval later
    /// (for several renewals a month: from next month); they pay their first interval now, which is
    /// returned.
    fn add_new_cell(
        &self,
        state: &mut SegmentState,
        month: usize,
        subscribers: u64,
        terms: Terms,
        streams: &mut SegmentStreams,
        scratch: &mut [u64],
    ) -> f64 {
        if subscribers == 0 {
            return 0.0;
        }
        let weights = &self.segment.new_mrr_weights;
        let assigned = &mut scratch[..weights.len()];
        sample::multinomial(streams.acquisition.at(month), subscribers, weights, assigned);
        let groups = self.segment.new_mrr_values.iter().copied().zip(assigned.iter().copied());
        let list: f64 = groups.clone().map(|(mrr, count)| mrr * count as f64).sum();
        let response = self.response_to(state, terms);
        state.push_cell(0, self.segment.first_renewal(month), month + 1, terms, response, groups);
        list * terms.price * terms.discount * self.segment.months_per_payment()
    }

    /// The path's churn response of a cell on `terms`, as (price ratio, response).
    fn response_to(&self, state: &mut SegmentState, terms: Terms) -> (f64, f64) {
        let ratio = terms.price * terms.discount * terms.relative;
        (ratio, churn_response_of(&mut state.churn_responses, &self.response, ratio))
    }

    /// Subscribers arriving from another segment become a cell of age 0 here, paying their first
    /// interval now (returned).
    fn add_inflow(&self, state: &mut SegmentState, inflow: &Inflow) -> f64 {
        let first_renewal = self.segment.first_renewal(inflow.month());
        let months_paid = self.segment.months_per_payment();
        match inflow {
            Inflow::Migrants { groups, .. } => {
                let list: f64 = groups.iter().map(|(mrr, count)| mrr * *count as f64).sum();
                let response = self.response_to(state, Terms::BASELINE);
                state.push_cell(
                    0,
                    first_renewal,
                    inflow.month() + 1,
                    Terms::BASELINE,
                    response,
                    groups.iter().copied(),
                );
                list * months_paid
            }
            Inflow::Arrivals { count, .. } => {
                let mrr = self.segment.new_mrr_values.first().copied().unwrap_or(0.0);
                let terms = self.entry_terms(inflow.month() as u32);
                let response = self.response_to(state, terms);
                state.push_cell(0, first_renewal, inflow.month() + 1, terms, response, std::iter::once((mrr, *count)));
                mrr * *count as f64 * months_paid
            }
        }
    }
}

/// The path's churn response at a price `ratio`, from the ones worked out already on this path
/// (`known`), or worked out and kept: the same number either way.
fn churn_response_of(known: &mut Vec<(f64, f64)>, response: &Response, ratio: f64) -> f64 {
    if let Some((_, factor)) = known.iter().find(|(r, _)| r.to_bits() == ratio.to_bits()) {
        return *factor;
    }
    let factor = response.churn_factor(ratio);
    if known.len() < MAX_KNOWN_RESPONSES {
        known.push((ratio, factor));
    }
    factor
}

#[cfg(test)]
thread_local! {
    /// Whether [`SegmentRun::renew`] may take its plain renewals: tests turn them off on their thread
    /// to check that they change nothing.
    pub(super) static PLAIN_RENEWALS: std::cell::Cell<bool> = const { std::cell::Cell::new(true) };
}

/// Whether [`SegmentRun::renew`] may take [`SegmentRun::renew_plain`] (always, but in tests).
fn plain_renewals() -> bool {
    #[cfg(test)]
    return PLAIN_RENEWALS.with(std::cell::Cell::get);
    #[cfg(not(test))]
    true
}

/// What a month's renewals draw with besides their cells: the segment's MRR groups (counts and
/// values, stored flat), room for a split over them, and the month's generator.
struct Draws<'a> {
    counts: &'a mut [u64],
    mrr_values: &'a [f64],
    scratch: &'a mut [u64],
    rng: &'a mut MonthRng,
}

impl Draws<'_> {
    /// Takes `leaving` subscribers out of `cell` after its churn draw: which MRR values they held
    /// (multivariate hypergeometric, unless the cell has one), and what they paid at `drift`.
    #[inline(always)]
    fn remove_leaving(&mut self, cell: &mut CellState, leaving: u64, drift: f64, renewed: &mut Renewed) {
        if cell.groups_len == 1 {
            // One MRR value: the common case, without the split.
            let (count, mrr) = (&mut self.counts[cell.groups_start], self.mrr_values[cell.groups_start]);
            *count -= leaving;
            renewed.churned_mrr += mrr * cell.charged(drift) * leaving as f64;
            cell.list = mrr * *count as f64;
        } else {
            self.remove_leaving_values(cell, leaving, drift, renewed);
        }
        cell.subscribers -= leaving;
        renewed.churned += leaving;
    }

    /// [`Draws::remove_leaving`] from a cell of several MRR values (kept out of the renewal loops,
    /// which mostly meet cells of one).
    #[inline(never)]
    fn remove_leaving_values(&mut self, cell: &mut CellState, leaving: u64, drift: f64, renewed: &mut Renewed) {
        let groups = cell.groups_start..cell.groups_start + cell.groups_len;
        let taken = &mut self.scratch[..cell.groups_len];
        sample::multivariate_hypergeometric(self.rng, &self.counts[groups.clone()], leaving, taken);
        let held = self.counts[groups.clone()].iter_mut().zip(&self.mrr_values[groups.clone()]);
        for ((count, mrr), out) in held.zip(taken.iter()) {
            *count -= *out;
            renewed.churned_mrr += *mrr * cell.charged(drift) * *out as f64;
        }
        cell.list = list_of(&self.mrr_values[groups.clone()], &self.counts[groups]);
    }
}

/// The most price responses a path keeps per segment ([`churn_response_of`]).
const MAX_KNOWN_RESPONSES: usize = 8;

/// At least as many renewals as a cell can go through in `months`.
fn most_renewals_within(cadence: Cadence, months: usize) -> usize {
    match cadence {
        Cadence::EveryMonths(every) => months / every.max(1) as usize + 1,
        Cadence::TimesPerYear(times) => months.saturating_mul(times.div_ceil(12) as usize) + times as usize,
    }
}

/// How many renewals a cell goes through in `month`, advancing its clock past them.
fn renewals_due(cadence: Cadence, cell: &mut CellState, month: usize) -> u64 {
    match cadence {
        Cadence::EveryMonths(months) => {
            if cell.next_renewal_month != month {
                return 0;
            }
            cell.next_renewal_month += months as usize;
            1
        }
        Cadence::TimesPerYear(times) => {
            if cell.next_renewal_month > month {
                return 0;
            }
            renewals_in_month(times, month)
        }
    }
}

/// For a plan renewing `times_per_year` times a year, the renewals in month offset `month`: the
/// year's renewals spread over its months as evenly as whole numbers allow, exactly `times_per_year`
/// in any twelve consecutive months.
fn renewals_in_month(times_per_year: u32, month: usize) -> u64 {
    let times = u64::from(times_per_year);
    let month = month as u64;
    (month + 1) * times / 12 - month * times / 12
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::twin::tests::example_twin;
    use crate::twin::{Acquisition, BetaParams, Cell, MrrGroup, Trials};

    fn no_acquisition() -> Acquisition {
        Acquisition { direct: None, trials: None }
    }

    fn sbg(alpha: f64, beta: f64) -> Retention {
        Retention::ShiftedBetaGeometric { alpha, beta, uncertainty: Covariance2::ZERO }
    }

    fn segment(name: &str, cadence: Cadence, retention: Retention, cells: Vec<Cell>) -> SegmentTwin {
        SegmentTwin {
            name: name.into(),
            cadence,
            retention,
            acquisition: no_acquisition(),
            new_mrr: Vec::new(),
            cells,
            price_response: None,
            movements: None,
        }
    }

    fn cell(renewals_survived: u32, next_renewal_offset_months: u32, groups: &[(f64, u64)]) -> Cell {
        let mrr = groups.iter().map(|&(mrr_major_units, subscribers)| MrrGroup { mrr_major_units, subscribers });
        Cell { renewals_survived, next_renewal_offset_months, mrr: mrr.collect() }
    }

    fn twin_of(segments: Vec<SegmentTwin>) -> Twin {
        Twin { start_month_index: 2025 * 12, first_month_exposure: 1.0, segments }
    }

    fn run(twin: &Twin, paths: u32, horizon_months: u32) -> Simulation {
        simulate(twin, &SimOptions { paths, horizon_months, seed: 2026 }).expect("a valid twin and options")
    }

    /// S(t) = B(a, b + t) / B(a, b), by the product recursion S(t) = S(t - 1) (b + t - 1) / (a + b + t - 1).
    fn sbg_survival(alpha: f64, beta: f64, renewals: u32) -> f64 {
        (1..=renewals).map(|t| (beta + f64::from(t) - 1.0) / (alpha + beta + f64::from(t) - 1.0)).product()
    }

    /// The mean of the values and its standard error.
    fn mean_and_error(values: &[f64]) -> (f64, f64) {
        let n = values.len() as f64;
        let mean = values.iter().sum::<f64>() / n;
        let variance = values.iter().map(|v| (v - mean) * (v - mean)).sum::<f64>() / (n - 1.0);
        (mean, (variance / n).sqrt())
    }

    fn variance(values: &[f64]) -> f64 {
        let n = values.len() as f64;
        let mean = values.iter().sum::<f64>() / n;
        values.iter().map(|v| (v - mean) * (v - mean)).sum::<f64>() / (n - 1.0)
    }

    /// Asserts that the mean of `values` is within 5 standard errors of `expected` (with a floor for
    /// values that do not vary at all).
    fn assert_mean_near(what: &str, values: &[f64], expected: f64) {
        let (mean, error) = mean_and_error(values);
        assert!(
            (mean - expected).abs() <= 5.0 * error + 1e-9 * expected.abs().max(1.0),
            "{what}: mean {mean} vs {expected} (standard error {error})"
        );
    }

    fn active_fractions(simulation: &Simulation, month: u32, series: Series, start: u64) -> Vec<f64> {
        simulation.across_paths(month, series).map(|f| f.active_subscribers as f64 / start as f64).collect()
    }

    #[test]
    fn mean_survival_matches_the_sbg_closed_form_for_fresh_and_aged_cells() {
        let (alpha, beta, start) = (0.7, 3.0, 1000u64);
        let twin = twin_of(vec![
            segment("fresh", Cadence::EveryMonths(1), sbg(alpha, beta), vec![cell(0, 0, &[(20.0, start)])]),
            segment("aged", Cadence::EveryMonths(1), sbg(alpha, beta), vec![cell(5, 0, &[(20.0, start)])]),
        ]);
        let simulation = run(&twin, 2000, 24);
        for t in [1u32, 2, 3, 6, 12, 24] {
            let fresh = active_fractions(&simulation, t - 1, Series::Segment(0), start);
            assert_mean_near(&format!("fresh S({t})"), &fresh, sbg_survival(alpha, beta, t));
            let aged = active_fractions(&simulation, t - 1, Series::Segment(1), start);
            let conditional = sbg_survival(alpha, beta, 5 + t) / sbg_survival(alpha, beta, 5);
            assert_mean_near(&format!("aged S(5 + {t}) / S(5)"), &aged, conditional);
        }
    }

    #[test]
    fn annual_subscribers_churn_only_in_their_renewal_month() {
        let (alpha, beta, start) = (1.0, 4.0, 1000u64);
        let twin = twin_of(vec![segment(
            "annual",
            Cadence::EveryMonths(12),
            sbg(alpha, beta),
            vec![cell(0, 3, &[(190.0 / 12.0, start)])],
        )]);
        let simulation = run(&twin, 1000, 27);
        for month in 0..27 {
            let churned: Vec<f64> =
                simulation.across_paths(month, Series::Total).map(|f| f.churned_subscribers as f64).collect();
            match month {
                3 => assert_mean_near("first renewal", &churned, start as f64 * (1.0 - sbg_survival(alpha, beta, 1))),
                15 => {
                    let expected = start as f64 * (sbg_survival(alpha, beta, 1) - sbg_survival(alpha, beta, 2));
                    assert_mean_near("second renewal", &churned, expected);
                }
                _ => assert!(churned.iter().all(|c| *c == 0.0), "churn in month {month}, not a renewal month"),
            }
        }
    }

    fn trend(log_rate_intercept: f64, log_rate_slope_per_month: f64, seasonal: [f64; 12]) -> PoissonTrend {
        PoissonTrend {
            log_rate_intercept,
            log_rate_slope_per_month,
            seasonal_log_multipliers: seasonal,
            uncertainty: Covariance2::ZERO,
            dispersion: 1.0,
        }
    }

    #[test]
    fn mean_new_subscribers_per_month_equal_the_poisson_rates_with_trials_landing_after_the_lag() {
        let mut seasonal = [0.0; 12];
        seasonal[0] = 0.3; // January busier
        seasonal[6] = -0.4; // July quieter
        let (conversion_a, conversion_b, in_progress) = (30.0, 70.0, 50u64);
        let mut acquirer = segment("acquiring", Cadence::EveryMonths(1), sbg(1.0, 9.0), Vec::new());
        acquirer.acquisition = Acquisition {
            direct: Some(trend(40f64.ln(), 0.03, seasonal)),
            trials: Some(Trials {
                starts: trend(20f64.ln(), 0.0, [0.0; 12]),
                conversion: BetaParams { a: conversion_a, b: conversion_b },
                lag_months: 1,
                in_progress_at_start: in_progress,
            }),
        };
        acquirer.new_mrr = vec![MrrGroup { mrr_major_units: 10.0, subscribers: 1 }];
        let twin = twin_of(vec![acquirer]);
        let simulation = run(&twin, 4000, 14);
        let p = conversion_a / (conversion_a + conversion_b);
        for month in 0..14u32 {
            let calendar = month as usize % 12; // the twin starts in January
            let direct = (40f64.ln() + 0.03 * f64::from(month) + seasonal[calendar]).exp();
            let converted = if month == 0 { in_progress as f64 * p } else { 20.0 * p };
            let new: Vec<f64> =
                simulation.across_paths(month, Series::Total).map(|f| f.new_subscribers as f64).collect();
            assert_mean_near(&format!("new subscribers in month {month}"), &new, direct + converted);
        }
    }

    #[test]
    fn direct_starts_alone_are_poisson_with_the_rate_as_mean_and_variance() {
        let mut acquirer = segment("direct", Cadence::EveryMonths(1), sbg(1.0, 9.0), Vec::new());
        acquirer.acquisition.direct = Some(trend(12f64.ln(), 0.0, [0.0; 12]));
        acquirer.new_mrr = vec![MrrGroup { mrr_major_units: 10.0, subscribers: 1 }];
        let simulation = run(&twin_of(vec![acquirer]), 20_000, 2);
        let new: Vec<f64> = simulation.across_paths(1, Series::Total).map(|f| f.new_subscribers as f64).collect();
        assert_mean_near("direct starts", &new, 12.0);
        // The variance of a Poisson count is its mean; its estimate's standard error is about
        // sqrt((mu4 - sigma^4) / n) = sqrt((3 lambda^2 + lambda - lambda^2) / n).
        let error = ((2.0 * 144.0 + 12.0) / 20_000f64).sqrt();
        assert!((variance(&new) - 12.0).abs() < 5.0 * error, "variance {}", variance(&new));
    }

    #[test]
    fn overdispersed_starts_keep_their_mean_and_vary_dispersion_times_more() {
        // A negative binomial with mean 12 and dispersion 4: variance 48. Over 20,000 paths the sample
        // variance's standard error is about 0.7 (from the negative binomial's fourth moment), so 5 is
        // seven of them, and far below the 36 by which a Poisson's variance would miss.
        let mut acquirer = segment("direct", Cadence::EveryMonths(1), sbg(1.0, 9.0), Vec::new());
        acquirer.acquisition.direct = Some(PoissonTrend { dispersion: 4.0, ..trend(12f64.ln(), 0.0, [0.0; 12]) });
        acquirer.new_mrr = vec![MrrGroup { mrr_major_units: 10.0, subscribers: 1 }];
        let simulation = run(&twin_of(vec![acquirer]), 20_000, 2);
        let new: Vec<f64> = simulation.across_paths(1, Series::Total).map(|f| f.new_subscribers as f64).collect();
        assert_mean_near("overdispersed starts", &new, 12.0);
        let spread = variance(&new);
        assert!((spread - 48.0).abs() < 5.0, "variance {spread}, expected 4 x 12 = 48");
    }

    #[test]
    fn churned_mrr_keeps_the_spread_of_the_cells_values() {
        // A cell of 500 subscribers at 10 and 500 at 100: churners take a hypergeometric mix, so the
        // MRR lost varies even among paths with the same number of churners, whereas count x average
        // (55 each) would not vary at all.
        let (low, high, each) = (10.0, 100.0, 500u64);
        let population = 2 * each;
        let twin = twin_of(vec![segment(
            "seats",
            Cadence::EveryMonths(1),
            sbg(1.0, 9.0),
            vec![cell(0, 0, &[(low, each), (high, each)])],
        )]);
        let simulation = run(&twin, 20_000, 1);
        let average = (low + high) / 2.0;
        let value_variance = (high - low) * (high - low) / 4.0; // the population variance of the values
        let figures: Vec<MonthFigures> = simulation.across_paths(0, Series::Total).collect();
        let lost: Vec<f64> = figures.iter().map(|f| f.churned_mrr_major_units).collect();
        let churners: Vec<f64> = figures.iter().map(|f| f.churned_subscribers as f64).collect();
        let (mean_churners, _) = mean_and_error(&churners);
        assert_mean_near("MRR lost", &lost, mean_churners * average);
        // Beyond count x average: the residual has mean 0 and, given c churners, the variance of a
        // sample of c drawn without replacement, c (N - c) / (N - 1) times the values' variance.
        let residuals: Vec<f64> = lost.iter().zip(&churners).map(|(l, c)| l - c * average).collect();
        assert_mean_near("MRR lost beyond count x average", &residuals, 0.0);
        let n = population as f64;
        let per_path: Vec<f64> = churners.iter().map(|c| c * (n - c) / (n - 1.0) * value_variance).collect();
        let (expected_variance, _) = mean_and_error(&per_path);
        let fourth = residuals.iter().map(|r| r.powi(4)).sum::<f64>() / residuals.len() as f64;
        let error = ((fourth - expected_variance * expected_variance) / residuals.len() as f64).sqrt();
        let residual_variance = variance(&residuals);
        assert!(expected_variance > 0.0);
        assert!(
            (residual_variance - expected_variance).abs() < 5.0 * error,
            "residual variance {residual_variance} vs {expected_variance} (standard error {error})"
        );
        // And the books balance: what is left is what was there minus what left.
        for f in &figures {
            let before = each as f64 * (low + high);
            assert!((before - f.churned_mrr_major_units - f.mrr_major_units).abs() < 1e-6);
            assert_eq!(f.active_subscribers + f.churned_subscribers, population);
        }
    }

    #[test]
    fn the_geometric_limit_churns_the_same_share_at_every_age() {
        let churn = 0.08;
        let retention = Retention::Geometric { churn_probability: churn, variance_logit_churn: 0.0 };
        let twin = twin_of(vec![
            segment("fresh", Cadence::EveryMonths(1), retention, vec![cell(0, 0, &[(20.0, 1000)])]),
            segment("old", Cadence::EveryMonths(1), retention, vec![cell(40, 0, &[(20.0, 1000)])]),
        ]);
        let simulation = run(&twin, 2000, 12);
        for t in [1u32, 6, 12] {
            let expected = (1.0 - churn).powi(t as i32);
            for (segment, name) in [(0, "fresh"), (1, "old")] {
                let fractions = active_fractions(&simulation, t - 1, Series::Segment(segment), 1000);
                assert_mean_near(&format!("{name} after {t}"), &fractions, expected);
            }
        }
    }

    #[test]
    fn a_weekly_plan_renews_fifty_two_times_a_year_in_order() {
        assert_eq!((0..12).map(|m| renewals_in_month(52, m)).sum::<u64>(), 52);
        assert_eq!((0..12).map(|m| renewals_in_month(365, m)).collect::<Vec<_>>()[..3], [30, 30, 31]);
        assert!((0..24).all(|m| (4..=5).contains(&renewals_in_month(52, m))));
        let (alpha, beta) = (0.5, 12.0);
        let twin = twin_of(vec![segment(
            "weekly",
            Cadence::TimesPerYear(52),
            sbg(alpha, beta),
            vec![cell(0, 0, &[(30.0, 1000)])],
        )]);
        let simulation = run(&twin, 2000, 12);
        let after_first_month = active_fractions(&simulation, 0, Series::Total, 1000);
        assert_mean_near("weekly, one month", &after_first_month, sbg_survival(alpha, beta, 4));
        let after_a_year = active_fractions(&simulation, 11, Series::Total, 1000);
        assert_mean_near("weekly, one year", &after_a_year, sbg_survival(alpha, beta, 52));
    }

    /// The moments of pairs: (mean of first, mean of second, variance of first, variance of second,
    /// covariance).
    fn pair_moments(pairs: &[(f64, f64)]) -> (f64, f64, f64, f64, f64) {
        let n = pairs.len() as f64;
        let (mx, my) = pairs.iter().fold((0.0, 0.0), |(sx, sy), (x, y)| (sx + x / n, sy + y / n));
        let moment =
            |f: &dyn Fn(f64, f64) -> f64| pairs.iter().map(|(x, y)| f(x - mx, y - my)).sum::<f64>() / (n - 1.0);
        (mx, my, moment(&|dx, _| dx * dx), moment(&|_, dy| dy * dy), moment(&|dx, dy| dx * dy))
    }

    #[test]
    fn each_path_draws_its_parameters_from_the_fitted_covariance() {
        let (alpha, beta) = (0.8, 6.0);
        let uncertainty = Covariance2 { variance_first: 0.04, variance_second: 0.09, covariance: -0.03 };
        let retention = Retention::ShiftedBetaGeometric { alpha, beta, uncertainty };
        let base = ChaCha8Rng::seed_from_u64(11);
        let draws = 40_000;
        // Back on the logit scale: logit m = logit h(1) and logit p = -ln(alpha + beta).
        let logits: Vec<(f64, f64)> = (0..draws)
            .map(|path| match Hazard::draw(&retention, &mut purpose_stream(&base, path, 0, PARAMETERS)) {
                Hazard::ShiftedBeta { alpha: a, alpha_plus_beta } => {
                    let m = a / alpha_plus_beta;
                    ((m / (1.0 - m)).ln(), -alpha_plus_beta.ln())
                }
                Hazard::Constant { .. } => (f64::NAN, f64::NAN),
            })
            .collect();
        let (mean_m, mean_p, var_m, var_p, cov) = pair_moments(&logits);
        let n = f64::from(draws);
        let close = |what: &str, value: f64, expected: f64, standard_error: f64| {
            assert!((value - expected).abs() < 5.0 * standard_error, "{what}: {value} vs {expected}");
        };
        close("logit m", mean_m, (alpha / beta).ln(), (0.04 / n).sqrt());
        close("logit p", mean_p, -(alpha + beta).ln(), (0.09 / n).sqrt());
        close("variance of logit m", var_m, 0.04, 0.04 * (2.0 / n).sqrt());
        close("variance of logit p", var_p, 0.09, 0.09 * (2.0 / n).sqrt());
        close("covariance", cov, -0.03, ((0.04 * 0.09 + 0.03 * 0.03) / n).sqrt());

        let trend = PoissonTrend { uncertainty, ..trend(3.0, 0.02, [0.0; 12]) };
        let rates: Vec<(f64, f64)> = (0..draws)
            .map(|path| LogRate::draw(&trend, &mut purpose_stream(&base, path, 1, PARAMETERS)))
            .map(|rate| (rate.intercept, rate.slope_per_month))
            .collect();
        let (mean_i, mean_s, var_i, var_s, cov) = pair_moments(&rates);
        close("intercept", mean_i, 3.0, (0.04 / n).sqrt());
        close("slope", mean_s, 0.02, (0.09 / n).sqrt());
        close("variance of the intercept", var_i, 0.04, 0.04 * (2.0 / n).sqrt());
        close("variance of the slope", var_s, 0.09, 0.09 * (2.0 / n).sqrt());
        close("covariance of intercept and slope", cov, -0.03, ((0.04 * 0.09 + 0.03 * 0.03) / n).sqrt());
    }

    #[test]
    fn parameter_uncertainty_widens_the_spread_between_paths() {
        let certain = twin_of(vec![segment(
            "certain",
            Cadence::EveryMonths(1),
            sbg(1.0, 9.0),
            vec![cell(0, 0, &[(20.0, 5000)])],
        )]);
        let mut uncertain = certain.clone();
        uncertain.segments[0].retention = Retention::ShiftedBetaGeometric {
            alpha: 1.0,
            beta: 9.0,
            uncertainty: Covariance2 { variance_first: 0.25, variance_second: 0.25, covariance: 0.0 },
        };
        let spread = |twin: &Twin| variance(&active_fractions(&run(twin, 1000, 12), 11, Series::Total, 5000));
        let (without, with) = (spread(&certain), spread(&uncertain));
        // Without uncertainty each subscriber survives independently, so the count is binomial.
        let s = sbg_survival(1.0, 9.0, 12);
        let binomial = s * (1.0 - s) / 5000.0;
        assert!((without / binomial - 1.0).abs() < 0.25, "variance {without} vs binomial {binomial}");
        assert!(with > 10.0 * without, "uncertainty gives a variance of {with}, certainty {without}");
    }

    #[test]
    fn the_same_seed_gives_the_same_paths_and_batches_equal_one_run() {
        let twin = example_twin();
        let options = SimOptions { paths: 10, horizon_months: 12, seed: 99 };
        let whole = simulate(&twin, &options).expect("simulates");
        assert_eq!(simulate(&twin, &options).expect("simulates"), whole);
        let mut batched = simulate_paths(&twin, &options, 0..4).expect("first batch");
        batched.append(simulate_paths(&twin, &options, 4..10).expect("second batch")).expect("contiguous");
        assert_eq!(batched, whole);
        let other_seed = simulate(&twin, &SimOptions { seed: 100, ..options }).expect("simulates");
        assert_ne!(other_seed.totals, whole.totals);
        // Path 7 alone is path 7 of the whole run.
        let alone = simulate_paths(&twin, &options, 7..8).expect("one path");
        for month in 0..12 {
            assert_eq!(alone.figures(7, month, Series::Total), whole.figures(7, month, Series::Total));
        }
    }

    #[test]
    fn a_simulation_survives_its_byte_encoding_and_damaged_bytes_are_refused() {
        let twin = example_twin();
        let options = SimOptions { paths: 6, horizon_months: 5, seed: 4 };
        let batch = simulate_paths(&twin, &options, 2..6).expect("simulates");
        let bytes = batch.to_bytes();
        assert_eq!(Simulation::from_bytes(&bytes), Ok(batch));
        assert!(matches!(Simulation::from_bytes(&bytes[..bytes.len() - 1]), Err(SimError::Encoding(_))));
        assert!(matches!(Simulation::from_bytes(b"nonsense"), Err(SimError::Encoding(_))));
        let mut longer = bytes.clone();
        longer.push(0);
        assert!(matches!(Simulation::from_bytes(&longer), Err(SimError::Encoding(_))));
    }

    #[test]
    fn the_rate_cap_in_logarithms_is_the_logarithm_of_the_cap() {
        assert_eq!(LN_MAX_RATE_PER_MONTH.to_bits(), libm::log(MAX_RATE_PER_MONTH).to_bits());
    }

    #[test]
    fn a_shorter_horizon_is_the_start_of_a_longer_one() {
        let twin = example_twin();
        let long = simulate(&twin, &SimOptions { paths: 5, horizon_months: 24, seed: 1 }).expect("simulates");
        let short = simulate(&twin, &SimOptions { paths: 5, horizon_months: 12, seed: 1 }).expect("simulates");
        for path in 0..5 {
            for month in 0..12 {
                assert_eq!(short.figures(path, month, Series::Total), long.figures(path, month, Series::Total));
            }
        }
    }

    /// Pins path 0 of the example twin: the engine's output for a seed is part of what a share link
    /// reproduces, on every platform. A change here changes every simulation: update it only on purpose.
    #[test]
    fn the_example_twin_simulates_to_the_pinned_figures() {
        let simulation =
            simulate(&example_twin(), &SimOptions { paths: 1, horizon_months: 6, seed: 7 }).expect("simulates");
        let figures: Vec<(u64, f64, u64, u64)> = (0..6)
            .filter_map(|m| simulation.figures(0, m, Series::Total))
            .map(|f| (f.active_subscribers, f.mrr_major_units, f.new_subscribers, f.churned_subscribers))
            .collect();
        let expected = "[(169, 8981.0, 22, 13), (186, 9914.0, 27, 10), (185, 9845.0, 22, 23), \
                        (203, 10877.0, 31, 13), (218, 11762.0, 27, 12), (236, 12754.0, 33, 15)]";
        assert_eq!(format!("{figures:?}"), expected);
    }

    #[test]
    fn totals_are_the_sums_of_the_segments() {
        let mut twin = example_twin();
        let mut second = twin.segments[0].clone();
        second.name = "Pro annual".into();
        second.cadence = Cadence::EveryMonths(12);
        second.cells[1].next_renewal_offset_months = 5;
        twin.segments.push(second);
        let simulation = simulate(&twin, &SimOptions { paths: 3, horizon_months: 8, seed: 5 }).expect("simulates");
        for path in 0..3 {
            for month in 0..8 {
                let parts: Vec<MonthFigures> =
                    (0..2).filter_map(|s| simulation.figures(path, month, Series::Segment(s))).collect();
                let total = simulation.figures(path, month, Series::Total).expect("a total");
                let active: u64 = parts.iter().map(|p| p.active_subscribers).sum();
                let mrr: f64 = parts.iter().map(|p| p.mrr_major_units).sum();
                assert_eq!((total.active_subscribers, total.mrr_major_units), (active, mrr));
            }
        }
        assert_eq!(simulation.figures(0, 0, Series::Segment(2)), None);
        assert_eq!(simulation.figures(3, 0, Series::Total), None);
        assert_eq!(simulation.figures(0, 8, Series::Total), None);
    }

    #[test]
    fn bad_options_and_twins_are_refused_with_a_reason() {
        let twin = example_twin();
        let options = SimOptions { paths: 10, horizon_months: 12, seed: 0 };
        let refused = |twin: &Twin, options: SimOptions, range: Range<u32>| {
            simulate_paths(twin, &options, range).expect_err("refused")
        };
        assert_eq!(refused(&twin, SimOptions { paths: 0, ..options }, 0..0), SimError::Paths { paths: 0 });
        assert_eq!(
            refused(&twin, SimOptions { horizon_months: 601, ..options }, 0..1),
            SimError::Horizon { horizon_months: 601 }
        );
        assert_eq!(refused(&twin, options, 5..11), SimError::PathRange { start: 5, end: 11, paths: 10 });
        assert_eq!(refused(&twin, options, 5..5), SimError::PathRange { start: 5, end: 5, paths: 10 });
        let huge = SimOptions { paths: MAX_PATHS, horizon_months: MAX_HORIZON_MONTHS, seed: 0 };
        assert!(matches!(refused(&twin, huge, 0..MAX_PATHS), SimError::TooLarge { .. }));
        let mut broken = twin.clone();
        broken.segments[0].cells[0].mrr[0].mrr_major_units = f64::NAN;
        assert!(matches!(refused(&broken, options, 0..1), SimError::Twin(_)));
        let mut first = simulate_paths(&twin, &options, 0..2).expect("simulates");
        let gap = simulate_paths(&twin, &options, 3..4).expect("simulates");
        assert_eq!(first.append(gap), Err(SimError::PathsNotContiguous { ends_at: 2, next_starts_at: 3 }));
        let other = simulate_paths(&twin, &SimOptions { seed: 1, ..options }, 2..4).expect("simulates");
        assert_eq!(first.append(other), Err(SimError::NotTheSameRun));
    }

    /// The workload for the performance figure: 6 segments (monthly and annual) of 48 age cells with
    /// three MRR values each, with acquisition, 1000 paths x 24 months. Timed from outside (the core
    /// reads no clock): `cargo test --release --lib sim::engine::tests::performance_workload -- --ignored`.
    #[test]
    #[ignore]
    fn performance_workload() {
        let simulation =
            simulate(&performance_twin(), &SimOptions { paths: 1000, horizon_months: 24, seed: 1 }).expect("simulates");
        assert_eq!(simulation.paths, 0..1000);
    }

    fn performance_twin() -> Twin {
        let mut segments = Vec::new();
        for index in 0..6u32 {
            let annual = index % 3 == 2;
            let months = if annual { 12 } else { 1 };
            let price = 20.0 + 15.0 * f64::from(index);
            let cells = (0..48u32)
                .map(|age| {
                    let size = 40 + u64::from(age * 7 % 23) * 10;
                    let groups = [(price, size), (price * 0.8, size / 3), (price * 3.0, size / 5)];
                    let renewals = if annual { age / 12 } else { age };
                    cell(renewals, age % months, &groups)
                })
                .collect();
            let mut segment = segment(&format!("segment {index}"), Cadence::EveryMonths(months), sbg(0.9, 7.0), cells);
            segment.acquisition.direct = Some(trend(4.0, 0.01, [0.0; 12]));
            segment.new_mrr = vec![
                MrrGroup { mrr_major_units: price, subscribers: 70 },
                MrrGroup { mrr_major_units: price * 3.0, subscribers: 30 },
            ];
            segments.push(segment);
        }
        twin_of(segments)
    }
}
