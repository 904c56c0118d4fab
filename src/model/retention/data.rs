//! The input of every retention model: one segment's churn and censoring counts by renewal age.
//!
//! Built once from caller-supplied rows ([`RenewalData::from_counts`]) or from a cohort's survivor
//! curve ([`RenewalData::from_survivor_curve`]) and checked there, so that the fitting code can trust
//! it. Internally it is dense: one entry per renewal age from 1 to the oldest age seen, holding the
//! number at risk and the number that churned, which is all the hazard form of every likelihood
//! here needs.

use super::RetentionError;

/// The oldest renewal age accepted. The data keeps one counter per age, so this bounds the memory a
/// mistaken age (days given as months, say) can claim; it is 833 years of monthly renewals.
pub const MAX_RENEWAL_AGE: u32 = 10_000;

/// What happened at one renewal age in one segment, as a caller reports it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RenewalAgeCounts {
    /// The renewal age t: the number of billing periods the subscriptions began.
    pub renewals: u32,
    /// Subscribers that churned at renewal t (ended during or at the end of their t-th period).
    pub churned: u64,
    /// Subscribers still subscribed after t renewals when the data ends (right-censored at t).
    pub censored: u64,
}

/// A segment's renewal-count survival data, checked and aggregated by renewal age.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RenewalData {
    /// Index t - 1 holds the number that churned at renewal t.
    churned_by_age: Vec<u64>,
    /// Index t - 1 holds the number still subscribed after t renewals at the end of the data.
    censored_by_age: Vec<u64>,
    /// Subscribers still in their first billing period: counted, but they carry no information.
    censored_before_first_renewal: u64,
}

impl RenewalData {
    /// Aggregates rows (in any order, repeated ages added up) into checked data.
    pub fn from_counts(rows: &[RenewalAgeCounts]) -> Result<RenewalData, RetentionError> {
        let mut data =
            RenewalData { churned_by_age: Vec::new(), censored_by_age: Vec::new(), censored_before_first_renewal: 0 };
        for row in rows {
            if row.renewals > MAX_RENEWAL_AGE {
                return Err(RetentionError::RenewalAgeTooLarge { renewals: row.renewals, limit: MAX_RENEWAL_AGE });
            }
            if row.renewals == 0 {
                if row.churned > 0 {
                    return Err(RetentionError::ChurnAtRenewalZero { churned: row.churned });
                }
                data.censored_before_first_renewal = data
                    .censored_before_first_renewal
                    .checked_add(row.censored)
                    .ok_or(RetentionError::CountOverflow)?;
                continue;
            }
            if row.churned == 0 && row.censored == 0 {
                continue;
            }
            let index = row.renewals as usize - 1;
            if data.churned_by_age.len() <= index {
                data.churned_by_age.resize(index + 1, 0);
                data.censored_by_age.resize(index + 1, 0);
            }
            data.churned_by_age[index] =
                data.churned_by_age[index].checked_add(row.churned).ok_or(RetentionError::CountOverflow)?;
            data.censored_by_age[index] =
                data.censored_by_age[index].checked_add(row.censored).ok_or(RetentionError::CountOverflow)?;
        }
        // The total must fit too, since the number at risk at the first renewal is that total.
        let mut total: u64 = data.censored_before_first_renewal;
        for count in data.churned_by_age.iter().chain(&data.censored_by_age) {
            total = total.checked_add(*count).ok_or(RetentionError::CountOverflow)?;
        }
        Ok(data)
    }

    /// Builds the data of one cohort from its survivor curve: `survivors[0]` subscribers started, and
    /// `survivors[t]` were still subscribed after t renewals. The difference from one age to the next
    /// churned at that renewal, and the survivors at the last age are censored there (the layout of
    /// Fader & Hardie's worked example).
    pub fn from_survivor_curve(survivors: &[u64]) -> Result<RenewalData, RetentionError> {
        let mut rows = Vec::with_capacity(survivors.len());
        for (age_index, pair) in survivors.windows(2).enumerate() {
            let renewals = u32::try_from(age_index + 1).unwrap_or(u32::MAX);
            let (before, after) = (pair[0], pair[1]);
            if after > before {
                return Err(RetentionError::SurvivorsIncrease {
                    renewals,
                    survivors_before: before,
                    survivors_after: after,
                });
            }
            rows.push(RenewalAgeCounts { renewals, churned: before - after, censored: 0 });
        }
        let last_age = u32::try_from(survivors.len().saturating_sub(1)).unwrap_or(u32::MAX);
        if let Some(&last) = survivors.last() {
            rows.push(RenewalAgeCounts { renewals: last_age, churned: 0, censored: last });
        }
        RenewalData::from_counts(&rows)
    }

    /// The oldest renewal age with any subscriber (0 when nobody reached a renewal).
    pub fn oldest_renewal_age(&self) -> u32 {
        // The vectors never grow past MAX_RENEWAL_AGE entries, so the length fits in a u32.
        u32::try_from(self.churned_by_age.len()).unwrap_or(MAX_RENEWAL_AGE)
    }

