//! The twin as a plain value: everything the simulation engine needs to run a business forward, and
//! nothing about how it was fitted.
//!
//! A [`Twin`] holds, per segment (a plan and billing interval), the fitted retention and acquisition
//! parameters with their uncertainty, the distribution of a new subscriber's MRR, and the real state at
//! the start: the subscribers alive, grouped into cells by how many renewals they have survived and when
//! they renew next. It derives `Serialize` and `Deserialize` because a share link will carry it, which
//! is also why [`Twin::check`] bounds every number: a twin may come from an untrusted link, and the
//! engine ([`crate::sim`]) refuses one that has not passed the check.
//!
//! Units: money is MRR in major currency units (dollars, euros) as `f64`. The engine only sums and
//! compares these values (an annual plan's MRR is a twelfth of its price, not a whole number of cents
//! anyway), and the simulated totals are statistics, not ledger amounts, so exact minor units would buy
//! nothing here. Months are counted from the twin's start month: offset 0 is the first simulated month.

use serde::{Deserialize, Serialize};

/// At most this many segments in one twin.
pub const MAX_SEGMENTS: usize = 256;
/// At most this many starting cells in one segment (a segment with years of monthly cohorts has a few
/// hundred).
pub const MAX_CELLS_PER_SEGMENT: usize = 4096;
/// At most this many distinct MRR values in one cell, or in one segment's new-subscriber distribution.
pub const MAX_MRR_VALUES: usize = 4096;
/// At most this many (MRR, count) groups in the whole twin, cells and new-subscriber distributions
/// together: bounds the memory one path's state takes.
pub const MAX_MRR_GROUPS_IN_TWIN: usize = 1 << 20;
/// At most this many subscribers in the whole starting state (far above any real business, and far
/// below where `u64` counts or `f64` sums of them lose whole units).
pub const MAX_SUBSCRIBERS: u64 = 1_000_000_000_000;
/// The largest weight of one value in a new-subscriber MRR distribution.
pub const MAX_MRR_WEIGHT: u64 = 1_000_000_000_000;
/// The largest MRR of one subscriber, in major units per month.
pub const MAX_MRR_MAJOR_UNITS: f64 = 1e9;
/// The most renewals a starting cell may have survived.
pub const MAX_RENEWALS_SURVIVED: u32 = 100_000;
/// The longest billing interval, in months.
pub const MAX_RENEWAL_MONTHS: u32 = 60;
/// The most renewals a year of a plan billed more often than monthly (daily billing has 365 or 366).
pub const MAX_RENEWALS_PER_YEAR: u32 = 366;
/// The range of the shifted-beta-geometric `alpha` and `beta`. Beyond the top the model is the
/// geometric one to every digit that matters: use [`Retention::Geometric`].
pub const SBG_PARAMETER_RANGE: (f64, f64) = (1e-6, 1e9);
/// The largest variance of a logit-scale or log-scale estimate (a standard deviation of 10 on those
/// scales already spans every plausible value).
pub const MAX_VARIANCE: f64 = 100.0;
/// The range of a Poisson trend's log rate intercept (the rate itself tops out at e^18, about 66
/// million new subscriptions a month).
pub const LOG_RATE_INTERCEPT_RANGE: (f64, f64) = (-50.0, 18.0);
/// The range of a log rate's slope per month (±1 is a factor of e, 2.7, every month).
pub const LOG_RATE_SLOPE_RANGE: (f64, f64) = (-1.0, 1.0);
/// The range of a seasonal log multiplier.
pub const SEASONAL_LOG_MULTIPLIER_RANGE: (f64, f64) = (-10.0, 10.0);
/// The range of the trial-conversion Beta parameters.
pub const CONVERSION_PARAMETER_RANGE: (f64, f64) = (1e-6, 1e12);
/// The most trials a segment may have in progress at the start.
pub const MAX_TRIALS_IN_PROGRESS: u64 = 1_000_000_000;
/// The longest segment name, in characters.
pub const MAX_NAME_CHARS: usize = 200;
/// The range of start months: years 1 to 9999, counted as `year * 12 + (month - 1)`.
pub const START_MONTH_INDEX_RANGE: (i32, i32) = (12, 9999 * 12 + 11);

