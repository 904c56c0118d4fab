//! Kaplan-Meier: the non-parametric retention curve over the observed range, with 95% intervals by
//! the log-log ("exponential Greenwood") transform, computed as lifelines' `KaplanMeierFitter` does.
//!
//! At every renewal age t with n_t at risk and d_t churned, S(t) = product over ages up to t of
//! (1 - d_i / n_i), accumulated as lifelines does, as the exponential of a sum of ln(n - d) - ln n.
//! Greenwood's sum V(t) = sum of d_i / (n_i (n_i - d_i)), a term with n_i = d_i counting 0 as in
//! lifelines. With v = ln S(t) and z the 97.5% normal quantile, the bounds are
//! exp(-exp(ln(-v) +- z sqrt(V) / v)): the interval of ln(-ln S) is symmetric, so the bounds stay in
//! [0, 1]. Where S(t) = 1 (no churn yet) lifelines' 0/0 becomes 1 for both bounds, and where S(t) = 0
//! both bounds are 0; the same here.
//!
//! Ties follow lifelines: subscribers censored after t renewals are at risk at renewal t, together with
//! those that churned there. A Kaplan-Meier curve cannot project past the oldest renewal observed.

use super::data::RenewalData;
use crate::model::special::NORMAL_QUANTILE_97_5;

/// One renewal age of a Kaplan-Meier curve.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct KaplanMeierRow {
    /// The renewal age t.
    pub renewals: u32,
    /// Subscribers at risk at renewal t: churned there or later, or censored there or later.
    pub at_risk: u64,
    /// Subscribers that churned at renewal t.
    pub churned: u64,
    /// Subscribers censored after t renewals.
    pub censored: u64,
    /// The estimated share still subscribed after t renewals.
    pub survival: f64,
    pub survival_lower_95: f64,
    pub survival_upper_95: f64,
}

/// The Kaplan-Meier curve of a segment: one row for every renewal age from 1 to the oldest observed.
pub fn kaplan_meier(data: &RenewalData) -> Vec<KaplanMeierRow> {
    let mut ln_survival = 0.0;
    let mut greenwood_sum = 0.0;
    let mut rows = Vec::new();
    for (renewals, at_risk, churned) in data.hazard_table() {
        let (n, d) = (at_risk as f64, churned as f64);
        if churned > 0 {
            // ln(n - d) - ln n, minus infinity once everyone at risk has churned.
            ln_survival += if churned == at_risk { f64::NEG_INFINITY } else { libm::log(n - d) - libm::log(n) };
            if churned < at_risk {
                greenwood_sum += d / (n * (n - d));
            }
        }
        let survival = libm::exp(ln_survival);
        let (survival_lower_95, survival_upper_95) = log_log_bounds(ln_survival, greenwood_sum);
        rows.push(KaplanMeierRow {
            renewals,
            at_risk,
            churned,
            censored: data.censored_at(renewals),
            survival,
            survival_lower_95,
            survival_upper_95,
        });
    }
    rows
}

/// The 95% bounds from v = ln S and Greenwood's sum, as lifelines' `_bounds` computes them.
fn log_log_bounds(ln_survival: f64, greenwood_sum: f64) -> (f64, f64) {
    if ln_survival == 0.0 {
        return (1.0, 1.0);
    }
    if ln_survival == f64::NEG_INFINITY {
        return (0.0, 0.0);
    }
    let centre = libm::log(-ln_survival);
    let spread = NORMAL_QUANTILE_97_5 * libm::sqrt(greenwood_sum) / ln_survival;
    (libm::exp(-libm::exp(centre - spread)), libm::exp(-libm::exp(centre + spread)))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::retention::data::RenewalAgeCounts;

    #[test]
    fn a_small_table_with_ties_matches_the_hand_computation() {
        // 9 observed at renewal 1 (2 more still in their first period): 2 churn, 1 censored; 6 at
        // renewal 2: 1 churns, 1 censored; 4 at renewal 3: 3 churn; 1 censored at 5.
        let data = RenewalData::from_counts(&[
            RenewalAgeCounts { renewals: 0, churned: 0, censored: 2 },
            RenewalAgeCounts { renewals: 1, churned: 2, censored: 1 },
            RenewalAgeCounts { renewals: 2, churned: 1, censored: 1 },
            RenewalAgeCounts { renewals: 3, churned: 3, censored: 0 },
            RenewalAgeCounts { renewals: 5, churned: 0, censored: 1 },
        ])
        .unwrap();
        let rows = kaplan_meier(&data);
        let at_risk: Vec<u64> = rows.iter().map(|row| row.at_risk).collect();
        assert_eq!(at_risk, vec![9, 6, 4, 1, 1]);
        // S = 7/9, then 7/9 * 5/6, then * 1/4; unchanged at 4 and 5.
        let expected = [7.0 / 9.0, 35.0 / 54.0, 35.0 / 216.0, 35.0 / 216.0, 35.0 / 216.0];
        for (row, survival) in rows.iter().zip(expected) {
            assert!((row.survival - survival).abs() < 1e-15, "{row:?}");
        }
        // The bounds lifelines 0.30.3 prints for this data (durations 0,0,1,1,1,2,2,3,3,3,5).
        assert!(
            (rows[0].survival_lower_95 - 0.364751).abs() < 5e-7 && (rows[0].survival_upper_95 - 0.939296).abs() < 5e-7
        );
        assert!(
            (rows[2].survival_lower_95 - 0.008133).abs() < 5e-7 && (rows[2].survival_upper_95 - 0.502414).abs() < 5e-7
        );
    }

    #[test]
    fn no_churn_yet_gives_bounds_of_one_and_everyone_gone_gives_bounds_of_zero() {
        let data = RenewalData::from_counts(&[
            RenewalAgeCounts { renewals: 1, churned: 0, censored: 3 },
            RenewalAgeCounts { renewals: 2, churned: 2, censored: 0 },
        ])
        .unwrap();
        let rows = kaplan_meier(&data);
        assert_eq!((rows[0].survival, rows[0].survival_lower_95, rows[0].survival_upper_95), (1.0, 1.0, 1.0));
        assert_eq!((rows[1].survival, rows[1].survival_lower_95, rows[1].survival_upper_95), (0.0, 0.0, 0.0));
        assert!(kaplan_meier(&RenewalData::from_counts(&[]).unwrap()).is_empty());
    }
}
