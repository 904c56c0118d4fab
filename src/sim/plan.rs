//! What a scenario changes, in the engine's terms: month offsets from the twin's start month, segment
//! indices, factors and the distributions each path draws its assumed responses from. A scenario
//! (`crate::scenario`) is written by people, in names and calendar months, and compiled into a
//! [`Plan`]; the engine takes only the plan, and checks it as it checks a twin.
//!
//! The price response follows one rule wherever a price differs from the baseline's (a price change,
//! an introductory discount, a new plan): at each renewal, the churn probability is
//! `min(1, h × ratio^e)`, where `ratio` is what the subscriber pays from that renewal on over what
//! the baseline charges and `e` the churn elasticity; at the first renewal where the price they pay
//! rises, a one-time shock `s` makes it `1 - (1 - h')(1 - s)`. Arrivals in a month are multiplied by
//! the entry price's `ratio^(-n)`, `n` the acquisition elasticity.

use serde::{Deserialize, Serialize};

/// A month offset meaning "never".
pub const NEVER: u32 = u32::MAX;

/// The most changes of one kind per segment, and the most new plans or migrations in a plan.
pub const MAX_CHANGES: usize = 64;
/// The largest price ratio (or factor on arrivals, churn or conversion) a plan may hold.
pub const MAX_FACTOR: f64 = 1000.0;

/// Everything a scenario changes.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Plan {
    /// One per twin segment, in the twin's order.
    pub segments: Vec<SegmentPlan>,
    /// Plans that do not exist yet, simulated after the twin's segments (their figures come after
    /// the twin's segments' in the simulation).
    pub new_plans: Vec<NewPlan>,
    /// One-time moves of subscribers from one segment to another, at their renewal in a month.
    pub migrations: Vec<Migration>,
}

/// The changes to one segment. The default changes nothing.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct SegmentPlan {
    /// Factors on the expected arrivals (direct and trial starts), each over a range of months;
    /// where ranges overlap the factors multiply.
    pub acquisition: Vec<MonthlyFactor>,
    /// Factors on the churn probability at every renewal (a retention initiative below 1).
    pub churn: Vec<MonthlyFactor>,
    /// Factors on the trial conversion probability (capped at 1).
    pub conversion: Vec<MonthlyFactor>,
    pub price: Option<PriceChange>,
    pub discount: Option<IntroDiscount>,
    /// How subscribers and arrivals respond to a price that differs from the baseline's.
    pub response: ResponseDraws,
    /// Shares of the segment's new subscribers that go to a new plan instead.
    pub diversions: Vec<Diversion>,
}

/// A factor applied in the months `from` to `until - 1` (`until` [`NEVER`] for no end).
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct MonthlyFactor {
    pub from: u32,
    pub until: u32,
    pub factor: f64,
}

/// A new price, as a ratio to the baseline's.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct PriceChange {
    /// New price over old, for every subscriber's MRR (seats and discounts scale with it).
    pub ratio: f64,
    /// The first month in which new subscribers start at the new price.
    pub new_from: u32,
    /// Existing subscribers (those at the start, and those who started before `new_from`) pay the
    /// new price from their first renewal in or after this month; [`NEVER`] keeps their price.
    pub existing_from: u32,
}

/// A discount for new subscribers who start in the months `from` to `until - 1`: they pay
/// `factor` times the price until their first renewal at least `months` months after they started.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct IntroDiscount {
    pub factor: f64,
    pub from: u32,
    pub until: u32,
    pub months: u32,
}

/// The distributions each path draws a segment's price response from.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct ResponseDraws {
    pub churn_elasticity: Draw,
    pub acquisition_elasticity: Draw,
    /// The one-time shock at the first renewal that meets a higher price, 0 to 1.
    pub shock: Draw,
}

impl Default for ResponseDraws {
    fn default() -> Self {
        ResponseDraws {
            churn_elasticity: Draw::Fixed(0.0),
            acquisition_elasticity: Draw::Fixed(0.0),
            shock: Draw::Fixed(0.0),
        }
    }
}