/// A business ready to simulate: its segments and the calendar month the simulation starts in.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Twin {
    /// The first simulated month, counted from year 0 as `year * 12 + (month - 1)` (the convention of
    /// `import::values::MonthIndex`): 2025-03 is `2025 * 12 + 2`. The cells describe the state at the
    /// start of this month; it also places the seasonal multipliers on the calendar.
    pub start_month_index: i32,
    /// How much of a month the first simulated month spans: 1, plus the share of the calibration
    /// month that was still to come at the as-of instant (the data ends on the 20th of a 30-day
    /// month: 1 + 10/30). Renewals due in that rest already fall in the first simulated month; this
    /// scales its expected arrivals to match. 1 to 2.
    #[serde(default = "one")]
    pub first_month_exposure: f64,
    pub segments: Vec<SegmentTwin>,
}

fn one() -> f64 {
    1.0
}

/// One segment: subscribers of one plan who share a billing interval, and so a renewal clock.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct SegmentTwin {
    pub name: String,
    pub cadence: Cadence,
    pub retention: Retention,
    pub acquisition: Acquisition,
    /// The MRR of a new subscriber, as an empirical distribution: each distinct value with the number
    /// of recent new subscribers who started at it (its weight). Each new subscriber's MRR is drawn in
    /// these proportions. May be empty only when the segment acquires nobody.
    pub new_mrr: Vec<MrrGroup>,
    /// The subscribers alive at the start, grouped by renewal age and renewal month.
    pub cells: Vec<Cell>,
    /// What the history says about this segment's response to a price change, where it holds one
    /// (a scenario that changes the price uses it instead of an assumed range).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub price_response: Option<LearnedPriceResponse>,
    /// How existing subscribers' MRR moves each month (seats added or removed, plan changes within
    /// the segment), where the history shows it: each month every cell's MRR is multiplied by
    /// 1 + expansion - contraction, the two drawn once per path. Returning customers are not here:
    /// the acquisition streams count them.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub movements: Option<MrrMovements>,
}

/// Expansion and contraction MRR per month, each as a share of the MRR at the end of the month
/// before.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct MrrMovements {
    pub expansion: NormalEstimate,
    pub contraction: NormalEstimate,
}

/// Elasticities estimated from a past price change of the segment, each with its uncertainty as a
/// normal distribution (the estimate and its standard error) that every path draws from.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct LearnedPriceResponse {
    /// The churn elasticity: the renewal hazard is multiplied by (new price / old price)^e.
    pub churn_elasticity: Option<NormalEstimate>,
    /// The acquisition elasticity: arrivals are multiplied by (new price / old price)^(-n).
    pub acquisition_elasticity: Option<NormalEstimate>,
}

/// An estimate and its standard error.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct NormalEstimate {
    pub estimate: f64,
    pub standard_error: f64,
}

/// The range of an elasticity (learned or assumed) and of its standard error.
pub const ELASTICITY_RANGE: (f64, f64) = (-20.0, 20.0);

/// How often a segment's subscribers renew. Retention is counted in these renewals: the sBG
/// parameters of an annual plan are per year, those of a weekly plan per week.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Cadence {
    /// Renews every this many months: 1 monthly, 3 quarterly, 12 annual (1 to
    /// [`MAX_RENEWAL_MONTHS`]). A cell renews only in the months its clock reaches.
    EveryMonths(u32),
    /// Renews this many times a year, more often than monthly (13 to [`MAX_RENEWALS_PER_YEAR`]):
    /// weekly 52, fortnightly 26, twice a month 24, daily 365. The engine works in months, so month
    /// `j` of the horizon applies `floor((j + 1) * n / 12) - floor(j * n / 12)` renewals to every cell,
    /// one after another (4 or 5 for a weekly plan, exactly `n` in every twelve months). A subscriber
    /// who starts in a month has its first renewal in the next month: at month resolution the engine
    /// does not know the day they started, so the part of a month before their first renewal is
    /// counted as paid, which delays their first churn by up to a month.
    TimesPerYear(u32),
}

impl Cadence {
    /// The months of MRR each renewal (and each start) pays for: 12 for an annual plan, 12/52 for
    /// a weekly one.
    pub fn months_per_payment(self) -> f64 {
        match self {
            Cadence::EveryMonths(months) => f64::from(months),
            Cadence::TimesPerYear(times) => 12.0 / f64::from(times),
        }
    }
}

