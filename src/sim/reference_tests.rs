//! The cell-level engine checked against a plain simulation of the same model, one subscriber at a
//! time.
//!
//! The engine draws whole cells at once (binomial churners, hypergeometric MRR, multinomial new
//! MRR). The reference here follows every subscriber on their own: at each renewal a subscriber who
//! has survived `k` renewals churns when a uniform falls below `h(k + 1)`, each trial converts on its
//! own coin, each new subscriber draws their MRR on their own. It reads the model from the twin's
//! documentation rather than from the engine, draws each path's parameters with its own normal,
//! gamma and beta variates and a month's arrivals with its own Poisson (counting exponential gaps),
//! and shares nothing with the engine but the uniform generator. The two are then run over many
//! paths and compared, month by month, with a two-sample Kolmogorov–Smirnov test, a Welch test on
//! the means and a test on the variances.
//!
//! Significance. Each test makes K comparisons (three p-values per figure and month) and requires
//! every p-value to be at least `FAMILY_LEVEL / K` (Bonferroni): if the engine is right, the chance
//! that a test fails anyway is at most `FAMILY_LEVEL` (less, as the comparisons of one run are
//! positively correlated and the KS test is conservative for counts). The seeds are fixed, so a
//! passing test keeps passing until the engine's random streams change; when they do, a correct
//! engine fails one of these tests with a probability of at most a few percent. The two power tests
//! at the end show that small errors in the model fail by a wide margin.

use std::f64::consts::PI;

use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;

use super::{sample, simulate, Series, SimOptions};
use crate::twin::tests::example_twin;
use crate::twin::{
    Acquisition, BetaParams, Cadence, Cell, Covariance2, MrrGroup, PoissonTrend, Retention, SegmentTwin, Trials, Twin,
};

/// The chance that a test of a correct engine fails, at most (see the module's documentation).
const FAMILY_LEVEL: f64 = 0.01;
/// Paths on each side. Two samples of 2000 detect a shift of the mean of about 0.15 standard
/// deviations at the Bonferroni levels used here, and keep each test to a few seconds unoptimised.
const PATHS: u32 = 2000;
const ENGINE_SEED: u64 = 20_260_611;
const REFERENCE_SEED: u64 = 7_777_001;

// ---------------------------------------------------------------------------------------------
// Figures per path and month, from either side.

/// One month of one path, summed over the segments.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
struct Figures {
    active: u64,
    mrr: f64,
    new: u64,
    churned: u64,
}

#[derive(Clone, Copy, Debug, PartialEq)]
enum Quantity {
    Active,
    Mrr,
    New,
    Churned,
}

impl Quantity {
    fn of(self, f: &Figures) -> f64 {
        match self {
            Quantity::Active => f.active as f64,
            Quantity::Mrr => f.mrr,
            Quantity::New => f.new as f64,
            Quantity::Churned => f.churned as f64,
        }
    }

    fn name(self) -> &'static str {
        match self {
            Quantity::Active => "paid actives",
            Quantity::Mrr => "MRR",
            Quantity::New => "new subscribers",
            Quantity::Churned => "churned subscribers",
        }
    }
}

/// The engine's totals: `[path][month]`.
fn engine_figures(twin: &Twin, horizon_months: u32) -> Vec<Vec<Figures>> {
    let options = SimOptions { paths: PATHS, horizon_months, seed: ENGINE_SEED };
    let simulation = simulate(twin, &options).expect("the test twin is valid");
    (0..PATHS)
        .map(|path| {
            (0..horizon_months)
                .map(|month| {
                    // Field by field, so that this reads the figures whether they come by reference or by value.
                    let f = simulation.figures(path, month, Series::Total).expect("a simulated month");
                    Figures {
                        active: f.active_subscribers,
                        mrr: f.mrr_major_units,
                        new: f.new_subscribers,
                        churned: f.churned_subscribers,
                    }
                })
                .collect()
        })
        .collect()
}

// ---------------------------------------------------------------------------------------------
// The subscriber-level reference.

/// One subscriber during a reference path.
#[derive(Clone, Copy, Debug)]
struct Subscriber {
    mrr: f64,
    renewals_survived: u64,
    /// The month offset of their first renewal in the simulation; after it they renew every billing
    /// interval (or, several times a month, in every month).
    first_renewal_month: usize,
}

/// The reference's churn probability at a renewal.
#[derive(Clone, Copy, Debug)]
enum ChurnModel {
    ShiftedBeta { alpha: f64, beta: f64 },
    Geometric { churn: f64 },
}