/// A number each path draws.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Draw {
    Fixed(f64),
    Uniform {
        low: f64,
        high: f64,
    },
    Triangular {
        low: f64,
        mode: f64,
        high: f64,
    },
    /// Learned: normal around an estimate with its standard error.
    Normal {
        mean: f64,
        standard_error: f64,
    },
}

impl Draw {
    /// The value for a uniform `u` in [0, 1) and a standard normal `z` (both always drawn, so the
    /// stream's position after a draw does not depend on the distribution).
    pub fn value(&self, u: f64, z: f64) -> f64 {
        match *self {
            Draw::Fixed(value) => value,
            Draw::Uniform { low, high } => low + (high - low) * u,
            Draw::Triangular { low, mode, high } => {
                let width = high - low;
                if width <= 0.0 {
                    return low;
                }
                let split = (mode - low) / width;
                if u < split {
                    low + f64::sqrt(u * width * (mode - low))
                } else {
                    high - f64::sqrt((1.0 - u) * width * (high - mode))
                }
            }
            Draw::Normal { mean, standard_error } => mean + standard_error * z,
        }
    }

    /// The range over which a sensitivity varies the draw: its ends (the 95% interval for a normal),
    /// or `None` for a fixed value.
    pub fn range(&self) -> Option<(f64, f64)> {
        match *self {
            Draw::Fixed(_) => None,
            Draw::Uniform { low, high } | Draw::Triangular { low, high, .. } => Some((low, high)),
            Draw::Normal { mean, standard_error } => {
                Some((mean - 1.959_964 * standard_error, mean + 1.959_964 * standard_error))
            }
        }
    }

    /// The mean of the distribution.
    pub fn mean(&self) -> f64 {
        match *self {
            Draw::Fixed(value) => value,
            Draw::Uniform { low, high } => (low + high) / 2.0,
            Draw::Triangular { low, mode, high } => (low + mode + high) / 3.0,
            Draw::Normal { mean, .. } => mean,
        }
    }

    fn check(&self, field: &str, min: f64, max: f64) -> Result<(), String> {
        let values: Vec<f64> = match *self {
            Draw::Fixed(value) => vec![value],
            Draw::Uniform { low, high } => vec![low, high],
            Draw::Triangular { low, mode, high } => vec![low, mode, high],
            Draw::Normal { mean, standard_error } => {
                if !(0.0..=max - min).contains(&standard_error) {
                    return Err(format!("{field}: standard error {standard_error} is outside 0 to {}", max - min));
                }
                vec![mean]
            }
        };
        if let Some(value) = values.iter().find(|v| !(min..=max).contains(*v)) {
            return Err(format!("{field}: {value} is outside {min} to {max}"));
        }
        if values.windows(2).any(|pair| pair[0] > pair[1]) {
            return Err(format!("{field}: the values must be in increasing order"));
        }
        Ok(())
    }
}

/// A share of a segment's new subscribers, from a month on, that choose a new plan instead.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct Diversion {
    /// The index of the new plan in [`Plan::new_plans`].
    pub new_plan: usize,
    pub from: u32,
    pub share: f64,
}

/// A plan that does not exist yet: it renews like an existing segment (`like`: its cadence, its
/// retention drawn on the same path) and takes its subscribers from other segments' arrivals.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct NewPlan {
    pub name: String,
    pub like: usize,
    /// Every subscriber's MRR on the new plan.
    pub mrr_major_units: f64,
    /// The new plan's price over `like`'s, for the churn response.
    pub price_ratio: f64,
    pub response: ResponseDraws,
}

/// Subscribers of `from_segment` who, at their renewal in `month`, move to `to_segment` (annual
/// billing, typically), each with probability `share`, paying `price_factor` times their MRR there.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct Migration {
    pub from_segment: usize,
    pub to_segment: usize,
    pub month: u32,
    pub share: f64,
    pub price_factor: f64,
}