/// The churn model of a segment, per renewal of its own billing interval.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "model", rename_all = "snake_case")]
pub enum Retention {
    /// Shifted-beta-geometric (Fader & Hardie 2007): each subscriber churns at each renewal with
    /// their own probability theta ~ Beta(alpha, beta), so among those who have survived `k`
    /// renewals, the share who churn at the next one is `alpha / (alpha + beta + k)`.
    ShiftedBetaGeometric {
        alpha: f64,
        beta: f64,
        /// The uncertainty of the fit, as the covariance of (logit m, logit p), where m = alpha /
        /// (alpha + beta) is the mean churn and p = 1 / (alpha + beta + 1) the polarisation. Each
        /// path draws its own (logit m, logit p) from the bivariate normal around the fitted values
        /// and turns them back into alpha and beta; all zeros means no parameter uncertainty.
        uncertainty: Covariance2,
    },
    /// The limit of the sBG as alpha and beta grow together: every subscriber churns with the same
    /// probability at every renewal, whatever their age.
    Geometric {
        /// The churn probability per renewal, 0 to 1.
        churn_probability: f64,
        /// The variance of logit(churn_probability), drawn per path; 0 for none (which a churn
        /// probability of exactly 0 or 1 requires).
        variance_logit_churn: f64,
    },
}

/// The covariance matrix `[[variance_first, covariance], [covariance, variance_second]]` of two
/// estimates; which two is said where it is used. Symmetric by construction.
#[derive(Clone, Copy, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Covariance2 {
    pub variance_first: f64,
    pub variance_second: f64,
    pub covariance: f64,
}

impl Covariance2 {
    /// No uncertainty at all.
    pub const ZERO: Covariance2 = Covariance2 { variance_first: 0.0, variance_second: 0.0, covariance: 0.0 };

    pub fn is_zero(&self) -> bool {
        self.variance_first == 0.0 && self.variance_second == 0.0 && self.covariance == 0.0
    }

    /// The lower-triangular Cholesky factor `[[l11, 0], [l21, l22]]` as `(l11, l21, l22)`, so that
    /// `(l11 z1, l21 z1 + l22 z2)` has this covariance when z1 and z2 are independent standard
    /// normals. A matrix that is singular (a variance of zero, or perfectly correlated estimates)
    /// factors too. Only meaningful for a checked matrix (positive semidefinite).
    pub fn cholesky(&self) -> (f64, f64, f64) {
        let l11 = libm::sqrt(self.variance_first.max(0.0));
        let l21 = if l11 > 0.0 { self.covariance / l11 } else { 0.0 };
        let l22 = libm::sqrt((self.variance_second - l21 * l21).max(0.0));
        (l11, l21, l22)
    }
}

/// How a segment gains paid subscribers: directly, and through trials that convert.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Acquisition {
    /// Paid subscriptions that start without a trial; `None` when the segment has none.
    pub direct: Option<PoissonTrend>,
    /// Trials and their conversion; `None` when the segment has no trials.
    pub trials: Option<Trials>,
}

/// Starts per month, Poisson with a log-linear trend and optional seasonality. The rate in month
/// offset `k` is `exp(log_rate_intercept + log_rate_slope_per_month * k + seasonal[calendar month])`,
/// capped at `sim::MAX_RATE_PER_MONTH` so that no drawn trend can explode.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct PoissonTrend {
    /// ln(expected starts per month) in the first simulated month, before the seasonal multiplier.
    pub log_rate_intercept: f64,
    /// The change of the log rate per month (0.02 is about 2% growth a month).
    pub log_rate_slope_per_month: f64,
    /// ln(seasonal multiplier) per calendar month, January first; all zeros without seasonality.
    pub seasonal_log_multipliers: [f64; 12],
    /// The covariance of (intercept, slope) estimates: each path draws its own pair from the
    /// bivariate normal around the fitted values. All zeros means no parameter uncertainty.
    pub uncertainty: Covariance2,
    /// How much more a month's count varies than a Poisson's (variance = dispersion x mean): 1 is
    /// Poisson; above 1, each month's rate is first drawn from a gamma around it (a negative
    /// binomial), as real arrivals vary with campaigns and news. 1 to [`MAX_DISPERSION`].
    #[serde(default = "poisson_dispersion")]
    pub dispersion: f64,
}

/// A Poisson's dispersion, for twins written before arrivals could be overdispersed.
fn poisson_dispersion() -> f64 {
    1.0
}

/// The largest dispersion of monthly arrivals.
pub const MAX_DISPERSION: f64 = 1e6;