impl ChurnModel {
    /// The chance that a subscriber who has survived `k` renewals churns at the next.
    fn at(self, k: u64) -> f64 {
        match self {
            ChurnModel::ShiftedBeta { alpha, beta } => alpha / (alpha + beta + k as f64),
            ChurnModel::Geometric { churn } => churn,
        }
    }
}

/// A standard normal by Box–Muller, on the standard library's functions.
fn normal(rng: &mut ChaCha8Rng) -> f64 {
    let u1 = 1.0 - sample::uniform(rng); // in (0, 1]
    let u2 = sample::uniform(rng);
    (-2.0 * u1.ln()).sqrt() * (2.0 * PI * u2).cos()
}

/// Two correlated normals around `(first, second)` with the given covariance, through the lower
/// Cholesky factor worked out here.
fn bivariate_normal(rng: &mut ChaCha8Rng, first: f64, second: f64, covariance: &Covariance2) -> (f64, f64) {
    let l11 = covariance.variance_first.sqrt();
    let l21 = if l11 > 0.0 { covariance.covariance / l11 } else { 0.0 };
    let l22 = (covariance.variance_second - l21 * l21).max(0.0).sqrt();
    let (z1, z2) = (normal(rng), normal(rng));
    (first + l11 * z1, second + l21 * z1 + l22 * z2)
}

/// Gamma(shape, 1), by Marsaglia and Tsang's method (with U^(1/shape) for shapes below 1).
fn gamma(rng: &mut ChaCha8Rng, shape: f64) -> f64 {
    if shape < 1.0 {
        let u = 1.0 - sample::uniform(rng);
        return gamma(rng, shape + 1.0) * u.powf(1.0 / shape);
    }
    let d = shape - 1.0 / 3.0;
    let c = 1.0 / (9.0 * d).sqrt();
    loop {
        let x = normal(rng);
        let v = (1.0 + c * x).powi(3);
        if v <= 0.0 {
            continue;
        }
        let u = 1.0 - sample::uniform(rng);
        if u.ln() < 0.5 * x * x + d - d * v + d * v.ln() {
            return d * v;
        }
    }
}

/// Poisson(mean): the arrivals of a unit-rate process before `mean`, counting exponential gaps
/// (about `mean` uniforms a draw, cheap at the test twins' rates).
fn poisson(rng: &mut ChaCha8Rng, mean: f64) -> u64 {
    let (mut count, mut time) = (0, 0.0);
    loop {
        time -= (1.0 - sample::uniform(rng)).ln();
        if time > mean {
            return count;
        }
        count += 1;
    }
}

fn beta(rng: &mut ChaCha8Rng, a: f64, b: f64) -> f64 {
    let x = gamma(rng, a);
    let y = gamma(rng, b);
    x / (x + y)
}

fn logistic(x: f64) -> f64 {
    1.0 / (1.0 + (-x).exp())
}

/// A path's churn model, drawn from the retention's uncertainty as the twin documents it: (logit m,
/// logit p) bivariate normal, with m = alpha / (alpha + beta) and p = 1 / (alpha + beta + 1); for the
/// geometric model, logit(churn) normal.
fn draw_churn_model(retention: &Retention, rng: &mut ChaCha8Rng) -> ChurnModel {
    match *retention {
        Retention::ShiftedBetaGeometric { alpha, beta, uncertainty } => {
            let m = alpha / (alpha + beta);
            let p = 1.0 / (alpha + beta + 1.0);
            let (logit_m, logit_p) = bivariate_normal(rng, (m / (1.0 - m)).ln(), (p / (1.0 - p)).ln(), &uncertainty);
            let (m, p) = (logistic(logit_m), logistic(logit_p));
            let total = 1.0 / p - 1.0;
            ChurnModel::ShiftedBeta { alpha: m * total, beta: (1.0 - m) * total }
        }
        Retention::Geometric { churn_probability, variance_logit_churn } => {
            if variance_logit_churn == 0.0 {
                return ChurnModel::Geometric { churn: churn_probability };
            }
            let logit =
                (churn_probability / (1.0 - churn_probability)).ln() + variance_logit_churn.sqrt() * normal(rng);
            ChurnModel::Geometric { churn: logistic(logit) }
        }
    }
}

/// A path's trend: its (intercept, slope) drawn around the fitted ones.
#[derive(Clone, Copy, Debug)]
struct DrawnTrend<'a> {
    trend: &'a PoissonTrend,
    intercept: f64,
    slope: f64,
}

