//! The simulation engine: a [`Twin`](crate::twin::Twin) run forward month by month over many Monte
//! Carlo paths, and the quantiles of what it produced.
//!
//! The engine simulates cells (subscribers of a segment who share a renewal age and a renewal month),
//! not people, and that is exact rather than an approximation: under the shifted-beta-geometric model,
//! subscribers who have survived the same renewals are independent with the same churn probability at
//! the next one, so the number who churn is exactly binomial. Which of them leave is drawn too (multivariate hypergeometric over
//! the cell's distinct MRR values), so MRR keeps its real spread. Every draw is exact ([`sample`]).
//!
//! - [`sample`]: the random variates, on `libm`, the same bits on every platform.
//! - `engine`: [`simulate`] and [`simulate_paths`], giving a [`Simulation`] (per path, month and
//!   segment, and in total: active subscribers, MRR, new and churned).
//! - `summary`: [`summarise`], quantiles per month (type 7: linear interpolation between order
//!   statistics).
//!
//! Each path's randomness comes from the seed and the path's index alone, so a range of paths gives
//! the same numbers whether one call simulates it or several workers simulate parts of it, natively or
//! in WebAssembly. Nothing here reads a clock, a file or the browser, and nothing here fits: the
//! engine takes the twin as a value.

/// The version of the engine's numbers: bump it whenever the same twin, scenarios, seed and options
/// give different numbers than before (a sampler, the order of draws, a model's formula, the
/// report's arithmetic). A share link records the version that made it, and a link from another
/// version opens with its results recomputed, and says so when they differ (`crate::share`).
pub const ENGINE_VERSION: u32 = 2;

mod engine;
pub mod plan;
#[cfg(test)]
mod plan_tests;
#[cfg(test)]
mod reference_tests;
#[cfg(test)]
mod reuse_tests;
pub mod sample;
mod summary;

pub use engine::{
    changed_segments, max_batch_paths, reuse_fits, simulate, simulate_changed_paths, simulate_paths, simulate_plan,
    simulate_plan_on, simulate_plan_paths, simulate_reusable, simulate_reusable_paths, MonthFigures, Series, SimError,
    SimOptions, Simulation, MAX_FIGURES_PER_BATCH, MAX_HORIZON_MONTHS, MAX_PATHS, MAX_RATE_PER_MONTH, MAX_REUSE_BYTES,
};
pub use summary::{
    compare, quantile_of_sorted, summarise, summarise_segments, Comparison, Difference, FlowQuantiles, Histogram,
    SeriesQuantiles, Summary, DEFAULT_PROBABILITIES, HISTOGRAM_BINS,
};