/// Trials: how many start, what share convert to paid, and when.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Trials {
    /// Trial starts per month.
    pub starts: PoissonTrend,
    /// The conversion probability's distribution, Beta(a, b) (the beta-binomial fit's): each path
    /// draws one probability and converts every month's trials with it.
    pub conversion: BetaParams,
    /// Months from a trial's start to its first payment: 0 (trials shorter than the month they start
    /// in, counted as converting within it) or 1 (converting in the next month).
    pub lag_months: u32,
    /// Trials already running at the start that convert (or not) in the first simulated month; only
    /// with a lag of 1 month, for which they are the trials started in the month before the start.
    pub in_progress_at_start: u64,
}

/// The parameters of a Beta(a, b) distribution.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct BetaParams {
    pub a: f64,
    pub b: f64,
}

/// Subscribers of one segment who have survived the same number of renewals and renew next in the
/// same month: under the sBG they share one churn probability at that renewal, so the engine draws
/// their churners together.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Cell {
    /// The renewals these subscribers have survived (`k`); at their next renewal, number `k + 1`, each
    /// churns with probability `alpha / (alpha + beta + k)`.
    pub renewals_survived: u32,
    /// Months from the start month to their next renewal: 0 to the cadence's months minus 1 (0 is the
    /// first simulated month). Always 0 for [`Cadence::TimesPerYear`], which renews every month.
    pub next_renewal_offset_months: u32,
    /// Their distinct MRR values, each with the number of subscribers paying it.
    pub mrr: Vec<MrrGroup>,
}

/// Subscribers (or, in a new-subscriber distribution, a weight) at one MRR.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct MrrGroup {
    /// Monthly recurring revenue of one subscriber, in major currency units.
    pub mrr_major_units: f64,
    pub subscribers: u64,
}

/// Why a twin was refused, and where: `field` is a path into the twin such as
/// `segments[1] "Pro monthly".cells[4].mrr[0].subscribers`.
#[derive(Clone, Debug, PartialEq)]
pub struct TwinError {
    pub field: String,
    pub problem: TwinProblem,
}

/// What is wrong with a field.
#[derive(Clone, Debug, PartialEq)]
pub enum TwinProblem {
    /// NaN or infinite.
    NotFinite,
    /// Outside its allowed range (both ends included).
    OutOfRange { value: f64, min: f64, max: f64 },
    /// A list longer than its limit, or counts summing past theirs.
    TooMany { count: u64, limit: u64 },
    /// A covariance matrix that no bivariate normal has (a negative variance, or a correlation
    /// beyond ±1).
    NotPositiveSemidefinite,
    /// The segment acquires subscribers but its new-subscriber MRR distribution is empty or has no
    /// weight.
    NoNewMrr,
    /// Trials in progress at the start with a lag of 0 months (they would have converted already).
    TrialsInProgressWithoutLag,
    /// An uncertain churn probability of exactly 0 or 1 (its logit is infinite).
    UncertainCertainty,
}

impl std::fmt::Display for TwinError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: ", self.field)?;
        match &self.problem {
            TwinProblem::NotFinite => write!(f, "is not a finite number; give a number."),
            TwinProblem::OutOfRange { value, min, max } => {
                write!(f, "{value} is outside the allowed range {min} to {max}.")
            }
            TwinProblem::TooMany { count, limit } => write!(f, "{count} is more than the limit of {limit}."),
            TwinProblem::NotPositiveSemidefinite => write!(
                f,
                "is not a covariance matrix: variances must be at least 0 and the covariance at most \
                 the square root of their product."
            ),
            TwinProblem::NoNewMrr => write!(
                f,
                "the segment acquires subscribers, so it needs at least one new-subscriber MRR value with \
                 a weight above 0."
            ),
            TwinProblem::TrialsInProgressWithoutLag => write!(
                f,
                "trials in progress at the start need a lag of 1 month (with a lag of 0 they have converted \
                 already); set it to 0 or the lag to 1."
            ),
            TwinProblem::UncertainCertainty => {
                write!(f, "a churn probability of exactly 0 or 1 cannot have uncertainty; set its variance to 0.")
            }
        }
    }
}

impl std::error::Error for TwinError {}