impl<'a> DrawnTrend<'a> {
    fn draw(trend: &'a PoissonTrend, rng: &mut ChaCha8Rng) -> DrawnTrend<'a> {
        let (intercept, slope) =
            bivariate_normal(rng, trend.log_rate_intercept, trend.log_rate_slope_per_month, &trend.uncertainty);
        DrawnTrend { trend, intercept, slope }
    }

    /// A month's arrivals: Poisson at the month's rate, or, overdispersed, Poisson at a rate drawn
    /// from the gamma with that mean and a variance of (dispersion - 1) x mean. (The rates of the
    /// test twins stay far below the engine's cap, so the reference has none.)
    fn arrivals(&self, rng: &mut ChaCha8Rng, start_month_index: i32, month: usize) -> u64 {
        let calendar_month = (start_month_index as usize + month) % 12;
        let rate =
            (self.intercept + self.slope * month as f64 + self.trend.seasonal_log_multipliers[calendar_month]).exp();
        let dispersion = self.trend.dispersion;
        if dispersion > 1.0 {
            let scale = dispersion - 1.0;
            let drawn_rate = gamma(rng, rate / scale) * scale;
            return poisson(rng, drawn_rate);
        }
        poisson(rng, rate)
    }
}

/// How many of `count` trials convert, one coin each.
fn conversions(rng: &mut ChaCha8Rng, count: u64, probability: f64) -> u64 {
    (0..count).filter(|_| sample::uniform(rng) < probability).count() as u64
}

/// A new subscriber's MRR, drawn in proportion to the weights.
fn new_subscriber_mrr(rng: &mut ChaCha8Rng, groups: &[MrrGroup]) -> f64 {
    let total: u64 = groups.iter().map(|g| g.subscribers).sum();
    let target = sample::uniform(rng) * total as f64;
    let mut cumulative = 0.0;
    for group in groups {
        cumulative += group.subscribers as f64;
        if target < cumulative {
            return group.mrr_major_units;
        }
    }
    groups.last().expect("a segment that acquires has new MRR values").mrr_major_units
}

/// The renewals a subscriber goes through in month offset `month`.
fn renewals_in(cadence: Cadence, subscriber: &Subscriber, month: usize) -> u64 {
    if month < subscriber.first_renewal_month {
        return 0;
    }
    match cadence {
        Cadence::EveryMonths(months) => {
            u64::from((month - subscriber.first_renewal_month).is_multiple_of(months as usize))
        }
        // The year's renewals spread over its months: as many in month j as multiples of 12 / n
        // fall in [j, j + 1).
        Cadence::TimesPerYear(times) => {
            let (times, month) = (u64::from(times), month as u64);
            (month + 1) * times / 12 - month * times / 12
        }
    }
}

/// The months from a subscriber's start to their first renewal.
fn billing_interval(cadence: Cadence) -> usize {
    match cadence {
        Cadence::EveryMonths(months) => months as usize,
        Cadence::TimesPerYear(_) => 1,
    }
}

/// One segment on one path, one subscriber at a time; adds its figures to `totals`.
fn reference_segment(segment: &SegmentTwin, start_month_index: i32, rng: &mut ChaCha8Rng, totals: &mut [Figures]) {
    let churn_model = draw_churn_model(&segment.retention, rng);
    let direct = segment.acquisition.direct.as_ref().map(|trend| DrawnTrend::draw(trend, rng));
    let trials = segment.acquisition.trials.as_ref();
    let trial_starts = trials.map(|t| DrawnTrend::draw(&t.starts, rng));
    let conversion = trials.map_or(0.0, |t| beta(rng, t.conversion.a, t.conversion.b));

    let mut subscribers: Vec<Subscriber> = Vec::new();
    for cell in &segment.cells {
        for group in &cell.mrr {
            let subscriber = Subscriber {
                mrr: group.mrr_major_units,
                renewals_survived: u64::from(cell.renewals_survived),
                first_renewal_month: cell.next_renewal_offset_months as usize,
            };
            subscribers.extend(std::iter::repeat_n(subscriber, group.subscribers as usize));
        }
    }
    // Trials running at the start convert into the first month.
    let mut converting_next_month = trials.map_or(0, |t| conversions(rng, t.in_progress_at_start, conversion));

    for (month, total) in totals.iter_mut().enumerate() {
        let mut churned = 0u64;
        subscribers.retain_mut(|subscriber| {
            for _ in 0..renewals_in(segment.cadence, subscriber, month) {
                if sample::uniform(rng) < churn_model.at(subscriber.renewals_survived) {
                    churned += 1;
                    return false;
                }
                subscriber.renewals_survived += 1;
            }
            true
        });

        let mut new = std::mem::take(&mut converting_next_month);
        if let Some(direct) = &direct {
            new += direct.arrivals(rng, start_month_index, month);
        }
        if let (Some(trials), Some(starts)) = (trials, &trial_starts) {
            let started = starts.arrivals(rng, start_month_index, month);
            let converted = conversions(rng, started, conversion);
            if trials.lag_months == 0 {
                new += converted;
            } else {
                converting_next_month = converted;
            }
        }
        for _ in 0..new {
            subscribers.push(Subscriber {
                mrr: new_subscriber_mrr(rng, &segment.new_mrr),
                renewals_survived: 0,
                first_renewal_month: month + billing_interval(segment.cadence),
            });
        }

        total.active += subscribers.len() as u64;
        total.mrr += subscribers.iter().map(|s| s.mrr).sum::<f64>();
        total.new += new;
        total.churned += churned;
    }
}

/// The reference's totals: `[path][month]`, each path drawing its own parameters.
fn reference_figures(twin: &Twin, horizon_months: u32) -> Vec<Vec<Figures>> {
    let mut rng = ChaCha8Rng::seed_from_u64(REFERENCE_SEED);
    (0..PATHS)
        .map(|_| {
            let mut totals = vec![Figures::default(); horizon_months as usize];
            for segment in &twin.segments {
                reference_segment(segment, twin.start_month_index, &mut rng, &mut totals);
            }
            totals
        })
        .collect()
}

// ---------------------------------------------------------------------------------------------
// Two-sample statistics.

/// The two-sample Kolmogorov–Smirnov statistic: the largest distance between the two empirical
/// distribution functions, each evaluated after all the values tied at a point.
fn ks_statistic(first: &[f64], second: &[f64]) -> f64 {
    let sorted = |values: &[f64]| {
        let mut values = values.to_vec();
        values.sort_by(f64::total_cmp);
        values
    };
    let (a, b) = (sorted(first), sorted(second));
    let (n, m) = (a.len() as f64, b.len() as f64);
    let (mut i, mut j, mut largest) = (0, 0, 0.0f64);
    while i < a.len() && j < b.len() {
        let x = a[i].min(b[j]);
        while i < a.len() && a[i] <= x {
            i += 1;
        }
        while j < b.len() && b[j] <= x {
            j += 1;
        }
        largest = largest.max((i as f64 / n - j as f64 / m).abs());
    }
    largest
}

/// P(K > lambda) for Kolmogorov's distribution K, the limit of sqrt(n) times the one-sample
/// statistic. Above 1.18 by the alternating series 2 sum (-1)^(j-1) exp(-2 j^2 lambda^2), which
/// converges at once there; below, one minus the theta-function form of the distribution function,
/// sqrt(2 pi) / lambda sum exp(-(2j - 1)^2 pi^2 / (8 lambda^2)), which converges at once there.
fn kolmogorov_survival(lambda: f64) -> f64 {
    if lambda <= 0.0 {
        return 1.0;
    }
    let mut sum = 0.0;
    if lambda < 1.18 {
        for j in 1..=20 {
            let odd = f64::from(2 * j - 1);
            sum += (-odd * odd * PI * PI / (8.0 * lambda * lambda)).exp();
        }
        return (1.0 - (2.0 * PI).sqrt() / lambda * sum).clamp(0.0, 1.0);
    }
    for j in 1..=100u32 {
        let term = (-2.0 * f64::from(j * j) * lambda * lambda).exp();
        sum += if j % 2 == 1 { term } else { -term };
        if term == 0.0 {
            break;
        }
    }
    (2.0 * sum).clamp(0.0, 1.0)
}

/// The asymptotic p-value of the two-sample KS test: P(K > D sqrt(n m / (n + m))). For counts (a
/// discrete distribution) it is conservative: the true p-value is smaller.
fn ks_p_value(first: &[f64], second: &[f64]) -> f64 {
    let (n, m) = (first.len() as f64, second.len() as f64);
    kolmogorov_survival(ks_statistic(first, second) * (n * m / (n + m)).sqrt())
}

/// A two-sided p-value of a z statistic (normal approximation, sound for thousands of paths);
/// `difference / standard_error` with both zero is a perfect agreement.
fn two_sided_p(difference: f64, standard_error: f64) -> f64 {
    if standard_error == 0.0 {
        return if difference == 0.0 { 1.0 } else { 0.0 };
    }
    libm::erfc((difference / standard_error).abs() / 2f64.sqrt())
}

/// The mean, the sample variance (n - 1), and the standard error of that variance from the fourth
/// central moment, sqrt((mu4 - sigma^4 (n - 3) / (n - 1)) / n), which holds whatever the
/// distribution's shape.
fn moments(values: &[f64]) -> (f64, f64, f64) {
    let n = values.len() as f64;
    let mean = values.iter().sum::<f64>() / n;
    let central = |power: i32| values.iter().map(|v| (v - mean).powi(power)).sum::<f64>();
    let variance = central(2) / (n - 1.0);
    let fourth = central(4) / n;
    let variance_error = ((fourth - variance * variance * (n - 3.0) / (n - 1.0)).max(0.0) / n).sqrt();
    (mean, variance, variance_error)
}

/// Welch's test of equal means.
fn welch_p_value(first: &[f64], second: &[f64]) -> f64 {
    let (mean_a, variance_a, _) = moments(first);
    let (mean_b, variance_b, _) = moments(second);
    let error = (variance_a / first.len() as f64 + variance_b / second.len() as f64).sqrt();
    two_sided_p(mean_a - mean_b, error)
}

/// A test of equal variances: their difference over its standard error from the fourth moments.
fn variance_p_value(first: &[f64], second: &[f64]) -> f64 {
    let (_, variance_a, error_a) = moments(first);
    let (_, variance_b, error_b) = moments(second);
    two_sided_p(variance_a - variance_b, (error_a * error_a + error_b * error_b).sqrt())
}

/// One figure in one month, engine against reference.
#[derive(Clone, Debug)]
struct Comparison {
    what: String,
    engine_mean: f64,
    reference_mean: f64,
    engine_variance: f64,
    reference_variance: f64,
    ks: f64,
    means: f64,
    variances: f64,
}

impl Comparison {
    fn smallest_p(&self) -> f64 {
        self.ks.min(self.means).min(self.variances)
    }
}

impl std::fmt::Display for Comparison {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{}: mean {:.3} vs {:.3}, variance {:.3} vs {:.3}; p KS {:.3e}, means {:.3e}, variances {:.3e}",
            self.what,
            self.engine_mean,
            self.reference_mean,
            self.engine_variance,
            self.reference_variance,
            self.ks,
            self.means,
            self.variances
        )
    }
}