impl Plan {
    /// The plan that changes nothing, for a twin of `segments` segments.
    pub fn baseline(segments: usize) -> Plan {
        Plan { segments: vec![SegmentPlan::default(); segments], new_plans: Vec::new(), migrations: Vec::new() }
    }

    /// Checks the plan against the twin's segment count: indices in range, factors and shares in
    /// range, at most one migration into or out of a segment per month, and no segment both sending
    /// and receiving migrants (so that the order segments run in is well defined). The message
    /// names the field.
    pub fn check(&self, segments: usize) -> Result<(), String> {
        if self.segments.len() != segments {
            return Err(format!("the plan has {} segments but the twin {segments}", self.segments.len()));
        }
        if self.new_plans.len() > MAX_CHANGES || self.migrations.len() > MAX_CHANGES {
            return Err(format!("more than {MAX_CHANGES} new plans or migrations"));
        }
        let factor = |field: &str, value: f64, min: f64, max: f64| -> Result<(), String> {
            if !(min..=max).contains(&value) {
                return Err(format!("{field}: {value} is outside {min} to {max}"));
            }
            Ok(())
        };
        for (index, segment) in self.segments.iter().enumerate() {
            let at = format!("segments[{index}]");
            for (name, list) in
                [("acquisition", &segment.acquisition), ("churn", &segment.churn), ("conversion", &segment.conversion)]
            {
                if list.len() > MAX_CHANGES {
                    return Err(format!("{at}.{name}: more than {MAX_CHANGES} changes"));
                }
                for (i, change) in list.iter().enumerate() {
                    factor(&format!("{at}.{name}[{i}].factor"), change.factor, 0.0, MAX_FACTOR)?;
                }
            }
            if let Some(price) = &segment.price {
                factor(&format!("{at}.price.ratio"), price.ratio, 1.0 / MAX_FACTOR, MAX_FACTOR)?;
            }
            if let Some(discount) = &segment.discount {
                factor(&format!("{at}.discount.factor"), discount.factor, 0.0, 1.0)?;
            }
            check_response(&format!("{at}.response"), &segment.response)?;
            if segment.diversions.len() > MAX_CHANGES {
                return Err(format!("{at}.diversions: more than {MAX_CHANGES}"));
            }
            let mut share = 0.0;
            for (i, diversion) in segment.diversions.iter().enumerate() {
                if diversion.new_plan >= self.new_plans.len() {
                    return Err(format!("{at}.diversions[{i}].new_plan: no new plan {}", diversion.new_plan));
                }
                factor(&format!("{at}.diversions[{i}].share"), diversion.share, 0.0, 1.0)?;
                share += diversion.share;
            }
            factor(&format!("{at}.diversions (shares together)"), share, 0.0, 1.0 + 1e-9)?;
        }
        for (index, plan) in self.new_plans.iter().enumerate() {
            let at = format!("new_plans[{index}]");
            if plan.like >= segments {
                return Err(format!("{at}.like: no segment {}", plan.like));
            }
            factor(&format!("{at}.mrr_major_units"), plan.mrr_major_units, 0.0, crate::twin::MAX_MRR_MAJOR_UNITS)?;
            factor(&format!("{at}.price_ratio"), plan.price_ratio, 0.0, MAX_FACTOR)?;
            check_response(&format!("{at}.response"), &plan.response)?;
        }
        for (index, migration) in self.migrations.iter().enumerate() {
            let at = format!("migrations[{index}]");
            if migration.from_segment >= segments || migration.to_segment >= segments {
                return Err(format!("{at}: no such segment"));
            }
            if migration.from_segment == migration.to_segment {
                return Err(format!("{at}: a segment cannot migrate to itself"));
            }
            factor(&format!("{at}.share"), migration.share, 0.0, 1.0)?;
            factor(&format!("{at}.price_factor"), migration.price_factor, 0.0, MAX_FACTOR)?;
            let receives = self.migrations.iter().any(|m| m.to_segment == migration.from_segment);
            if receives {
                return Err(format!("{at}: a segment that receives migrants cannot also send them"));
            }
            let twice = self.migrations[..index]
                .iter()
                .any(|m| m.from_segment == migration.from_segment && m.month == migration.month);
            if twice {
                return Err(format!("{at}: the segment already migrates in that month"));
            }
        }
        Ok(())
    }