impl Twin {
    /// Checks every field against its range and every list against its limit (see the `MAX_` and
    /// `_RANGE` constants), returning the first problem found. The engine calls this before
    /// simulating, so a twin from anywhere either simulates or is refused with a message, never a
    /// panic or a path of NaNs.
    pub fn check(&self) -> Result<(), TwinError> {
        let (low, high) = START_MONTH_INDEX_RANGE;
        check_range("start_month_index", f64::from(self.start_month_index), f64::from(low), f64::from(high))?;
        check_range("first_month_exposure", self.first_month_exposure, 1.0, 2.0)?;
        check_count("segments", self.segments.len() as u64, MAX_SEGMENTS as u64)?;
        let mut groups = 0u64;
        let mut subscribers = 0u64;
        for (index, segment) in self.segments.iter().enumerate() {
            let name: String = segment.name.chars().take(40).collect();
            let field = format!("segments[{index}] {name:?}");
            segment.check(&field, &mut groups, &mut subscribers)?;
        }
        Ok(())
    }
}

impl SegmentTwin {
    fn check(&self, field: &str, groups: &mut u64, subscribers: &mut u64) -> Result<(), TwinError> {
        check_count(&format!("{field}.name (characters)"), self.name.chars().count() as u64, MAX_NAME_CHARS as u64)?;
        let cadence_months = match self.cadence {
            Cadence::EveryMonths(months) => {
                check_range(
                    &format!("{field}.cadence.every_months"),
                    f64::from(months),
                    1.0,
                    MAX_RENEWAL_MONTHS.into(),
                )?;
                months
            }
            Cadence::TimesPerYear(times) => {
                let field = format!("{field}.cadence.times_per_year");
                check_range(&field, f64::from(times), 13.0, MAX_RENEWALS_PER_YEAR.into())?;
                1
            }
        };
        self.retention.check(&format!("{field}.retention"))?;
        self.acquisition.check(&format!("{field}.acquisition"))?;
        if let Some(movements) = &self.movements {
            for (name, estimate) in [("expansion", movements.expansion), ("contraction", movements.contraction)] {
                let at = format!("{field}.movements.{name}");
                check_range(&format!("{at}.estimate"), estimate.estimate, 0.0, 1.0)?;
                check_range(&format!("{at}.standard_error"), estimate.standard_error, 0.0, 1.0)?;
            }
        }
        if let Some(response) = &self.price_response {
            let (low, high) = ELASTICITY_RANGE;
            for (name, estimate) in [
                ("churn_elasticity", response.churn_elasticity),
                ("acquisition_elasticity", response.acquisition_elasticity),
            ] {
                if let Some(estimate) = estimate {
                    let at = format!("{field}.price_response.{name}");
                    check_range(&format!("{at}.estimate"), estimate.estimate, low, high)?;
                    check_range(&format!("{at}.standard_error"), estimate.standard_error, 0.0, high)?;
                }
            }
        }

        let new_mrr_field = format!("{field}.new_mrr");
        check_groups(&new_mrr_field, &self.new_mrr, MAX_MRR_WEIGHT, groups)?;
        let acquires = self.acquisition.direct.is_some() || self.acquisition.trials.is_some();
        if acquires && self.new_mrr.iter().all(|g| g.subscribers == 0) {
            return Err(TwinError { field: new_mrr_field, problem: TwinProblem::NoNewMrr });
        }

        check_count(&format!("{field}.cells"), self.cells.len() as u64, MAX_CELLS_PER_SEGMENT as u64)?;
        for (index, cell) in self.cells.iter().enumerate() {
            let cell_field = format!("{field}.cells[{index}]");
            check_range(
                &format!("{cell_field}.renewals_survived"),
                f64::from(cell.renewals_survived),
                0.0,
                MAX_RENEWALS_SURVIVED.into(),
            )?;
            check_range(
                &format!("{cell_field}.next_renewal_offset_months"),
                f64::from(cell.next_renewal_offset_months),
                0.0,
                f64::from(cadence_months - 1),
            )?;
            let cell_subscribers = check_groups(&format!("{cell_field}.mrr"), &cell.mrr, MAX_SUBSCRIBERS, groups)?;
            *subscribers = subscribers.saturating_add(cell_subscribers);
            check_count(&format!("{cell_field}.mrr (subscribers in the twin)"), *subscribers, MAX_SUBSCRIBERS)?;
        }
        Ok(())
    }
}