/// Compares the engine's and the reference's distributions of each quantity in each month (counted
/// from 1, the first simulated month).
fn compare(
    engine: &[Vec<Figures>],
    reference: &[Vec<Figures>],
    months: &[usize],
    quantities: &[Quantity],
) -> Vec<Comparison> {
    let mut comparisons = Vec::new();
    for &month in months {
        for &quantity in quantities {
            let values =
                |paths: &[Vec<Figures>]| -> Vec<f64> { paths.iter().map(|p| quantity.of(&p[month - 1])).collect() };
            let (a, b) = (values(engine), values(reference));
            let ((engine_mean, engine_variance, _), (reference_mean, reference_variance, _)) =
                (moments(&a), moments(&b));
            comparisons.push(Comparison {
                what: format!("{} in month {month}", quantity.name()),
                engine_mean,
                reference_mean,
                engine_variance,
                reference_variance,
                ks: ks_p_value(&a, &b),
                means: welch_p_value(&a, &b),
                variances: variance_p_value(&a, &b),
            });
        }
    }
    comparisons
}

/// The per-comparison level: the family level shared among the three p-values of every comparison.
fn bonferroni_level(comparisons: &[Comparison]) -> f64 {
    FAMILY_LEVEL / (3 * comparisons.len()) as f64
}