    /// The order segments run in on each path: every segment that sends migrants before those that
    /// receive them, and the twin's segments before the new plans (which receive diverted arrivals).
    pub(crate) fn order(&self, segments: usize) -> Vec<usize> {
        let sends = |index: usize| self.migrations.iter().any(|m| m.from_segment == index);
        let mut order: Vec<usize> = (0..segments).filter(|i| sends(*i)).collect();
        order.extend((0..segments).filter(|i| !sends(*i)));
        order.extend(segments..segments + self.new_plans.len());
        order
    }
}

fn check_response(field: &str, response: &ResponseDraws) -> Result<(), String> {
    let (low, high) = crate::twin::ELASTICITY_RANGE;
    response.churn_elasticity.check(&format!("{field}.churn_elasticity"), low, high)?;
    response.acquisition_elasticity.check(&format!("{field}.acquisition_elasticity"), low, high)?;
    response.shock.check(&format!("{field}.shock"), 0.0, 1.0)
}

/// The product of the factors that apply in `month`.
pub(crate) fn factor_in(factors: &[MonthlyFactor], month: u32) -> f64 {
    factors.iter().filter(|f| f.from <= month && month < f.until).map(|f| f.factor).product()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_triangular_draw_inverts_its_cdf() {
        let draw = Draw::Triangular { low: 0.0, mode: 1.0, high: 3.0 };
        // F(mode) = (mode - low) / (high - low) = 1/3.
        assert!((draw.value(1.0 / 3.0, 0.0) - 1.0).abs() < 1e-12);
        assert_eq!(draw.value(0.0, 0.0), 0.0);
        // F(x) = 1 - (high - x)^2 / ((high - low)(high - mode)) above the mode: F(2) = 1 - 1/6.
        assert!((draw.value(5.0 / 6.0, 0.0) - 2.0).abs() < 1e-12);
        // Its mean over a fine grid of u is (low + mode + high) / 3.
        let n = 100_000;
        let mean = (0..n).map(|i| draw.value((i as f64 + 0.5) / n as f64, 0.0)).sum::<f64>() / n as f64;
        assert!((mean - draw.mean()).abs() < 1e-4, "{mean}");
    }

    #[test]
    fn a_plan_with_a_segment_sending_and_receiving_migrants_is_refused() {
        let mut plan = Plan::baseline(3);
        let migration = Migration { from_segment: 0, to_segment: 1, month: 2, share: 0.1, price_factor: 0.9 };
        plan.migrations = vec![migration, Migration { from_segment: 1, to_segment: 2, ..migration }];
        let error = plan.check(3).expect_err("refused");
        assert!(error.contains("receives migrants"), "{error}");
        plan.migrations.pop();
        assert_eq!(plan.check(3), Ok(()));
        assert_eq!(plan.order(3), vec![0, 1, 2]);
        plan.migrations[0] = Migration { from_segment: 2, to_segment: 0, ..migration };
        assert_eq!(plan.order(3), vec![2, 0, 1]);
    }

    #[test]
    fn factors_multiply_where_their_months_overlap() {
        let factors =
            [MonthlyFactor { from: 2, until: 6, factor: 1.5 }, MonthlyFactor { from: 4, until: NEVER, factor: 0.5 }];
        let by_month: Vec<f64> = (0..8).map(|m| factor_in(&factors, m)).collect();
        assert_eq!(by_month, vec![1.0, 1.0, 1.5, 1.5, 0.75, 0.75, 0.5, 0.5]);
    }
}