impl Retention {
    fn check(&self, field: &str) -> Result<(), TwinError> {
        match self {
            Retention::ShiftedBetaGeometric { alpha, beta, uncertainty } => {
                let (low, high) = SBG_PARAMETER_RANGE;
                check_range(&format!("{field}.alpha"), *alpha, low, high)?;
                check_range(&format!("{field}.beta"), *beta, low, high)?;
                uncertainty.check(&format!("{field}.uncertainty"))
            }
            Retention::Geometric { churn_probability, variance_logit_churn } => {
                check_range(&format!("{field}.churn_probability"), *churn_probability, 0.0, 1.0)?;
                let variance_field = format!("{field}.variance_logit_churn");
                check_range(&variance_field, *variance_logit_churn, 0.0, MAX_VARIANCE)?;
                if *variance_logit_churn > 0.0 && (*churn_probability == 0.0 || *churn_probability == 1.0) {
                    return Err(TwinError { field: variance_field, problem: TwinProblem::UncertainCertainty });
                }
                Ok(())
            }
        }
    }
}

impl Acquisition {
    fn check(&self, field: &str) -> Result<(), TwinError> {
        if let Some(direct) = &self.direct {
            direct.check(&format!("{field}.direct"))?;
        }
        if let Some(trials) = &self.trials {
            let field = format!("{field}.trials");
            trials.starts.check(&format!("{field}.starts"))?;
            let (low, high) = CONVERSION_PARAMETER_RANGE;
            check_range(&format!("{field}.conversion.a"), trials.conversion.a, low, high)?;
            check_range(&format!("{field}.conversion.b"), trials.conversion.b, low, high)?;
            check_range(&format!("{field}.lag_months"), f64::from(trials.lag_months), 0.0, 1.0)?;
            let in_progress_field = format!("{field}.in_progress_at_start");
            check_count(&in_progress_field, trials.in_progress_at_start, MAX_TRIALS_IN_PROGRESS)?;
            if trials.lag_months == 0 && trials.in_progress_at_start > 0 {
                return Err(TwinError { field: in_progress_field, problem: TwinProblem::TrialsInProgressWithoutLag });
            }
        }
        Ok(())
    }
}

impl PoissonTrend {
    fn check(&self, field: &str) -> Result<(), TwinError> {
        let (low, high) = LOG_RATE_INTERCEPT_RANGE;
        check_range(&format!("{field}.log_rate_intercept"), self.log_rate_intercept, low, high)?;
        let (low, high) = LOG_RATE_SLOPE_RANGE;
        check_range(&format!("{field}.log_rate_slope_per_month"), self.log_rate_slope_per_month, low, high)?;
        let (low, high) = SEASONAL_LOG_MULTIPLIER_RANGE;
        for (month, value) in self.seasonal_log_multipliers.iter().enumerate() {
            check_range(&format!("{field}.seasonal_log_multipliers[{month}]"), *value, low, high)?;
        }
        check_range(&format!("{field}.dispersion"), self.dispersion, 1.0, MAX_DISPERSION)?;
        self.uncertainty.check(&format!("{field}.uncertainty"))
    }
}

impl Covariance2 {
    pub(crate) fn check(&self, field: &str) -> Result<(), TwinError> {
        check_range(&format!("{field}.variance_first"), self.variance_first, 0.0, MAX_VARIANCE)?;
        check_range(&format!("{field}.variance_second"), self.variance_second, 0.0, MAX_VARIANCE)?;
        check_range(&format!("{field}.covariance"), self.covariance, -MAX_VARIANCE, MAX_VARIANCE)?;
        // A correlation a hair beyond ±1 is what rounding leaves of a perfectly correlated pair, so
        // the bound has a relative tolerance; the Cholesky factor clamps the difference to zero.
        let bound = self.variance_first * self.variance_second * (1.0 + 1e-9);
        if self.covariance * self.covariance > bound {
            return Err(TwinError { field: field.to_owned(), problem: TwinProblem::NotPositiveSemidefinite });
        }
        Ok(())
    }
}

/// Checks a list of MRR groups (values and counts or weights) and returns the sum of its counts.
fn check_groups(field: &str, groups: &[MrrGroup], max_count: u64, groups_in_twin: &mut u64) -> Result<u64, TwinError> {
    check_count(field, groups.len() as u64, MAX_MRR_VALUES as u64)?;
    *groups_in_twin += groups.len() as u64;
    check_count(&format!("{field} (MRR groups in the twin)"), *groups_in_twin, MAX_MRR_GROUPS_IN_TWIN as u64)?;
    let mut total = 0u64;
    for (index, group) in groups.iter().enumerate() {
        check_range(&format!("{field}[{index}].mrr_major_units"), group.mrr_major_units, 0.0, MAX_MRR_MAJOR_UNITS)?;
        let count_field = format!("{field}[{index}].subscribers");
        check_count(&count_field, group.subscribers, max_count)?;
        total = total.saturating_add(group.subscribers);
        check_count(&format!("{field} (total)"), total, max_count)?;
    }
    Ok(total)
}