/// Asserts that no comparison rejects at its Bonferroni level, naming those that do with the whole
/// table in the message.
fn assert_same_distributions(test: &str, comparisons: &[Comparison]) {
    let level = bonferroni_level(comparisons);
    let rejected: Vec<String> =
        comparisons.iter().filter(|c| c.smallest_p() < level).map(|c| format!("  {c}")).collect();
    let table: Vec<String> = comparisons.iter().map(|c| format!("  {c}")).collect();
    assert!(
        rejected.is_empty(),
        "{test}: the engine and the subscriber-level reference differ (level {level:.2e} per p-value):\n{}\n\
         every comparison:\n{}",
        rejected.join("\n"),
        table.join("\n")
    );
}

// ---------------------------------------------------------------------------------------------
// Test twins. MRR values are multiples of 1/4 so that sums are exact in f64 on both sides, and equal
// totals compare equal.

fn cell(renewals_survived: u32, next_renewal_offset_months: u32, groups: &[(f64, u64)]) -> Cell {
    let mrr = groups.iter().map(|&(mrr_major_units, subscribers)| MrrGroup { mrr_major_units, subscribers });
    Cell { renewals_survived, next_renewal_offset_months, mrr: mrr.collect() }
}

fn sbg(alpha: f64, beta: f64) -> Retention {
    Retention::ShiftedBetaGeometric { alpha, beta, uncertainty: Covariance2::ZERO }
}