    /// Subscribers that churned at renewal `renewals` (0 for ages outside the data).
    pub fn churned_at(&self, renewals: u32) -> u64 {
        renewals.checked_sub(1).and_then(|index| self.churned_by_age.get(index as usize)).copied().unwrap_or(0)
    }

    /// Subscribers censored after `renewals` renewals, including those censored at 0.
    pub fn censored_at(&self, renewals: u32) -> u64 {
        match renewals.checked_sub(1) {
            None => self.censored_before_first_renewal,
            Some(index) => self.censored_by_age.get(index as usize).copied().unwrap_or(0),
        }
    }

    /// All subscribers of the segment, including those still in their first period.
    pub fn subscribers(&self) -> u64 {
        self.subscribers_at_risk_at_first_renewal() + self.censored_before_first_renewal
    }

    /// The subscribers observed at renewal 1 or later: those the likelihood hears from.
    pub fn subscribers_at_risk_at_first_renewal(&self) -> u64 {
        self.churned_by_age.iter().chain(&self.censored_by_age).sum()
    }

    /// All churners of the segment.
    pub fn churners(&self) -> u64 {
        self.churned_by_age.iter().sum()
    }

    /// For every renewal age t from 1 to the oldest: (t, at risk at t, churned at t). At risk at t are
    /// those that churned at t or later or were censored at t or later.
    pub fn hazard_table(&self) -> Vec<(u32, u64, u64)> {
        let mut at_risk = self.subscribers_at_risk_at_first_renewal();
        let mut table = Vec::with_capacity(self.churned_by_age.len());
        for (age_index, (&churned, &censored)) in self.churned_by_age.iter().zip(&self.censored_by_age).enumerate() {
            let renewals = u32::try_from(age_index + 1).unwrap_or(MAX_RENEWAL_AGE);
            table.push((renewals, at_risk, churned));
            at_risk -= churned + censored;
        }
        table
    }

    /// Subscriber-renewals at risk: the sum over ages of the number at risk (the geometric model's
    /// exposure).
    pub fn renewals_at_risk(&self) -> u64 {
        self.hazard_table().iter().map(|&(_, at_risk, _)| at_risk).sum()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(renewals: u32, churned: u64, censored: u64) -> RenewalAgeCounts {
        RenewalAgeCounts { renewals, churned, censored }
    }

    #[test]
    fn rows_in_any_order_with_repeats_add_up_by_age() {
        let data = RenewalData::from_counts(&[row(3, 1, 2), row(1, 4, 0), row(3, 2, 0), row(0, 0, 5)]).unwrap();
        assert_eq!(data.oldest_renewal_age(), 3);
        assert_eq!((data.churned_at(1), data.churned_at(2), data.churned_at(3), data.churned_at(4)), (4, 0, 3, 0));
        assert_eq!((data.censored_at(0), data.censored_at(3)), (5, 2));
        assert_eq!((data.subscribers(), data.subscribers_at_risk_at_first_renewal(), data.churners()), (14, 9, 7));
        // At risk: 9 at renewal 1, then 9 - 4 = 5 at renewals 2 and 3.
        assert_eq!(data.hazard_table(), vec![(1, 9, 4), (2, 5, 0), (3, 5, 3)]);
        assert_eq!(data.renewals_at_risk(), 19);
    }

    #[test]
    fn a_churn_at_renewal_zero_is_refused_with_its_count() {
        assert_eq!(RenewalData::from_counts(&[row(0, 3, 1)]), Err(RetentionError::ChurnAtRenewalZero { churned: 3 }));
    }

    #[test]
    fn an_absurd_renewal_age_is_refused_before_any_memory_is_claimed() {
        assert_eq!(
            RenewalData::from_counts(&[row(4_000_000_000, 1, 0)]),
            Err(RetentionError::RenewalAgeTooLarge { renewals: 4_000_000_000, limit: MAX_RENEWAL_AGE })
        );
    }

    #[test]
    fn counts_that_wrap_around_are_refused() {
        assert_eq!(RenewalData::from_counts(&[row(1, u64::MAX, 0), row(2, 1, 0)]), Err(RetentionError::CountOverflow));
        assert_eq!(RenewalData::from_counts(&[row(1, u64::MAX, 1)]), Err(RetentionError::CountOverflow));
    }

    #[test]
    fn a_survivor_curve_becomes_churners_by_age_and_censored_survivors_at_the_end() {
        let data = RenewalData::from_survivor_curve(&[10, 7, 7, 4]).unwrap();
        assert_eq!(data.hazard_table(), vec![(1, 10, 3), (2, 7, 0), (3, 7, 3)]);
        assert_eq!(data.censored_at(3), 4);
        assert_eq!(
            RenewalData::from_survivor_curve(&[10, 7, 8]),
            Err(RetentionError::SurvivorsIncrease { renewals: 2, survivors_before: 7, survivors_after: 8 })
        );
        // A one-point curve is a cohort still in its first period.
        let first_period = RenewalData::from_survivor_curve(&[5]).unwrap();
        assert_eq!((first_period.subscribers(), first_period.subscribers_at_risk_at_first_renewal()), (5, 0));
    }
}