fn check_range(field: &str, value: f64, min: f64, max: f64) -> Result<(), TwinError> {
    if !value.is_finite() {
        return Err(TwinError { field: field.to_owned(), problem: TwinProblem::NotFinite });
    }
    if value < min || value > max {
        return Err(TwinError { field: field.to_owned(), problem: TwinProblem::OutOfRange { value, min, max } });
    }
    Ok(())
}

fn check_count(field: &str, count: u64, limit: u64) -> Result<(), TwinError> {
    if count > limit {
        return Err(TwinError { field: field.to_owned(), problem: TwinProblem::TooMany { count, limit } });
    }
    Ok(())
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    /// A small valid twin: one monthly segment with an sBG, direct starts and trials, and two cells.
    pub(crate) fn example_twin() -> Twin {
        let trend = |log_rate: f64| PoissonTrend {
            log_rate_intercept: log_rate,
            log_rate_slope_per_month: 0.01,
            seasonal_log_multipliers: [0.0; 12],
            uncertainty: Covariance2 { variance_first: 0.01, variance_second: 0.0001, covariance: -0.0005 },
            dispersion: 1.0,
        };
        Twin {
            start_month_index: 2025 * 12 + 2,
            first_month_exposure: 1.0,
            segments: vec![SegmentTwin {
                name: "Pro monthly".into(),
                cadence: Cadence::EveryMonths(1),
                retention: Retention::ShiftedBetaGeometric {
                    alpha: 0.8,
                    beta: 6.0,
                    uncertainty: Covariance2 { variance_first: 0.02, variance_second: 0.05, covariance: 0.01 },
                },
                acquisition: Acquisition {
                    direct: Some(trend(3.0)),
                    trials: Some(Trials {
                        starts: trend(2.5),
                        conversion: BetaParams { a: 57.0, b: 43.0 },
                        lag_months: 1,
                        in_progress_at_start: 9,
                    }),
                },
                new_mrr: vec![
                    MrrGroup { mrr_major_units: 49.0, subscribers: 30 },
                    MrrGroup { mrr_major_units: 59.0, subscribers: 70 },
                ],
                cells: vec![
                    Cell {
                        renewals_survived: 0,
                        next_renewal_offset_months: 0,
                        mrr: vec![MrrGroup { mrr_major_units: 59.0, subscribers: 40 }],
                    },
                    Cell {
                        renewals_survived: 7,
                        next_renewal_offset_months: 0,
                        mrr: vec![
                            MrrGroup { mrr_major_units: 49.0, subscribers: 100 },
                            MrrGroup { mrr_major_units: 59.0, subscribers: 20 },
                        ],
                    },
                ],
                price_response: None,
                movements: None,
            }],
        }
    }

    #[test]
    fn a_valid_twin_passes_the_check() {
        assert_eq!(example_twin().check(), Ok(()));
    }

    #[test]
    fn a_twin_survives_a_json_round_trip_unchanged() {
        let twin = example_twin();
        let json = serde_json::to_string(&twin).expect("a twin serialises");
        let back: Twin = serde_json::from_str(&json).expect("and reads back");
        assert_eq!(back, twin);
        assert!(json.contains(r#""cadence":{"every_months":1}"#), "{json}");
        assert!(json.contains(r#""model":"shifted_beta_geometric""#), "{json}");
    }

    /// One broken field per case: the edit, the field the error must name, and the problem.
    #[test]
    fn the_check_names_each_broken_field() {
        type Edit = fn(&mut Twin);
        let cases: Vec<(&str, Edit, &str, TwinProblem)> = vec![
            ("nan alpha", |t| set_alpha(t, f64::NAN), "retention.alpha", TwinProblem::NotFinite),
            (
                "zero alpha",
                |t| set_alpha(t, 0.0),
                "retention.alpha",
                TwinProblem::OutOfRange { value: 0.0, min: 1e-6, max: 1e9 },
            ),
            (
                "negative variance",
                |t| {
                    if let Retention::ShiftedBetaGeometric { uncertainty, .. } = &mut t.segments[0].retention {
                        uncertainty.variance_first = -0.1;
                    }
                },
                "retention.uncertainty.variance_first",
                TwinProblem::OutOfRange { value: -0.1, min: 0.0, max: MAX_VARIANCE },
            ),
            (
                "correlation above one",
                |t| {
                    if let Retention::ShiftedBetaGeometric { uncertainty, .. } = &mut t.segments[0].retention {
                        uncertainty.covariance = 0.5;
                    }
                },
                "retention.uncertainty",
                TwinProblem::NotPositiveSemidefinite,
            ),
            (
                "infinite mrr",
                |t| t.segments[0].cells[1].mrr[1].mrr_major_units = f64::INFINITY,
                "cells[1].mrr[1].mrr_major_units",
                TwinProblem::NotFinite,
            ),
            (
                "renewal offset past the cadence",
                |t| t.segments[0].cells[0].next_renewal_offset_months = 1,
                "cells[0].next_renewal_offset_months",
                TwinProblem::OutOfRange { value: 1.0, min: 0.0, max: 0.0 },
            ),
            (
                "too many subscribers",
                |t| t.segments[0].cells[0].mrr[0].subscribers = MAX_SUBSCRIBERS + 1,
                "cells[0].mrr[0].subscribers",
                TwinProblem::TooMany { count: MAX_SUBSCRIBERS + 1, limit: MAX_SUBSCRIBERS },
            ),
            (
                "exploding trend",
                |t| {
                    if let Some(direct) = &mut t.segments[0].acquisition.direct {
                        direct.log_rate_slope_per_month = 3.0;
                    }
                },
                "acquisition.direct.log_rate_slope_per_month",
                TwinProblem::OutOfRange { value: 3.0, min: -1.0, max: 1.0 },
            ),
            (
                "trials in progress without lag",
                |t| {
                    if let Some(trials) = &mut t.segments[0].acquisition.trials {
                        trials.lag_months = 0;
                    }
                },
                "acquisition.trials.in_progress_at_start",
                TwinProblem::TrialsInProgressWithoutLag,
            ),
            ("no new mrr", |t| t.segments[0].new_mrr.clear(), "new_mrr", TwinProblem::NoNewMrr),
            (
                "weekly plan with a renewal offset",
                |t| {
                    t.segments[0].cadence = Cadence::TimesPerYear(52);
                    t.segments[0].cells[1].next_renewal_offset_months = 2;
                },
                "cells[1].next_renewal_offset_months",
                TwinProblem::OutOfRange { value: 2.0, min: 0.0, max: 0.0 },
            ),
            (
                "twelve times a year is monthly",
                |t| t.segments[0].cadence = Cadence::TimesPerYear(12),
                "cadence.times_per_year",
                TwinProblem::OutOfRange { value: 12.0, min: 13.0, max: 366.0 },
            ),
            (
                "uncertain certainty",
                |t| {
                    t.segments[0].retention = Retention::Geometric { churn_probability: 1.0, variance_logit_churn: 0.1 }
                },
                "retention.variance_logit_churn",
                TwinProblem::UncertainCertainty,
            ),
            (
                "too many segments",
                |t| t.segments = vec![t.segments[0].clone(); MAX_SEGMENTS + 1],
                "segments",
                TwinProblem::TooMany { count: MAX_SEGMENTS as u64 + 1, limit: MAX_SEGMENTS as u64 },
            ),
        ];
        for (case, edit, field_end, problem) in cases {
            let mut twin = example_twin();
            edit(&mut twin);
            let error = twin.check().expect_err(case);
            assert!(error.field.ends_with(field_end), "{case}: the error names {}", error.field);
            assert_eq!(error.problem, problem, "{case}");
            assert!(!error.to_string().is_empty());
        }
    }

    fn set_alpha(twin: &mut Twin, value: f64) {
        if let Retention::ShiftedBetaGeometric { alpha, .. } = &mut twin.segments[0].retention {
            *alpha = value;
        }
    }

    #[test]
    fn the_geometric_limit_with_certain_churn_is_allowed() {
        let mut twin = example_twin();
        twin.segments[0].retention = Retention::Geometric { churn_probability: 0.0, variance_logit_churn: 0.0 };
        assert_eq!(twin.check(), Ok(()));
    }

    #[test]
    fn a_perfectly_correlated_covariance_factors() {
        let covariance = Covariance2 { variance_first: 4.0, variance_second: 1.0, covariance: 2.0 };
        let (l11, l21, l22) = covariance.cholesky();
        assert_eq!((l11, l21, l22), (2.0, 1.0, 0.0));
    }
}