/// A twin of these segments. It starts from the shared example twin and replaces what the
/// comparison sets, so that any other field keeps the example's neutral value.
fn twin_of(start_month_index: i32, segments: Vec<SegmentTwin>) -> Twin {
    let mut twin = example_twin();
    twin.start_month_index = start_month_index;
    twin.segments = segments;
    twin
}

/// A segment, built the same way from the example's first segment.
fn segment(
    name: &str,
    cadence: Cadence,
    retention: Retention,
    acquisition: Acquisition,
    cells: Vec<Cell>,
) -> SegmentTwin {
    let mut segment = example_twin().segments.swap_remove(0);
    segment.name = name.into();
    segment.cadence = cadence;
    segment.retention = retention;
    segment.acquisition = acquisition;
    segment.new_mrr = Vec::new();
    segment.cells = cells;
    segment
}

fn settled_segment(name: &str, cadence: Cadence, retention: Retention, cells: Vec<Cell>) -> SegmentTwin {
    segment(name, cadence, retention, Acquisition { direct: None, trials: None }, cells)
}

fn trend(rate: f64, slope: f64, seasonal: [f64; 12], uncertainty: Covariance2, dispersion: f64) -> PoissonTrend {
    PoissonTrend {
        log_rate_intercept: rate.ln(),
        log_rate_slope_per_month: slope,
        seasonal_log_multipliers: seasonal,
        uncertainty,
        dispersion,
    }
}

fn mrr_groups(groups: &[(f64, u64)]) -> Vec<MrrGroup> {
    groups.iter().map(|&(mrr_major_units, subscribers)| MrrGroup { mrr_major_units, subscribers }).collect()
}

/// No acquisition and no parameter uncertainty: monthly, annual and quarterly cells, fresh and aged,
/// with different renewal months and several MRR values each.
fn settled_twin() -> Twin {
    twin_of(
        2025 * 12 + 4,
        vec![
            settled_segment(
                "monthly",
                Cadence::EveryMonths(1),
                sbg(0.7, 3.0),
                vec![cell(0, 0, &[(20.0, 300), (50.0, 100), (100.0, 30)]), cell(6, 0, &[(20.0, 200), (35.5, 150)])],
            ),
            settled_segment(
                "annual",
                Cadence::EveryMonths(12),
                sbg(1.2, 4.0),
                vec![
                    cell(0, 3, &[(15.75, 200), (40.0, 50)]),
                    cell(2, 0, &[(12.5, 100), (80.0, 20)]),
                    cell(4, 11, &[(25.0, 150)]),
                ],
            ),
            settled_segment(
                "quarterly",
                Cadence::EveryMonths(3),
                Retention::Geometric { churn_probability: 0.12, variance_logit_churn: 0.0 },
                vec![cell(1, 2, &[(60.0, 120), (90.0, 40)]), cell(9, 0, &[(45.0, 80)])],
            ),
        ],
    )
}

/// Acquisition and parameter uncertainty everywhere: a monthly segment with an uncertain sBG, a
/// seasonal and uncertain direct trend, and overdispersed trials converting a month later (some
/// already running); an annual segment with an uncertain geometric churn, overdispersed direct
/// starts and trials converting in their own month. It starts in October, so the seasonality wraps.
fn growing_twin() -> Twin {
    let mut seasonal = [0.0; 12];
    seasonal[0] = 0.2; // January
    seasonal[6] = -0.3; // July
    seasonal[7] = -0.3; // August
    seasonal[11] = 0.4; // December
    let mut monthly = segment(
        "monthly",
        Cadence::EveryMonths(1),
        Retention::ShiftedBetaGeometric {
            alpha: 0.8,
            beta: 5.0,
            uncertainty: Covariance2 { variance_first: 0.04, variance_second: 0.09, covariance: -0.03 },
        },
        Acquisition {
            direct: Some(trend(
                30.0,
                0.02,
                seasonal,
                Covariance2 { variance_first: 0.02, variance_second: 0.0004, covariance: -0.001 },
                1.0,
            )),
            trials: Some(Trials {
                starts: trend(
                    20.0,
                    -0.01,
                    [0.0; 12],
                    Covariance2 { variance_first: 0.01, variance_second: 0.0, covariance: 0.0 },
                    3.0,
                ),
                conversion: BetaParams { a: 30.0, b: 70.0 },
                lag_months: 1,
                in_progress_at_start: 40,
            }),
        },
        vec![
            cell(0, 0, &[(29.0, 150), (49.0, 50)]),
            cell(3, 0, &[(29.0, 100), (99.0, 20)]),
            cell(12, 0, &[(49.0, 120)]),
        ],
    );
    monthly.new_mrr = mrr_groups(&[(29.0, 60), (49.0, 30), (99.0, 10)]);
    let mut annual = segment(
        "annual",
        Cadence::EveryMonths(12),
        Retention::Geometric { churn_probability: 0.25, variance_logit_churn: 0.1 },
        Acquisition {
            direct: Some(trend(6.0, 0.0, [0.0; 12], Covariance2::ZERO, 2.0)),
            trials: Some(Trials {
                starts: trend(10.0, 0.0, [0.0; 12], Covariance2::ZERO, 1.0),
                conversion: BetaParams { a: 2.0, b: 8.0 },
                lag_months: 0,
                in_progress_at_start: 0,
            }),
        },
        vec![cell(0, 2, &[(20.75, 150)]), cell(1, 7, &[(20.75, 80), (41.5, 40)])],
    );
    annual.new_mrr = mrr_groups(&[(20.75, 3), (41.5, 1)]);
    twin_of(2025 * 12 + 9, vec![monthly, annual])
}

/// A weekly plan, fresh and aged subscribers and direct starts, renewing 4 or 5 times a month.
fn weekly_twin() -> Twin {
    let mut weekly = settled_segment(
        "weekly",
        Cadence::TimesPerYear(52),
        sbg(0.5, 12.0),
        vec![cell(0, 0, &[(9.5, 400), (19.0, 100)]), cell(30, 0, &[(19.0, 300)])],
    );
    weekly.acquisition.direct = Some(trend(15.0, 0.0, [0.0; 12], Covariance2::ZERO, 1.0));
    weekly.new_mrr = mrr_groups(&[(9.5, 2), (19.0, 1)]);
    twin_of(2025 * 12, vec![weekly])
}

// ---------------------------------------------------------------------------------------------
// The tests.

#[test]
fn the_kolmogorov_distribution_matches_its_known_values() {
    // P(K > lambda) at a few points (Smirnov's table; 1.3581 and 1.6276 are the 5% and 1% points).
    for (lambda, expected) in [(0.5, 0.963_945), (1.0, 0.269_999_7), (1.3581, 0.05), (1.6276, 0.01)] {
        let p = kolmogorov_survival(lambda);
        assert!((p - expected).abs() < 1e-5, "P(K > {lambda}) = {p}, expected {expected}");
    }
    // The two series agree where the function switches from one to the other.
    let below = 1.0
        - (2.0 * PI).sqrt() / 1.18
            * (1..=20)
                .map(|j| {
                    let odd = f64::from(2 * j - 1);
                    (-odd * odd * PI * PI / (8.0 * 1.18 * 1.18)).exp()
                })
                .sum::<f64>();
    assert!((below - kolmogorov_survival(1.18)).abs() < 1e-12);
    assert_eq!(kolmogorov_survival(0.0), 1.0);
    assert!(kolmogorov_survival(10.0) < 1e-80);
}

#[test]
fn the_ks_statistic_counts_ties_once_all_tied_values_are_in() {
    assert_eq!(ks_statistic(&[1.0, 2.0, 3.0], &[3.0, 2.0, 1.0]), 0.0);
    assert!((ks_statistic(&[1.0, 1.0, 2.0], &[2.0, 2.0, 2.0]) - 2.0 / 3.0).abs() < 1e-15);
    assert!((ks_statistic(&[1.0, 2.0], &[1.0, 3.0]) - 0.5).abs() < 1e-15);
    assert_eq!(ks_statistic(&[1.0, 2.0], &[5.0, 6.0, 7.0]), 1.0);
}

/// The reference itself, anchored to the model's closed form: with no acquisition and no parameter
/// uncertainty, a cell of n subscribers who have survived k renewals keeps n S(k + r) / S(k) of them
/// on average after r more renewals. (The engine's own closed-form check lives with the engine.)
#[test]
fn the_reference_simulation_keeps_the_closed_form_survivors() {
    let twin = settled_twin();
    let horizon = 24;
    let reference = reference_figures(&twin, horizon);
    let mut comparisons = Vec::new();
    for month in [1usize, 6, 12, 24] {
        let (mut expected_active, mut expected_mrr) = (0.0, 0.0);
        for segment in &twin.segments {
            for c in &segment.cells {
                // Renewals in months 0..month of a cell renewing first at its offset, then every interval.
                let interval = billing_interval(segment.cadence);
                let offset = c.next_renewal_offset_months as usize;
                let renewals = if month > offset { (month - 1 - offset) / interval + 1 } else { 0 };
                let survival: f64 = (0..renewals as u64)
                    .map(|r| {
                        let k = u64::from(c.renewals_survived) + r;
                        match segment.retention {
                            Retention::ShiftedBetaGeometric { alpha, beta, .. } => {
                                1.0 - alpha / (alpha + beta + k as f64)
                            }
                            Retention::Geometric { churn_probability, .. } => 1.0 - churn_probability,
                        }
                    })
                    .product();
                for g in &c.mrr {
                    expected_active += g.subscribers as f64 * survival;
                    expected_mrr += g.subscribers as f64 * survival * g.mrr_major_units;
                }
            }
        }
        for (quantity, expected) in [(Quantity::Active, expected_active), (Quantity::Mrr, expected_mrr)] {
            let values: Vec<f64> = reference.iter().map(|p| quantity.of(&p[month - 1])).collect();
            let (mean, variance, _) = moments(&values);
            let p = two_sided_p(mean - expected, (variance / values.len() as f64).sqrt());
            comparisons.push((format!("{} in month {month}", quantity.name()), mean, expected, p));
        }
    }
    let level = FAMILY_LEVEL / comparisons.len() as f64;
    for (what, mean, expected, p) in &comparisons {
        assert!(*p >= level, "{what}: the reference's mean {mean} is not the closed form's {expected} (p {p:.3e})");
    }
}

#[test]
fn without_acquisition_the_engine_matches_a_subscriber_level_simulation() {
    let twin = settled_twin();
    let comparisons = compare(
        &engine_figures(&twin, 24),
        &reference_figures(&twin, 24),
        &[1, 6, 12, 24],
        &[Quantity::Active, Quantity::Mrr],
    );
    assert_same_distributions("no acquisition", &comparisons);
}

#[test]
fn with_acquisition_trials_and_parameter_uncertainty_the_engine_matches_a_subscriber_level_simulation() {
    let twin = growing_twin();
    let comparisons = compare(
        &engine_figures(&twin, 24),
        &reference_figures(&twin, 24),
        &[1, 2, 3, 8, 13, 24],
        &[Quantity::Active, Quantity::Mrr, Quantity::New, Quantity::Churned],
    );
    assert_same_distributions("acquisition and uncertainty", &comparisons);
}

#[test]
fn a_weekly_plan_matches_four_or_five_renewals_a_month_one_subscriber_at_a_time() {
    let twin = weekly_twin();
    let comparisons = compare(
        &engine_figures(&twin, 12),
        &reference_figures(&twin, 12),
        &[1, 2, 3, 6, 12],
        &[Quantity::Active, Quantity::Mrr, Quantity::New, Quantity::Churned],
    );
    assert_same_distributions("weekly plan", &comparisons);
}

/// The comparison can fail: against a reference whose sBG alpha is 10% higher (a churn at the first
/// renewal of 0.204 instead of 0.189 in the monthly segment), it rejects by a wide margin.
#[test]
fn the_comparison_rejects_a_reference_with_a_slightly_wrong_hazard() {
    let twin = settled_twin();
    let mut wrong = twin.clone();
    for segment in &mut wrong.segments {
        if let Retention::ShiftedBetaGeometric { alpha, .. } = &mut segment.retention {
            *alpha *= 1.1;
        }
    }
    let comparisons =
        compare(&engine_figures(&twin, 12), &reference_figures(&wrong, 12), &[12], &[Quantity::Active, Quantity::Mrr]);
    let active = &comparisons[0];
    assert!(active.ks < 1e-9, "KS misses the wrong hazard: {active}");
    assert!(active.means < 1e-9, "the means test misses the wrong hazard: {active}");
    let level = bonferroni_level(&comparisons);
    assert!(comparisons.iter().all(|c| c.ks < level), "a figure passes despite the wrong hazard: {comparisons:?}");
}

/// The variance comparison can fail too: against a reference that ignores the retention's parameter
/// uncertainty (the same fitted values on every path), the means agree but the spread between paths
/// does not, and the KS and variance tests reject.
#[test]
fn the_comparison_rejects_a_reference_that_ignores_parameter_uncertainty() {
    let twin = growing_twin();
    let mut certain = twin.clone();
    for segment in &mut certain.segments {
        match &mut segment.retention {
            Retention::ShiftedBetaGeometric { uncertainty, .. } => *uncertainty = Covariance2::ZERO,
            Retention::Geometric { variance_logit_churn, .. } => *variance_logit_churn = 0.0,
        }
    }
    let comparisons = compare(&engine_figures(&twin, 12), &reference_figures(&certain, 12), &[12], &[Quantity::Active]);
    let active = &comparisons[0];
    assert!(active.variances < 1e-9, "the variance test misses the missing uncertainty: {active}");
    assert!(active.ks < 1e-9, "KS misses the missing uncertainty: {active}");
}
